# abkit — see README.md. Every target works on a fresh machine with Go installed; `make test` is
# exactly what CI runs (.ci/run).
GO       ?= go
BIN      ?= bin/abkit
FUZZTIME ?= 30s

.PHONY: build test test-unit test-integration fuzz fuzz-smoke bench lint demo dist man clean

# The binary says which commit it is (abkit --version) even where GOFLAGS has -buildvcs=false.
STAMP = -X github.com/abkit/abkit/internal/cli.commit=$(shell git rev-parse HEAD 2>/dev/null)

build:
	$(GO) build -ldflags "$(STAMP)" -o $(BIN) ./cmd/abkit

# Everything CI runs: lint, the test servers (slapd, Samba), unit and integration tests, fuzz smoke.
test: lint
	bash scripts/test.sh

# Unit tests only: no servers are started; integration tests say why they skip (fail under CI=true).
test-unit:
	$(GO) test -count=1 ./...

# Start the test servers and run only the integration tests.
test-integration:
	TEST_RUN='Integration' bash scripts/test.sh

# Run every fuzz target for FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

fuzz-smoke:
	FUZZTIME=20000x bash scripts/fuzz.sh

# Benchmarks behind the README's speed and memory figures.
bench: build
	bash scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	bash scripts/staticcheck.sh

# Release archives for windows/linux/darwin x amd64/arm64 in dist/, version stamped, with man
# pages, completions and SHA-256 sums (VERSION=v1.2.3 to name the release; see scripts/dist.sh).
dist:
	bash scripts/dist.sh

# Man pages and shell completions from the command tree, into out/man and out/completions.
man:
	$(GO) run ./internal/cli/gendocs -man out/man -completions out/completions

# The main job on the committed sample data, no server needed.
demo: build
	bash scripts/demo.sh

clean:
	rm -rf bin dist
