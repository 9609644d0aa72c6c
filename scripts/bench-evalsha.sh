#!/usr/bin/env bash
# scripts/bench-evalsha.sh: EVALSHA side by side with redis-server (issue 14's bar: server CPU
# per request at most Redis'): a read script (GET of KEYS[1]) and a write script (SET KEYS[1]
# ARGV[1]), each at -P 1 and -P 16, 100k keys written beforehand so every GET hits. It is
# bench.sh with these two tests: same pinning (server on SERVER_CPU, redis-benchmark on
# CLIENT_CPU), servers alternating A,B per run, 5 rounds, medians, CPU per request from
# /proc/PID/stat. Writes bench-results/YYYY-MM-DD-HHMM-evalsha.md and its .png chart.
#
# Usage: scripts/bench-evalsha.sh [--quick]   (every bench.sh variable applies, e.g. SLOTD_BIN)
# Smoke test of the plumbing without slotd (a few seconds):
#   SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 \
#     BENCH_OUT_DIR=/tmp/bench-smoke scripts/bench-evalsha.sh --quick --slotd-redis-args
set -euo pipefail
export BENCH_TESTS="evalsha-get evalsha-set"
export BENCH_REPORT_TAG=evalsha
exec "$(dirname "${BASH_SOURCE[0]}")/bench.sh" "$@"
