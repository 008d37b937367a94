#!/usr/bin/env bash
# Runs staticcheck, installing the pinned version from the Go module proxy when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${STATICCHECK_VERSION:-v0.8.2}
bin="$(go env GOPATH)/bin/staticcheck"
if ! [ -x "$bin" ] || ! "$bin" -version 2>/dev/null | grep -q "${version#v}"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${version}"
fi
"$bin" ./...
