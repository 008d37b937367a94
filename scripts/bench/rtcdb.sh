#!/usr/bin/env bash
# rtcdb figures: the UserData address scan (throughput) and a 50-row delete through the real
# go-mssqldb driver and the test responder (client and protocol overhead only: no SQL Server).
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench 'BenchmarkFindAddresses|BenchmarkDelete50' -benchtime "${BENCHTIME:-2s}" ./rtcdb/
