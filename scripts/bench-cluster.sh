#!/usr/bin/env bash
# scripts/bench-cluster.sh: `redis-benchmark --cluster` against a 3-master slotd cluster and a
# 3-master redis-server cluster on this machine, in one run, with the same settings.
#
# Usage: scripts/bench-cluster.sh [--quick] [--rounds R] [--appendonly yes|no]
#                                 [--redis-bin PATH] [--slotd-bin PATH]
#   --quick             3 rounds instead of 5, request counts divided by 10
#   --rounds R          rounds (default 5, --quick 3); each round runs every test on both
#   --appendonly yes|no the nodes' appendonly (default no); appendfsync stays at everysec
#   --redis-bin PATH    the reference side (default $REDIS_BIN or /usr/bin/redis-server)
#   --slotd-bin PATH    the slotd side (default $SLOTD_BIN, else `cargo build --release`);
#                       `--slotd-bin /usr/bin/redis-server` proves the plumbing without slotd
# Environment:
#   REDIS_PORT, SLOTD_PORT  first port of each cluster (defaults 7101 and 7201; each cluster
#                           uses 3 ports from there, bus ports +10000)
#   SERVER_CPU    default 1: every node of both clusters runs there (taskset)
#   CLIENT_CPU    default 0: redis-benchmark runs there
#   BENCH_OUT_DIR default bench-results (relative to the repository root)
#   BENCH_N_P1, BENCH_N_P16, BENCH_N_FILL  request counts before --quick's division
#                 (defaults 200000, 2000000, 500000); small values make a smoke test
# Smoke test of the plumbing without slotd (about 30 s):
#   BENCH_N_P1=20000 BENCH_N_P16=100000 BENCH_N_FILL=50000 BENCH_OUT_DIR=/tmp/bc-smoke \
#     scripts/bench-cluster.sh --quick --slotd-bin /usr/bin/redis-server
#
# Both clusters are started by scripts/cluster.sh (`create 3`, so the same generated node
# config: cluster-enabled, node timeout 3000, bind 127.0.0.1, `save ""`, the chosen
# appendonly) under `taskset -c SERVER_CPU`, and stay up for the whole run; only one is
# benchmarked at a time. Each keyspace is filled first so GET hits. Per round, for each test
# (SET, GET) and pipeline depth (1, 16) the clusters run one after the other, redis first;
# the report holds medians of the rounds. rps and p99 come from redis-benchmark's --csv row;
# CPU per request is utime+stime+cutime+cstime (/proc/PID/stat) summed over the three node
# pids, its delta over the run divided by the requests sent. Every server start, benchmark
# run and stop is bounded in time; the clusters are stopped and removed on any exit.
# Output: bench-results/YYYY-MM-DD-HHMM-cluster.md and a .png chart beside it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
ROUNDS=""
APPENDONLY=no
REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
SLOTD_BIN=${SLOTD_BIN:-}
while (($#)); do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --appendonly) APPENDONLY=${2:?}; shift 2 ;;
        --redis-bin) REDIS_BIN=${2:?}; shift 2 ;;
        --slotd-bin) SLOTD_BIN=${2:?}; shift 2 ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "bench-cluster.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -z $ROUNDS ]] && { [[ $QUICK == 1 ]] && ROUNDS=3 || ROUNDS=5; }
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "bench-cluster.sh: --rounds takes 1..99" >&2; exit 2; }
[[ $APPENDONLY == yes || $APPENDONLY == no ]] ||
    { echo "bench-cluster.sh: --appendonly takes yes or no" >&2; exit 2; }

REDIS_PORT=${REDIS_PORT:-7101}
SLOTD_PORT=${SLOTD_PORT:-7201}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}

NODES=3
CLIENTS=50
KEYSPACE=100000
TESTS=(set get)
PIPELINES=(1 16)
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
N_FILL=${BENCH_N_FILL:-500000}
if [[ $QUICK == 1 ]]; then
    N_P1=$((N_P1 / 10))
    N_P16=$((N_P16 / 10))
    N_FILL=$((N_FILL / 10))
fi
# Bounds: cluster start and create (cluster.sh bounds each of its own steps too), one
# redis-benchmark run, cluster stop (cluster.sh: 10 s, then SIGKILL).
CLUSTER_UP_TIMEOUT_S=180
RUN_TIMEOUT_S=300
CLUSTER_STOP_TIMEOUT_S=60
# Read by bench-common's single-server helpers and EXIT trap (PID stays empty here).
# shellcheck disable=SC2034
START_WAIT_TENTHS=100 STOP_WAIT_TENTHS=100

CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/slotd-bench-cluster.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
# shellcheck disable=SC2034
declare -A PID=()
declare -A CMDLINE=()
declare -A NODE_PIDS=()
STARTED=()

log() { echo "[bench-cluster $(date +%H:%M:%S)] $*" >&2; }

# shellcheck source-path=SCRIPTDIR source=lib/bench-common.sh
. "$(dirname "$0")/lib/bench-common.sh"

# Called by bench-common's EXIT trap before it removes $WORK.
before_cleanup() {
    local name
    for name in "${STARTED[@]}"; do
        CLUSTER_DIR="$WORK/$name" timeout -k 5 "$CLUSTER_STOP_TIMEOUT_S" \
            "$ROOT/scripts/cluster.sh" stop 2>/dev/null || log "stopping $name failed"
    done
    STARTED=()
}

# utime+stime+cutime+cstime summed over pids, in clock ticks (cutime: reaped rewrite forks).
cpu_ticks() { # pids...
    local pid rest total=0
    for pid in "$@"; do
        # Field 2 (comm) may hold spaces; cut everything up to the last ')'.
        rest=$(sed 's/.*) //' "/proc/$pid/stat")
        total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$rest")))
    done
    echo "$total"
}

cluster_cmd() { # bin first_port
    echo "taskset -c $SERVER_CPU scripts/cluster.sh create $NODES --base-port $2 --bin $1" \
        "--appendonly $APPENDONLY --set 'save \"\"'"
}

# Starts one 3-master cluster through cluster.sh and records its node pids.
start_cluster() { # name bin first_port
    local name=$1 bin=$2 port=$3 p
    CMDLINE[$name]="CLUSTER_DIR=$WORK/$name $(cluster_cmd "$bin" "$port")"
    STARTED+=("$name")
    log "starting $name cluster on ports $port..$((port + NODES - 1))"
    CLUSTER_DIR="$WORK/$name" timeout -k 5 "$CLUSTER_UP_TIMEOUT_S" \
        taskset -c "$SERVER_CPU" "$ROOT/scripts/cluster.sh" create "$NODES" \
        --base-port "$port" --bin "$bin" --appendonly "$APPENDONLY" --set 'save ""' \
        >"$WORK/$name-create.log" 2>&1 || {
        echo "bench-cluster.sh: the $name cluster did not form; the last lines of its log:" >&2
        tail -n 15 "$WORK/$name-create.log" >&2
        exit 1
    }
    NODE_PIDS[$name]=""
    for ((p = port; p < port + NODES; p++)); do
        NODE_PIDS[$name]+="$(<"$WORK/$name/node-$p/node.pid") "
    done
    log "$name cluster up (pids ${NODE_PIDS[$name]})"
}

bench_cmd() { # port test pipeline requests
    echo "taskset -c $CLIENT_CPU redis-benchmark --cluster -h 127.0.0.1 -p $1 -c $CLIENTS" \
        "-r $KEYSPACE -t $2 -P $3 -n $4 --csv"
}

# One redis-benchmark run against a cluster; appends a row to RUNS_TSV.
run_one() { # name port test pipeline requests round
    local name=$1 port=$2 test=$3 p=$4 n=$5 round=$6 before after out row
    local -a pids
    read -r -a pids <<<"${NODE_PIDS[$name]}"
    before=$(cpu_ticks "${pids[@]}")
    # shellcheck disable=SC2046 # bench_cmd's words are the command line, split on purpose
    out=$(timeout -k 5 "$RUN_TIMEOUT_S" $(bench_cmd "$port" "$test" "$p" "$n")) || {
        echo "bench-cluster.sh: redis-benchmark failed on $name ($test P$p):" >&2
        tail -n 5 <<<"$out" >&2
        exit 1
    }
    after=$(cpu_ticks "${pids[@]}")
    # In cluster mode the CSV follows a description of the masters; the row starts "TEST",.
    # Columns: "test","rps","avg","min","p50","p95","p99","max" (latencies in ms).
    row=$(grep -i "^\"$test\"," <<<"$out" | tr -d '"') || {
        echo "bench-cluster.sh: no CSV row for $test in redis-benchmark's output:" >&2
        tail -n 5 <<<"$out" >&2
        exit 1
    }
    awk -F, -v name="$name" -v test="$test" -v p="$p" -v round="$round" -v n="$n" \
        -v ticks=$((after - before)) -v hz="$CLK_TCK" '
        { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\n", name, test, p, round, $2, $5, $7,
              ticks / hz * 1e6 / n }' <<<"$row" >>"$RUNS_TSV"
    tail -n 1 "$RUNS_TSV" | awk -F'\t' '{
        printf "  %-5s %-3s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req\n",
            $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

requests_for() { [[ $1 == 1 ]] && echo "$N_P1" || echo "$N_P16"; }

fill_cmd() { # port
    echo "taskset -c $CLIENT_CPU redis-benchmark --cluster -h 127.0.0.1 -p $1 -c $CLIENTS" \
        "-r $KEYSPACE -t set -P 16 -n $N_FILL -q"
}

# Fills the keyspace so GET hits from the first round on, the same way for both clusters.
fill() { # port
    # shellcheck disable=SC2046 # split on purpose, as in run_one
    timeout -k 5 "$RUN_TIMEOUT_S" $(fill_cmd "$1") >/dev/null
}

# ---- build ------------------------------------------------------------------------------
if [[ -z $SLOTD_BIN ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
for bin in "$SLOTD_BIN" "$REDIS_BIN"; do
    [[ -x $bin ]] || { echo "bench-cluster.sh: no executable at $bin" >&2; exit 1; }
done
command -v redis-benchmark >/dev/null ||
    { echo "bench-cluster.sh: no redis-benchmark" >&2; exit 1; }
SLOTD_IS_REDIS=0
"$SLOTD_BIN" --version 2>/dev/null | grep -q '^Redis server' && SLOTD_IS_REDIS=1

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
SERVERS=(redis slotd)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
declare -A PORT=([redis]=$REDIS_PORT [slotd]=$SLOTD_PORT)
log "rounds=$ROUNDS requests: P1=$N_P1 P16=$N_P16 fill=$N_FILL appendonly=$APPENDONLY;" \
    "work dir $WORK"
for name in "${SERVERS[@]}"; do
    start_cluster "$name" "${BIN[$name]}" "${PORT[$name]}"
    fill "${PORT[$name]}"
done
# Rounds outermost so that slow drifts of the shared machine hit both clusters alike.
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
NODE_CONF_EXAMPLE=$(grep -v '^#' "$WORK/slotd/node-$SLOTD_PORT/node.conf")
before_cleanup

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-cluster.md"
CHART="$OUT_DIR/$START_STAMP-cluster.png"
MEDIANS="$WORK/medians.tsv"
runs_medians "$RUNS_TSV" >"$MEDIANS"

{
    echo "# slotd cluster vs redis-server cluster (3 masters each): $(date '+%Y-%m-%d %H:%M')"
    echo
    echo "## Machine"
    echo
    machine_header
    echo "- redis-server: $("$REDIS_BIN" --version)"
    echo "- slotd: git $(slotd_rev), binary $SLOTD_BIN"
    [[ $SLOTD_IS_REDIS == 1 ]] && echo "- NOTE: the slotd side ran $SLOTD_BIN (a redis-server):" \
        "plumbing test, not a slotd measurement"
    echo "- nodes: $NODES masters per cluster, all on CPU $SERVER_CPU; redis-benchmark on" \
        "CPU $CLIENT_CPU"
    echo "- rounds: $ROUNDS (clusters alternate per run), quick: $QUICK; medians below"
    echo
    echo "## Command lines"
    echo
    echo '```'
    for name in "${SERVERS[@]}"; do echo "$name: ${CMDLINE[$name]}"; done
    echo "fill: $(fill_cmd PORT)"
    for p in "${PIPELINES[@]}"; do
        echo "run:  $(bench_cmd PORT TEST "$p" "$(requests_for "$p")")   # TEST in ${TESTS[*]}"
    done
    echo '```'
    echo
    echo "Node config written by cluster.sh (the same for every node of both clusters but the"
    echo "port and paths; slotd logs that it ignores \`save\`):"
    echo
    echo '```'
    echo "$NODE_CONF_EXAMPLE"
    echo '```'
    echo
    echo "CPU us/req: utime+stime+cutime+cstime delta from /proc/PID/stat (CLK_TCK=$CLK_TCK)"
    echo "summed over the cluster's three node processes, divided by the requests sent."
    echo "The three nodes of a cluster share one CPU, so a request whose node waits for the"
    echo "scheduler while another node runs waits a time slice: p99 includes that, alike for"
    echo "both clusters."
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
