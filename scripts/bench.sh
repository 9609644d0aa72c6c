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
#   BENCH_N_P1, BENCH_N_P16  request counts before --quick's division (defaults 200000,
#                     2000000); small values make a smoke test
#   BENCH_TESTS       redis-benchmark tests (default "set get mset"); evalsha-get and
#                     evalsha-set run EVALSHA of a one-key GET / SET script (bench-evalsha.sh)
#   BENCH_REPORT_TAG  the report's name after the date (default bench)
#   BENCH_KEYSPACES   distinct keys, redis-benchmark's -r (default "100000"); with several,
#                     each gets freshly started servers and its own rows ("set r=1M")
# Issue 13's CPU-per-request bar (SET/GET at -P 1 and -P 16, 100k and 1M distinct keys, about
# 6 minutes):
#   BENCH_KEYSPACES="100000 1000000" BENCH_TESTS="set get" scripts/bench.sh
# Smoke test of the plumbing without slotd (tiny, a few seconds):
#   SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 \
#     BENCH_OUT_DIR=/tmp/bench-smoke scripts/bench.sh --quick --slotd-redis-args
#
# Each server runs alone on SERVER_CPU while redis-benchmark runs on CLIENT_CPU. Before the
# runs of a keyspace, every one of its keys is written once (redis-cli --pipe, the keys and
# 3-byte value size redis-benchmark uses), so GET always hits and the table holds the whole
# keyspace from the first run. For every test and pipeline depth (1, 16) the servers
# alternate A,B for each round; the report holds medians. CPU per request is the server's
# utime+stime delta (/proc/PID/stat) over the run divided by the requests sent. Output:
# bench-results/YYYY-MM-DD-HHMM-bench.md and a .png chart beside it (python3 + matplotlib,
# installed with pip when missing).
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
REPORT_TAG=${BENCH_REPORT_TAG:-bench}

CLIENTS=50
read -r -a KEYSPACES <<<"${BENCH_KEYSPACES:-100000}"
read -r -a TESTS <<<"${BENCH_TESTS:-set get mset}"
PIPELINES=(1 16)
ROUNDS=5
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
if [[ $QUICK == 1 ]]; then
    ROUNDS=3
    N_P1=$((N_P1 / 10))
    N_P16=$((N_P16 / 10))
fi
((${#KEYSPACES[@]} > 0 && ${#TESTS[@]} > 0)) || {
    echo "bench.sh: BENCH_KEYSPACES and BENCH_TESTS must not be empty" >&2
    exit 2
}
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

# The scripts of the EVALSHA tests (scripts/bench-evalsha.sh): a GET and a SET of one key,
# loaded into each server after its fill; redis-benchmark names the script by its SHA1.
EVAL_GET_SCRIPT="return redis.call('GET', KEYS[1])"
EVAL_SET_SCRIPT="return redis.call('SET', KEYS[1], ARGV[1])"
sha1_of() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }

bench_cmd() { # port test pipeline requests keyspace
    local base="taskset -c $CLIENT_CPU redis-benchmark -h 127.0.0.1 -p $1 -c $CLIENTS -r $5"
    case "$2" in
        evalsha-get) echo "$base -P $3 -n $4 --csv EVALSHA $(sha1_of "$EVAL_GET_SCRIPT") 1" \
            "key:__rand_int__" ;;
        evalsha-set) echo "$base -P $3 -n $4 --csv EVALSHA $(sha1_of "$EVAL_SET_SCRIPT") 1" \
            "key:__rand_int__ xxx" ;;
        *) echo "$base -t $2 -P $3 -n $4 --csv" ;;
    esac
}

# SCRIPT LOAD of both EVALSHA scripts; checks the server answers the SHA1 redis-benchmark uses.
load_scripts() { # port
    local body sha
    for body in "$EVAL_GET_SCRIPT" "$EVAL_SET_SCRIPT"; do
        sha=$(redis-cli -h 127.0.0.1 -p "$1" SCRIPT LOAD "$body")
        [[ $sha == "$(sha1_of "$body")" ]] || {
            echo "bench.sh: SCRIPT LOAD on port $1 answered '$sha'" >&2
            exit 1
        }
    done
}

# "100k", "1M", or the number itself when it is no round multiple.
human_count() {
    local n=$1
    if ((n % 1000000 == 0)); then echo "$((n / 1000000))M"
    elif ((n % 1000 == 0)); then echo "$((n / 1000))k"
    else echo "$n"; fi
}

# The test's name in the report: plain with the one default keyspace (the report reads as it
# always has), with its keyspace otherwise.
test_label() { # test keyspace
    if [[ ${KEYSPACES[*]} == 100000 ]]; then echo "$1"; else echo "$1 r=$(human_count "$2")"; fi
}

# One redis-benchmark run against a running server; appends a row to RUNS_TSV.
run_one() { # name port test pipeline requests round keyspace
    local name=$1 port=$2 test=$3 p=$4 n=$5 round=$6 ks=$7 before after csv label
    label=$(test_label "$test" "$ks")
    before=$(cpu_ticks "${PID[$name]}")
    # shellcheck disable=SC2046 # bench_cmd's words are the command line, split on purpose
    csv=$(timeout -k 5 "$RUN_TIMEOUT_S" $(bench_cmd "$port" "$test" "$p" "$n" "$ks"))
    after=$(cpu_ticks "${PID[$name]}")
    # CSV row: "test","rps","avg","min","p50","p95","p99","max"
    awk -F'","' -v name="$name" -v test="$label" -v p="$p" -v round="$round" \
        -v n="$n" -v ticks=$((after - before)) -v hz="$CLK_TCK" '
        NR == 2 {
            gsub(/"/, "", $0); split($0, f, ",")
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\n", name, test, p, round, f[2], f[5], f[7],
                ticks / hz * 1e6 / n
        }' <<<"$csv" >>"$RUNS_TSV"
    tail -n 1 "$RUNS_TSV" | awk -F'\t' '{ printf "  %-5s %-10s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req\n",
        $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

requests_for() { [[ $1 == 1 ]] && echo "$N_P1" || echo "$N_P16"; }

# Writes every key of the keyspace once, named as redis-benchmark names them (key:%012d), with a
# 3-byte value (the size of its default), so GET hits from the first round on, the same way for
# both servers.
fill_resp() { # keyspace
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i
    }'
}
fill() { # port keyspace
    local out
    out=$(fill_resp "$2" | timeout -k 5 "$RUN_TIMEOUT_S" taskset -c "$CLIENT_CPU" \
        redis-cli -h 127.0.0.1 -p "$1" --pipe)
    grep -q 'errors: 0,' <<<"$out" || { echo "bench.sh: fill failed: $out" >&2; exit 1; }
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
log "rounds=$ROUNDS requests: P1=$N_P1 P16=$N_P16 keyspaces: ${KEYSPACES[*]}; work dir $WORK"
for ks in "${KEYSPACES[@]}"; do
    for name in "${SERVERS[@]}"; do
        start_server "$name" "${BIN[$name]}" "${PORT[$name]}" "${ARGS[$name]}"
        fill "${PORT[$name]}" "$ks"
        [[ ${TESTS[*]} == *evalsha* ]] && load_scripts "${PORT[$name]}"
    done
    # Rounds outermost (within a keyspace) so that slow drifts of the shared machine hit both
    # servers alike.
    for ((round = 1; round <= ROUNDS; round++)); do
        log "keyspace $ks, round $round/$ROUNDS"
        for test in "${TESTS[@]}"; do
            for p in "${PIPELINES[@]}"; do
                n=$(requests_for "$p")
                for name in "${SERVERS[@]}"; do
                    run_one "$name" "${PORT[$name]}" "$test" "$p" "$n" "$round" "$ks"
                done
            done
        done
    done
    for name in "${SERVERS[@]}"; do stop_server "$name"; done
done

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-$REPORT_TAG.md"
CHART="$OUT_DIR/$START_STAMP-$REPORT_TAG.png"
MEDIANS="$WORK/medians.tsv"

runs_medians "$RUNS_TSV" >"$MEDIANS"

{
    echo "# slotd vs redis-server: $(date '+%Y-%m-%d %H:%M')"
    echo
    echo "## Machine"
    echo
    machine_header
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
    echo "fill: SET key:%012d xxx for each of the KEYSPACE keys, written by" \
        "taskset -c $CLIENT_CPU redis-cli -h 127.0.0.1 -p PORT --pipe"
    for p in "${PIPELINES[@]}"; do
        if [[ ${TESTS[*]} == *evalsha* ]]; then
            # Each EVALSHA test has its own command line.
            for test in "${TESTS[@]}"; do
                echo "run:  $(bench_cmd PORT "$test" "$p" "$(requests_for "$p")" KEYSPACE)" \
                    "  # KEYSPACE in ${KEYSPACES[*]}"
            done
            [[ $p == 1 ]] && echo "scripts: $EVAL_GET_SCRIPT | $EVAL_SET_SCRIPT (SCRIPT LOAD" \
                "after the fill)"
            continue
        fi
        echo "run:  $(bench_cmd PORT TEST "$p" "$(requests_for "$p")" KEYSPACE)" \
            "  # TEST in ${TESTS[*]}; KEYSPACE in ${KEYSPACES[*]}"
    done
    echo '```'
    echo
    echo "CPU us/req: server utime+stime delta from /proc/PID/stat (CLK_TCK=$CLK_TCK) over the"
    echo "run, divided by the requests sent. MSET requests carry 10 keys each."
    echo
    echo "## Results"
    medians_tables "$MEDIANS"
    echo
    echo "## All runs"
    echo
    runs_table "$RUNS_TSV"
} >"$REPORT"

if python3 "$ROOT/scripts/chart.py" "$MEDIANS" "$CHART" >&2; then
    printf '\n![rps and CPU per request](%s)\n' "$(basename "$CHART")" >>"$REPORT"
else
    log "chart not drawn (see above); the report is complete without it"
fi
log "report: $REPORT"
