#!/usr/bin/env bash
# scripts/bench-failover.sh: automatic failover time of a 3 masters + 3 replicas slotd cluster
# and the same redis-server cluster on this machine, in one run (issue #5).
#
# Usage: scripts/bench-failover.sh [--runs N] [--signals "KILL STOP"] [--redis-bin PATH]
#                                  [--slotd-bin PATH]
#   --runs N            failovers per server and signal (default 20); servers alternate per run
#   --signals LIST      KILL, STOP or both (default "KILL STOP"): how the master is stopped
#   --redis-bin PATH    the reference side (default $REDIS_BIN or /usr/bin/redis-server)
#   --slotd-bin PATH    the slotd side (default $SLOTD_BIN, else `cargo build --release`);
#                       `--slotd-bin /usr/bin/redis-server` proves the plumbing without slotd
# Environment:
#   SLOTD_PORT, REDIS_PORT  first port of each cluster (defaults 7401 and 7501; 6 ports each,
#                           bus ports +10000)
#   SERVER_CPU    default 1: every node of both clusters runs there (taskset)
#   CLIENT_CPU    default 0: the poller runs there
#   POLL_MS       default 50: the poll interval
#   BENCH_OUT_DIR default bench-results (relative to the repository root)
#
# Both clusters are built once by scripts/cluster.sh (`create 6 --replicas 1`, generated
# config: cluster-node-timeout 3000, appendonly no, save "") and stay up. One run: pick the
# master serving slot 100, 5561 or 11023 (rotating, so each master range takes a turn), then
# scripts/lib/failover_poll.py sends it SIGKILL or SIGSTOP and polls every surviving node
# (CLUSTER NODES, CLUSTER INFO, and GET of a key in that slot on its replica) every POLL_MS
# over open connections. Recorded, in ms since the signal: the first poll where one node and
# where every surviving node flags the master `fail`; the first poll where the replica serves
# the slot itself; and "ok": every surviving node says cluster_state:ok and maps the slot to
# the replica, and the replica serves it. Then the cluster is restored: a killed master is
# restarted in its directory (`cluster.sh start 1 --keep`: same nodes.conf), a stopped one gets
# SIGCONT; the run ends when the old master is a replica with master_link_status:up and every
# node says cluster_state:ok, sees 3 replicas and no failed node (that time is reported too).
# A restore that does not finish in RESTORE_TIMEOUT_S rebuilds that cluster (reported).
# Every wait is bounded; both clusters are stopped and removed on any exit.
# Output: bench-results/YYYY-MM-DD-HHMM-failover.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=20
SIGNALS="KILL STOP"
REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
SLOTD_BIN=${SLOTD_BIN:-}
while (($#)); do
    case "$1" in
        --runs) RUNS=${2:?}; shift 2 ;;
        --signals) SIGNALS=${2:?}; shift 2 ;;
        --redis-bin) REDIS_BIN=${2:?}; shift 2 ;;
        --slotd-bin) SLOTD_BIN=${2:?}; shift 2 ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "bench-failover.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "bench-failover.sh: --runs takes 1..99" >&2; exit 2; }
for s in $SIGNALS; do
    [[ $s == KILL || $s == STOP ]] ||
        { echo "bench-failover.sh: --signals takes KILL and/or STOP" >&2; exit 2; }
done

SLOTD_PORT=${SLOTD_PORT:-7401}
REDIS_PORT=${REDIS_PORT:-7501}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
POLL_MS=${POLL_MS:-50}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}

NODES=6
MASTERS=3
PROBE_SLOTS=(100 5561 11023) # one in each range redis-cli --cluster create assigns
FAILOVER_TIMEOUT_S=60
RESTORE_TIMEOUT_S=60
CLUSTER_UP_TIMEOUT_S=180
CLUSTER_STOP_TIMEOUT_S=60
# Read by bench-common's single-server helpers and EXIT trap (PID stays empty here).
# shellcheck disable=SC2034
START_WAIT_TENTHS=100 STOP_WAIT_TENTHS=100

WORK=$(mktemp -d /tmp/slotd-bench-failover.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
: >"$RUNS_TSV"
# shellcheck disable=SC2034
declare -A PID=()
declare -A CMDLINE=()
STARTED=()
ODD=()

log() { echo "[bench-failover $(date +%H:%M:%S)] $*" >&2; }

# shellcheck source-path=SCRIPTDIR source=lib/bench-common.sh
. "$(dirname "$0")/lib/bench-common.sh"

before_cleanup() {
    local name
    for name in "${STARTED[@]}"; do
        CLUSTER_DIR="$WORK/$name" timeout -k 5 "$CLUSTER_STOP_TIMEOUT_S" \
            "$ROOT/scripts/cluster.sh" stop 2>/dev/null || log "stopping $name failed"
    done
    STARTED=()
}

cluster_args() { # bin first_port
    echo "--base-port $2 --bin $1 --appendonly no --set 'save \"\"'"
}

start_cluster() { # name bin first_port
    local name=$1 bin=$2 port=$3
    CMDLINE[$name]="CLUSTER_DIR=$WORK/$name taskset -c $SERVER_CPU scripts/cluster.sh create"
    CMDLINE[$name]+=" $NODES --replicas 1 $(cluster_args "$bin" "$port")"
    [[ " ${STARTED[*]} " == *" $name "* ]] || STARTED+=("$name")
    log "starting $name cluster on ports $port..$((port + NODES - 1))"
    CLUSTER_DIR="$WORK/$name" timeout -k 5 "$CLUSTER_UP_TIMEOUT_S" \
        taskset -c "$SERVER_CPU" "$ROOT/scripts/cluster.sh" create "$NODES" --replicas 1 \
        --base-port "$port" --bin "$bin" --appendonly no --set 'save ""' \
        >>"$WORK/$name-create.log" 2>&1 || {
        echo "bench-failover.sh: the $name cluster did not form; its log ends:" >&2
        tail -n 15 "$WORK/$name-create.log" >&2
        exit 1
    }
}

rebuild_cluster() { # name bin first_port
    CLUSTER_DIR="$WORK/$1" timeout -k 5 "$CLUSTER_STOP_TIMEOUT_S" \
        "$ROOT/scripts/cluster.sh" clean >/dev/null 2>&1 || true
    start_cluster "$@"
}

# Restarts one node in its kept directory (same nodes.conf), pinned like the others.
restart_node() { # name bin port
    CLUSTER_DIR="$WORK/$1" timeout -k 5 60 taskset -c "$SERVER_CPU" \
        "$ROOT/scripts/cluster.sh" start 1 --keep --base-port "$3" --bin "$2" \
        --appendonly no --set 'save ""' >>"$WORK/$1-create.log" 2>&1
}

nodes_of() { redis-cli -h 127.0.0.1 -p "$1" CLUSTER NODES 2>/dev/null | tr -d '\r'; }

# "master_id master_port replica_id replica_port" for the master serving `slot`.
pick_master() { # any_port slot
    nodes_of "$1" | awk -v slot="$2" '
        { id[NR] = $1; addr[NR] = $2; master[NR] = $4
          for (i = 9; i <= NF; i++) {
              if ($i ~ /^\[/) continue
              n = split($i, r, "-"); lo = r[1]; hi = n > 1 ? r[2] : r[1]
              if (slot >= lo + 0 && slot <= hi + 0) owner = $1
          } }
        END {
            for (i = 1; i <= NR; i++) {
                split(addr[i], a, "[:@]")
                if (id[i] == owner) mport = a[2]
                if (master[i] == owner) { rid = id[i]; rport = a[2] }
            }
            if (owner != "" && rid != "") print owner, mport, rid, rport
        }'
}

# True when the cluster is whole again: every node ok, 3 replicas and no failed node seen
# by each, and `old_port` a replica whose link is up.
restored() { # first_port old_port
    local port nodes
    for ((port = $1; port < $1 + NODES; port++)); do
        redis-cli -h 127.0.0.1 -p "$port" CLUSTER INFO 2>/dev/null |
            grep -q '^cluster_state:ok' || return 1
        nodes=$(nodes_of "$port")
        (($(awk '$3 ~ /(^|,)slave(,|$)/ { n++ } END { print n + 0 }' <<<"$nodes") ==
            NODES - MASTERS)) || return 1
        awk '$3 ~ /(^|,)fail(\?)?(,|$)/ { bad = 1 } END { exit bad }' <<<"$nodes" || return 1
    done
    redis-cli -h 127.0.0.1 -p "$2" INFO replication 2>/dev/null | tr -d '\r' |
        awk -F: '$1 == "role" { r = $2 } $1 == "master_link_status" { l = $2 }
                 END { exit !(r == "slave" && l == "up") }'
}

wait_restored() { # first_port old_port -> prints ms, or fails
    local t0 deadline
    t0=$(date +%s%N)
    deadline=$((SECONDS + RESTORE_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        restored "$1" "$2" && { echo $((($(date +%s%N) - t0) / 1000000)); return 0; }
        sleep 0.1
    done
    return 1
}

poll_cmd() {
    echo "taskset -c $CLIENT_CPU python3 scripts/lib/failover_poll.py --pid PID --signal SIG" \
        "--ports SURVIVORS --master-id ID --replica-id ID --replica-port PORT --slot SLOT" \
        "--interval $(awk -v m="$POLL_MS" 'BEGIN { print m / 1000 }') --timeout" \
        "$FAILOVER_TIMEOUT_S"
}

# One failover of cluster `name`; appends a row to RUNS_TSV, restores or rebuilds.
run_one() { # name bin first_port signal run
    local name=$1 bin=$2 first=$3 sig=$4 run=$5 slot pick mid mport rid rport pid
    local survivors="" port out rc restore_ms
    slot=${PROBE_SLOTS[$(((run - 1) % MASTERS))]}
    pick=$(pick_master "$first" "$slot")
    read -r mid mport rid rport <<<"$pick"
    [[ -n ${rport:-} ]] || { echo "bench-failover.sh: no master/replica for $slot" >&2; exit 1; }
    pid=$(<"$WORK/$name/node-$mport/node.pid")
    for ((port = first; port < first + NODES; port++)); do
        ((port == mport)) || survivors+="${survivors:+,}$port"
    done
    rc=0
    out=$(taskset -c "$CLIENT_CPU" python3 "$ROOT/scripts/lib/failover_poll.py" --pid "$pid" \
        --signal "$sig" --ports "$survivors" --master-id "$mid" --replica-id "$rid" \
        --replica-port "$rport" --slot "$slot" \
        --interval "$(awk -v m="$POLL_MS" 'BEGIN { print m / 1000 }')" \
        --timeout "$FAILOVER_TIMEOUT_S") || rc=$?
    [[ -n $out ]] || out=$'-\t-\t-\t-\t0'
    ((rc == 0)) || ODD+=("$name $sig run $run: no failover within ${FAILOVER_TIMEOUT_S}s ($out)")
    if [[ $sig == KILL ]]; then
        # Wait for the old process to be gone before its port is reused.
        timeout 10 tail --pid="$pid" -f /dev/null || true
        restart_node "$name" "$bin" "$mport" || true
    else
        kill -CONT "$pid" 2>/dev/null || true
    fi
    if restore_ms=$(wait_restored "$first" "$mport"); then :; else
        restore_ms=-
        ODD+=("$name $sig run $run: node $mport not a replica of a whole cluster within" \
            "${RESTORE_TIMEOUT_S}s after the restore; cluster rebuilt")
        log "${ODD[-1]}"
        cp -r "$WORK/$name" "$WORK/failed-$name-$sig-$run" 2>/dev/null || true
        rebuild_cluster "$name" "$bin" "$first"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$sig" "$run" "$mport" "$out" "$restore_ms" \
        >>"$RUNS_TSV"
    log "$name $sig run $run (master $mport): fail_first fail_all promoted ok polls =" \
        "$(tr '\t' ' ' <<<"$out") ms; restored in $restore_ms ms"
}

# Median and max of column `col` over the rows of (server, signal), `-` values skipped.
stat_of() { # server signal col
    awk -F'\t' -v s="$1" -v g="$2" -v c="$3" '$1 == s && $2 == g && $c != "-" { print $c }' \
        "$RUNS_TSV" | sort -n | awk '{ a[NR] = $1 }
        END {
            if (NR == 0) { print "-\t-"; exit }
            m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            printf "%d\t%d\n", m, a[NR]
        }'
}

# ---- build ------------------------------------------------------------------------------
if [[ -z $SLOTD_BIN ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
for bin in "$SLOTD_BIN" "$REDIS_BIN"; do
    [[ -x $bin ]] || { echo "bench-failover.sh: no executable at $bin" >&2; exit 1; }
done
SLOTD_IS_REDIS=0
"$SLOTD_BIN" --version 2>/dev/null | grep -q '^Redis server' && SLOTD_IS_REDIS=1

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
START_S=$SECONDS
SERVERS=(redis slotd)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
declare -A PORT=([redis]=$REDIS_PORT [slotd]=$SLOTD_PORT)
log "runs=$RUNS signals=$SIGNALS poll=${POLL_MS}ms; work dir $WORK"
for name in "${SERVERS[@]}"; do start_cluster "$name" "${BIN[$name]}" "${PORT[$name]}"; done
NODE_CONF_EXAMPLE=$(grep -v '^#' "$WORK/slotd/node-$SLOTD_PORT/node.conf")
for sig in $SIGNALS; do
    for ((run = 1; run <= RUNS; run++)); do
        for name in "${SERVERS[@]}"; do
            run_one "$name" "${BIN[$name]}" "${PORT[$name]}" "$sig" "$run"
        done
    done
done
before_cleanup
ELAPSED_S=$((SECONDS - START_S))

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-failover.md"
{
    echo "# Failover time, slotd vs redis-server (3 masters + 3 replicas):" \
        "$(date '+%Y-%m-%d %H:%M')"
    echo
    echo "## Machine"
    echo
    machine_header
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
    echo "- redis-server: $("$REDIS_BIN" --version)"
    echo "- slotd: git $(slotd_rev), binary $SLOTD_BIN"
    [[ $SLOTD_IS_REDIS == 1 ]] && echo "- NOTE: the slotd side ran $SLOTD_BIN (a redis-server):" \
        "plumbing test, not a slotd measurement"
    echo "- all 12 nodes on CPU $SERVER_CPU, the poller on CPU $CLIENT_CPU; poll every" \
        "${POLL_MS} ms; $RUNS runs per server and signal, servers alternating; ${ELAPSED_S}s"
    echo
    echo "## Command lines"
    echo
    echo '```'
    for name in "${SERVERS[@]}"; do echo "$name: ${CMDLINE[$name]}"; done
    echo "per run: $(poll_cmd)"
    echo "restore after KILL: CLUSTER_DIR=... scripts/cluster.sh start 1 --keep --base-port" \
        "PORT --bin BIN --appendonly no --set 'save \"\"'"
    echo "restore after STOP: kill -CONT PID"
    echo '```'
    echo
    echo "Node config written by cluster.sh (every node alike but the port and paths):"
    echo
    echo '```'
    echo "$NODE_CONF_EXAMPLE"
    echo '```'
    echo
    echo "Times are ms from the signal to the first poll that saw the event, so each is late"
    echo "by up to one poll (${POLL_MS} ms) plus the poll itself (5 nodes, 2-3 commands each)."
    echo "*fail first/all*: one / every surviving node flags the master \`fail\`."
    echo "*promoted*: the replica answers GET of a key in the master's slots itself."
    echo "*ok*: additionally every surviving node says \`cluster_state:ok\` and maps the slot"
    echo "to the replica. *restore*: from the restarted old master answering PING (KILL) or"
    echo "its SIGCONT (STOP) until it is a replica with its link up and the cluster is whole."
    echo
    echo "## Results (median / max, ms)"
    echo
    echo "| signal | server | fail first | fail all | promoted | **ok** | restore |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for sig in $SIGNALS; do
        for name in "${SERVERS[@]}"; do
            printf '| %s | %s |' "$sig" "$name"
            for col in 5 6 7 8 10; do
                stat_of "$name" "$sig" "$col" | awk -F'\t' '{ printf " %s / %s |", $1, $2 }'
            done
            echo
        done
    done
    echo
    echo "Runs without a failover within ${FAILOVER_TIMEOUT_S}s or a restore within" \
        "${RESTORE_TIMEOUT_S}s:"
    echo
    if ((${#ODD[@]})); then printf -- '- %s\n' "${ODD[@]}"; else echo "- none"; fi
    echo
    echo "## All runs"
    echo
    echo "| server | signal | run | master port | fail first | fail all | promoted | ok |" \
        "polls | restore |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RUNS_TSV"
} >"$REPORT"
log "report: $REPORT"
