#!/usr/bin/env bash
# scripts/bench.sh: side-by-side benchmark of slotd and redis-server on one machine, in one run.
#
# Usage: scripts/bench.sh [--quick] [--slotd-redis-args]
#   --quick             3 rounds instead of 5, request counts divided by 10.
#   --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
#                       SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
# Environment:
#   SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
#   SLOTD_ARGS        replaces the slotd arguments (default: --port $SLOTD_PORT --server-threads 1)
#   REDIS_BIN         default /usr/bin/redis-server
#   REDIS_PORT        default 6450;   SLOTD_PORT  default 6451
#   SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
#   BENCH_OUT_DIR     default bench-results (relative to the repository root)
#   BENCH_N_P1, BENCH_N_P16, BENCH_N_FILL  request counts before --quick's division
#                     (defaults 200000, 2000000, 500000); small values make a smoke test
# Smoke test of the plumbing without slotd (tiny, a few seconds):
#   SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 BENCH_N_FILL=50000 \
#     BENCH_OUT_DIR=/tmp/bench-smoke scripts/bench.sh --quick --slotd-redis-args
#
# Each server runs alone on SERVER_CPU while redis-benchmark runs on CLIENT_CPU. For every test
# (SET, GET, MSET) and pipeline depth (1, 16) the servers alternate A,B for each round; the
# report holds medians. CPU per request is the server's utime+stime delta (/proc/PID/stat)
# over the run divided by the requests sent. Output: bench-results/YYYY-MM-DD-HHMM-bench.md
# and a .png chart beside it (python3 + matplotlib, installed with pip when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
SLOTD_REDIS_ARGS=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --slotd-redis-args) SLOTD_REDIS_ARGS=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
REDIS_PORT=${REDIS_PORT:-6450}
SLOTD_PORT=${SLOTD_PORT:-6451}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}

CLIENTS=50
KEYSPACE=100000
TESTS=(set get mset)
PIPELINES=(1 16)
ROUNDS=5
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
N_FILL=${BENCH_N_FILL:-500000}
if [[ $QUICK == 1 ]]; then
    ROUNDS=3
    N_P1=$((N_P1 / 10))
    N_P16=$((N_P16 / 10))
    N_FILL=$((N_FILL / 10))
fi
# Bounds on every wait: server start, server stop, one redis-benchmark run.
START_WAIT_TENTHS=100
STOP_WAIT_TENTHS=100
RUN_TIMEOUT_S=300

CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/slotd-bench.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
declare -A PID=()
declare -A CMDLINE=()

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# The one place that says how each server is started (arguments only; the binary and the
# taskset prefix are added by start_server).
redis_args() { # port dir
    echo "--port $1 --bind 127.0.0.1 --save '' --appendonly no --dir $2"
}
slotd_args() { # port dir
    if [[ -n ${SLOTD_ARGS:-} ]]; then
        echo "$SLOTD_ARGS"
    elif [[ $SLOTD_REDIS_ARGS == 1 ]]; then
        redis_args "$1" "$2"
    else
        echo "--port $1 --server-threads 1"
    fi
}

# shellcheck source-path=SCRIPTDIR source=lib/bench-common.sh
. "$(dirname "$0")/lib/bench-common.sh"

bench_cmd() { # port test pipeline requests
    echo "taskset -c $CLIENT_CPU redis-benchmark -h 127.0.0.1 -p $1 -c $CLIENTS" \
        "-r $KEYSPACE -t $2 -P $3 -n $4 --csv"
}

# One redis-benchmark run against a running server; appends a row to RUNS_TSV.
run_one() { # name port test pipeline requests round
    local name=$1 port=$2 test=$3 p=$4 n=$5 round=$6 before after csv
    before=$(cpu_ticks "${PID[$name]}")
    # shellcheck disable=SC2046 # bench_cmd's words are the command line, split on purpose
    csv=$(timeout -k 5 "$RUN_TIMEOUT_S" $(bench_cmd "$port" "$test" "$p" "$n"))
    after=$(cpu_ticks "${PID[$name]}")
    # CSV row: "test","rps","avg","min","p50","p95","p99","max"
    awk -F'","' -v name="$name" -v test="$test" -v p="$p" -v round="$round" \
        -v n="$n" -v ticks=$((after - before)) -v hz="$CLK_TCK" '
        NR == 2 {
            gsub(/"/, "", $0); split($0, f, ",")
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\n", name, test, p, round, f[2], f[5], f[7],
                ticks / hz * 1e6 / n
        }' <<<"$csv" >>"$RUNS_TSV"
    tail -n 1 "$RUNS_TSV" | awk -F'\t' '{ printf "  %-5s %-4s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req\n",
        $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

requests_for() { [[ $1 == 1 ]] && echo "$N_P1" || echo "$N_P16"; }

# Fills the keyspace so GET hits from the first round on, the same way for both servers.
fill() { # port
    timeout -k 5 "$RUN_TIMEOUT_S" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 \
        -p "$1" -c "$CLIENTS" -r "$KEYSPACE" -t set -P 16 -n "$N_FILL" -q >/dev/null
}

# ---- build ------------------------------------------------------------------------------
if [[ -z ${SLOTD_BIN:-} ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
[[ -x $SLOTD_BIN ]] || { echo "bench.sh: no executable at SLOTD_BIN=$SLOTD_BIN" >&2; exit 1; }
[[ -x $REDIS_BIN ]] || { echo "bench.sh: no executable at REDIS_BIN=$REDIS_BIN" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "bench.sh: redis-benchmark missing" >&2; exit 1; }

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
SERVERS=(redis slotd)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
declare -A PORT=([redis]=$REDIS_PORT [slotd]=$SLOTD_PORT)
declare -A ARGS=(
    [redis]="$(redis_args "$REDIS_PORT" "$WORK/redis")"
    [slotd]="$(slotd_args "$SLOTD_PORT" "$WORK/slotd")"
)
log "rounds=$ROUNDS requests: P1=$N_P1 P16=$N_P16; work dir $WORK"
for name in "${SERVERS[@]}"; do
    start_server "$name" "${BIN[$name]}" "${PORT[$name]}" "${ARGS[$name]}"
    fill "${PORT[$name]}"
done
# Rounds outermost so that slow drifts of the shared machine hit both servers alike.
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round/$ROUNDS"
    for test in "${TESTS[@]}"; do
        for p in "${PIPELINES[@]}"; do
            n=$(requests_for "$p")
            for name in "${SERVERS[@]}"; do
                run_one "$name" "${PORT[$name]}" "$test" "$p" "$n" "$round"
            done
        done
    done
done
for name in "${SERVERS[@]}"; do stop_server "$name"; done

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-bench.md"
CHART="$OUT_DIR/$START_STAMP-bench.png"
MEDIANS="$WORK/medians.tsv"

# Median per (server, test, pipeline) of each measured column.
awk -F'\t' '
    { k = $1 "\t" $2 "\t" $3; n[k]++; for (c = 5; c <= 8; c++) v[k, c, n[k]] = $c }
    function median(k, c,    m, i, j, a, t) {
        m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, c, i] + 0
        for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END { for (k in n) printf "%s\t%s\t%s\t%s\t%s\n", k, median(k, 5), median(k, 6), median(k, 7), median(k, 8) }
' "$RUNS_TSV" | sort >"$MEDIANS"


{
    echo "# slotd vs redis-server: $(date '+%Y-%m-%d %H:%M')"
    echo
    echo "## Machine"
    echo
    echo "- CPUs (nproc): $(nproc)"
    echo "- model: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- kernel: $(uname -r)"
    echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- redis-server: $("$REDIS_BIN" --version)"
    echo "- slotd: git $(slotd_rev), binary $SLOTD_BIN"
    [[ $SLOTD_REDIS_ARGS == 1 ]] && echo "- NOTE: the slotd side ran with redis-server arguments" \
        "(plumbing test, not a slotd measurement)"
    echo "- rounds: $ROUNDS (servers alternate per run), quick: $QUICK; medians below"
    echo
    echo "## Command lines"
    echo
    echo '```'
    for name in "${SERVERS[@]}"; do echo "$name: ${CMDLINE[$name]}"; done
    echo "fill: taskset -c $CLIENT_CPU redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS" \
        "-r $KEYSPACE -t set -P 16 -n $N_FILL -q"
    for p in "${PIPELINES[@]}"; do
        echo "run:  $(bench_cmd PORT TEST "$p" "$(requests_for "$p")")   # TEST in ${TESTS[*]}"
    done
    echo '```'
    echo
    echo "CPU us/req: server utime+stime delta from /proc/PID/stat (CLK_TCK=$CLK_TCK) over the"
    echo "run, divided by the requests sent. MSET requests carry 10 keys each."
    echo
    echo "## Results"
    awk -F'\t' '
        { k = $2 "\t" $3; rps[$1, k] = $4; p50[$1, k] = $5; p99[$1, k] = $6; cpu[$1, k] = $7
          if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
        function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        END {
            for (i = 1; i <= nk; i++) {
                k = order[i]; split(k, tp, "\t")
                printf "\n### %s, pipeline %s\n\n", toupper(tp[1]), tp[2]
                print "| server | rps | p50 ms | p99 ms | CPU us/req |"
                print "|---|---:|---:|---:|---:|"
                for (s = 1; s <= 2; s++) {
                    name = s == 1 ? "redis" : "slotd"
                    printf "| %s | %.0f | %.3f | %.3f | %.3f |\n", name, rps[name, k],
                        p50[name, k], p99[name, k], cpu[name, k]
                }
                printf "| slotd/redis | %s | %s | %s | %s |\n", ratio(rps["slotd", k], rps["redis", k]),
                    ratio(p50["slotd", k], p50["redis", k]), ratio(p99["slotd", k], p99["redis", k]),
                    ratio(cpu["slotd", k], cpu["redis", k])
            }
        }' <(sort -t$'\t' -k2,2 -k3,3n "$MEDIANS")
    echo
    echo "## All runs"
    echo
    echo "| server | test | P | round | rps | p50 ms | p99 ms | CPU us/req |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RUNS_TSV"
} >"$REPORT"

if python3 "$ROOT/scripts/chart.py" "$MEDIANS" "$CHART" >&2; then
    printf '\n![rps and CPU per request](%s)\n' "$(basename "$CHART")" >>"$REPORT"
else
    log "chart not drawn (see above); the report is complete without it"
fi
log "report: $REPORT"
