#!/usr/bin/env bash
# abkit audit over two LDIF snapshots of $ABKIT_BENCH_AUDIT_PEOPLE people each (default 100,000:
# enabled user-forest accounts and their mapped, SIP-enabled resource accounts) plus the demo
# address book folder: every check reads every object. Prints the time per run (Go benchmark,
# LDIF generation excluded) and the peak RSS of the process (generation included).
set -euo pipefail
cd "$(dirname "$0")/../.."
people=${ABKIT_BENCH_AUDIT_PEOPLE:-100000}
bin=$(mktemp "${TMPDIR:-/tmp}/abkit-audit-bench.XXXXXX")
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./internal/cli
cd internal/cli
echo "abkit audit, 2 snapshots x $people people:"
ABKIT_BENCH_AUDIT_PEOPLE=$people /usr/bin/time -f "peak RSS %M KB, wall %e s (with LDIF generation)" \
  "$bin" -test.run '^$' -test.bench '^BenchmarkAuditSnapshots$' -test.benchtime 1x -test.benchmem 2>&1 |
  grep -E 'BenchmarkAuditSnapshots|peak RSS|FAIL|panic'
