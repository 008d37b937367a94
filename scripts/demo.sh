#!/usr/bin/env bash
# `make demo`: abkit's main job, `abkit audit`, on the committed sample data in testdata/demo (two
# forests as LDIF snapshots and a week of address book files with planted problems). No server is
# needed. The reports are written to $DEMO_OUT (default out/demo); the findings are shown here.
# `abkit audit` exits 1 when it finds problems, which is the expected outcome on this data.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-bin/abkit}
out=${DEMO_OUT:-out/demo}
if ! [ -x "$bin" ]; then
  echo "demo: $bin is missing: run 'make build' first (make demo does)" >&2
  exit 2
fi
mkdir -p "$out"
marker=$(mktemp "${TMPDIR:-/tmp}/abkit-demo.XXXXXX")
trap 'rm -f "$marker"' EXIT
sleep 1 # file times have one-second resolution on some file systems

echo "\$ $bin --config testdata/demo/abkit.yaml audit --out $out --history $out/history -o table"
set +e
"$bin" --config testdata/demo/abkit.yaml audit --out "$out" --history "$out/history" -o table
code=$?
set -e
case $code in
  1) echo "exit status 1: findings (expected: the demo data has planted problems)" ;;
  0) echo "exit status 0: no findings (unexpected on the demo data)" >&2; exit 1 ;;
  *) echo "exit status $code: the audit could not complete" >&2; exit "$code" ;;
esac

echo
echo "Findings (one CSV per check in $out):"
for csv in $(find "$out" -maxdepth 1 -name 'abkit-audit-*.csv' -newer "$marker" | sort); do
  [ "$(wc -l <"$csv")" -gt 1 ] || continue
  echo
  echo "== $(basename "$csv")"
  tail -n +2 "$csv" | cut -d, -f2- | sed 's/^/  /'
done

echo
echo "Reports written:"
find "$out" -maxdepth 1 -type f -newer "$marker" | sort | sed 's/^/  /'
echo "Open the HTML report in a browser; abkit.prom is for the node exporter's textfile collector."
