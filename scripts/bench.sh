#!/usr/bin/env bash
# Runs every benchmark script in scripts/bench/ (each prints its own figures).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
for b in scripts/bench/*.sh; do
  [ -e "$b" ] || continue
  echo "== $b"
  bash "$b"
done
