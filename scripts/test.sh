#!/usr/bin/env bash
# What `make test` and CI run: start every test server (testdata/*/server.sh), run all tests with
# the servers' connection variables exported, run a short fuzz smoke, stop exactly the servers
# started here.
#
# Server convention: `testdata/<name>/server.sh start STATEDIR` installs what it needs, starts the
# server in STATEDIR and prints KEY=VALUE lines (the environment the tests read);
# `testdata/<name>/server.sh stop STATEDIR` stops only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

state=$(mktemp -d "${TMPDIR:-/tmp}/abkit-test.XXXXXX")
started=()
cleanup() {
  for name in "${started[@]}"; do
    bash "testdata/$name/server.sh" stop "$state/$name" || true
  done
  rm -rf "$state"
}
trap cleanup EXIT

for script in testdata/*/server.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$(dirname "$script")")
  mkdir -p "$state/$name"
  echo "== starting test server: $name"
  if env_lines=$(bash "$script" start "$state/$name"); then
    started+=("$name")
    while IFS= read -r line; do
      [[ "$line" == *=* ]] && export "${line?}" && echo "   ${line%%=*} set"
    done <<<"$env_lines"
  else
    echo "!! test server $name did not start" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
done

# The HTML report test renders in headless Chromium (Debian package chromium).
if [ -f scripts/ensure-chromium.sh ]; then
  bash scripts/ensure-chromium.sh || { echo "!! chromium could not be installed" >&2; [ "${CI:-}" != "true" ] || exit 1; }
fi

# Windows: compile the Windows-only code and build the release archive of one cross target with
# scripts/dist.sh (version stamp checked), a fast stand-in for the full `make dist`.
echo "== GOOS=windows go vet ./..."
GOOS=windows go vet ./...
echo "== dist check: windows/amd64"
VERSION=ci-check TARGETS=windows/amd64 DIST_DIR="$state/dist" bash scripts/dist.sh

# The race detector (-race below) needs cgo, hence a C compiler (Debian packages gcc, libc6-dev).
if ! command -v gcc >/dev/null; then
  echo "== installing gcc (the race detector needs cgo)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev; } >&2 ||
    { echo "!! gcc could not be installed: go test -race cannot run" >&2; exit 1; }
fi
export CGO_ENABLED=1

run=${TEST_RUN:-}
# -race: the race detector runs on every test (multiplexed searches, apply workers).
# -p 1: packages share the test servers; one package at a time keeps one package's planted
# objects out of another's counts.
rc=0
go test -race -count=1 -p 1 ${run:+-run "$run"} ./... || rc=$?
# A test server that died mid-run (slapd 2.5.13 can crash in its RFC 5805 code, see
# ldapsync/txn.go) fails every later test that uses it: name it, so the first failure is clear.
for pidfile in "$state"/*/slapd.pid "$state"/*/slapd/slapd.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || echo "!! slapd $pid (${pidfile#"$state"/}) is no longer running: it died during the tests (see dmesg)" >&2
done
[ "$rc" -eq 0 ] || exit "$rc"
# Peak-RSS assertions (hostile and large address book files) skip under -race, whose shadow
# memory multiplies a process's footprint: they run here without it.
if [ -z "$run" ]; then
  echo "== peak-RSS tests without -race"
  go test -count=1 -v -run '^(TestAbsApplyMemory|TestAbsHostileFilesMemory)$' ./internal/cli/ >"$state/memtests.log" ||
    { cat "$state/memtests.log"; exit 1; }
  grep -E '^(--- |ok)|peak RSS' "$state/memtests.log"
fi
if [ -z "$run" ]; then
  # A count, not a duration: Go 1.26's fuzz coordinator can fail a duration-bounded run with
  # "context deadline exceeded" at the deadline though nothing was found (golang/go#75804).
  FUZZTIME=${SMOKE_FUZZTIME:-20000x} bash scripts/fuzz.sh
fi
