#!/usr/bin/env bash
# scripts/bench-sync.sh: full sync of 1M keys from a standalone master to a fresh replica,
# slotd vs redis-server on this machine, in one run (issue #5): time and master memory.
#
# Usage: scripts/bench-sync.sh [--rounds R] [--keys N] [--writer] [--redis-bin PATH]
#                              [--slotd-bin PATH]
#   --rounds R        syncs per server (default 3); servers alternate, the order flips per round
#   --keys N          keys in the master (default 1000000): key:%012d, 64-byte values
#   --writer          also R more syncs per server with a SET writer running on the master
#                     (redis-benchmark -c 1 over the same keys, so DBSIZE does not change)
#   --redis-bin PATH  the reference side (default $REDIS_BIN or /usr/bin/redis-server)
#   --slotd-bin PATH  the slotd side (default $SLOTD_BIN, else `cargo build --release`)
# Environment:
#   PORT_BASE     default 6470: redis master, redis replica, slotd master, slotd replica
#   MASTER_CPU    default 1: both masters run there (taskset)
#   REPLICA_CPU   default 0: the replicas, the poller, the fill and the writer run there
#   BENCH_OUT_DIR default bench-results (relative to the repository root)
#
# Both masters are started once (standalone, appendonly no; redis with save "" and
# repl-diskless-sync-delay 0, since its default 5 s wait for more replicas would be measured
# otherwise; its other replication settings stay at their defaults: a diskless fork on the
# master, an RDB file on disk on the replica) and filled with the same RESP stream through
# `redis-cli --pipe`. Per sync a replica is started in an empty directory, then
# scripts/lib/sync_poll.py resets the master's VmHWM, sends REPLICAOF 127.0.0.1 PORT and polls
# every 20 ms until the replica has master_link_status:up, master_sync_in_progress:0 and the
# master's DBSIZE; meanwhile it samples the master's VmRSS and, for a forking master, the
# child's VmRSS and Private_Dirty. The replica is stopped after each sync. Every wait is
# bounded; all servers are stopped and their directories removed on any exit.
# Output: bench-results/YYYY-MM-DD-HHMM-sync.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ROUNDS=3
KEYS=1000000
WRITER=0
REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
SLOTD_BIN=${SLOTD_BIN:-}
while (($#)); do
    case "$1" in
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --keys) KEYS=${2:?}; shift 2 ;;
        --writer) WRITER=1; shift ;;
        --redis-bin) REDIS_BIN=${2:?}; shift 2 ;;
        --slotd-bin) SLOTD_BIN=${2:?}; shift 2 ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "bench-sync.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "bench-sync.sh: --rounds takes 1..99" >&2; exit 2; }
[[ $KEYS =~ ^[1-9][0-9]{0,8}$ ]] || { echo "bench-sync.sh: --keys takes 1..999999999" >&2; exit 2; }

PORT_BASE=${PORT_BASE:-6470}
MASTER_CPU=${MASTER_CPU:-1}
REPLICA_CPU=${REPLICA_CPU:-0}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}
VALUE_BYTES=64
WRITER_CLIENTS=1
# Bounds: server start and stop (tenths of a second, read by bench-common), the fill, a sync.
# shellcheck disable=SC2034
START_WAIT_TENTHS=100
# shellcheck disable=SC2034
STOP_WAIT_TENTHS=300
FILL_TIMEOUT_S=600
SYNC_TIMEOUT_S=600

WORK=$(mktemp -d /tmp/slotd-bench-sync.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
: >"$RUNS_TSV"
declare -A PID=()
declare -A CMDLINE=()
declare -A FILLED_KB=()
WRITER_PID=""
ODD=()

log() { echo "[bench-sync $(date +%H:%M:%S)] $*" >&2; }

# shellcheck source-path=SCRIPTDIR source=lib/bench-common.sh
. "$(dirname "$0")/lib/bench-common.sh"

before_cleanup() { stop_writer; }

stop_writer() {
    [[ -n $WRITER_PID ]] || return 0
    kill -TERM "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_PID=""
}

server_args() { # server role port dir
    case "$1-$2" in
        redis-master) echo "--port $3 --bind 127.0.0.1 --save '' --appendonly no --dir $4" \
            "--repl-diskless-sync-delay 0" ;;
        redis-replica) echo "--port $3 --bind 127.0.0.1 --save '' --appendonly no --dir $4" ;;
        slotd-*) echo "--port $3 --bind 127.0.0.1 --appendonly no --dir $4" ;;
    esac
}

# Starts `server`'s master or a fresh replica, pinned (bench-common reads SERVER_CPU).
launch() { # server role port cpu
    local name="$1-$2"
    SERVER_CPU=$4 start_server "$name" "${BIN[$1]}" "$3" \
        "$(server_args "$1" "$2" "$3" "$WORK/$name")"
}

fill_cmd() { # port
    echo "awk -v n=$KEYS -f - | taskset -c $REPLICA_CPU redis-cli -p $1 --pipe" \
        "  # awk prints SET key:%012d <v%015d 4 times: 64 bytes> for 0..n-1 as RESP"
}

fill() { # port
    # Values differ per key and from the writer's (redis-benchmark writes x's), so the check
    # after a sync sees a lost or misapplied write.
    awk -v n="$KEYS" 'BEGIN {
        for (i = 0; i < n; i++) {
            v = sprintf("v%015d", i)
            printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$64\r\n%s%s%s%s\r\n", i, v, v, v, v
        }
    }' | timeout -k 5 "$FILL_TIMEOUT_S" taskset -c "$REPLICA_CPU" \
        redis-cli -h 127.0.0.1 -p "$1" --pipe >"$WORK/fill-$1.log" 2>&1 || {
        echo "bench-sync.sh: filling port $1 failed:" >&2
        tail -n 5 "$WORK/fill-$1.log" >&2
        exit 1
    }
    local got
    got=$(redis-cli -h 127.0.0.1 -p "$1" DBSIZE)
    [[ $got == "$KEYS" ]] || { echo "bench-sync.sh: port $1 has $got keys, not $KEYS" >&2; exit 1; }
}

writer_cmd() { # port
    echo "taskset -c $REPLICA_CPU redis-benchmark -h 127.0.0.1 -p $1 -t set -r $KEYS" \
        "-d $VALUE_BYTES -c $WRITER_CLIENTS -n 1000000000 -q"
}

poll_cmd() {
    echo "taskset -c $REPLICA_CPU python3 scripts/lib/sync_poll.py --master-port M" \
        "--master-pid PID --replica-port R --replica-pid PID --interval 0.02" \
        "--timeout $SYNC_TIMEOUT_S"
}

# One full sync to a fresh replica of `server`'s master; appends a row to RUNS_TSV.
sync_one() { # server mode round
    local s=$1 mode=$2 round=$3 mport=${MPORT[$1]} rport=$((MPORT[$1] + 1)) out check rc=0
    launch "$s" replica "$rport" "$REPLICA_CPU"
    if [[ $mode == writer ]]; then
        # shellcheck disable=SC2046 # writer_cmd's words are the command line
        timeout -k 5 "$SYNC_TIMEOUT_S" $(writer_cmd "$mport") >/dev/null 2>&1 &
        WRITER_PID=$!
        sleep 1 # the writer is up to speed before the sync starts
    fi
    out=$(taskset -c "$REPLICA_CPU" python3 "$ROOT/scripts/lib/sync_poll.py" \
        --master-port "$mport" --master-pid "${PID[$s-master]}" --replica-port "$rport" \
        --replica-pid "${PID[$s-replica]}" --interval 0.02 --timeout "$SYNC_TIMEOUT_S") || rc=$?
    stop_writer
    [[ -n $out ]] || out=$'-\t-\t-\t-\t-\t-\t-\t0\t-'
    # Every 97th key compared on both sides once the replica caught up (after the writer).
    check=$(taskset -c "$REPLICA_CPU" python3 "$ROOT/scripts/lib/sync_poll.py" \
        --master-port "$mport" --master-pid "${PID[$s-master]}" --replica-port "$rport" \
        --replica-pid "${PID[$s-replica]}" --timeout 60 --verify-keys "$KEYS") || {
        ODD+=("$s $mode round $round: replica differs from the master after the sync" \
            "(offset wait ms, keys compared, mismatches: ${check:-none})")
        log "${ODD[-1]}"
    }
    [[ -n $check ]] || check=$'-\t-\t-'
    out+=$'\t'"$check"
    ((rc == 0)) || {
        ODD+=("$s $mode round $round: no complete sync within ${SYNC_TIMEOUT_S}s ($out)")
        log "${ODD[-1]}"
        cp "$WORK/$s-master.log" "$WORK/$s-replica.log" "$OUT_DIR/" 2>/dev/null || true
    }
    printf '%s\t%s\t%s\t%s\n' "$s" "$mode" "$round" "$out" >>"$RUNS_TSV"
    log "$s $mode round $round: sync_ms rss_before peak child_rss child_dirty replica_rss" \
        "dbsize samples slowest_info_ms check_ms compared mismatches = $(tr '\t' ' ' <<<"$out")"
    stop_server "$s-replica"
}

# Median of an expression over (server, mode) rows; columns: 4 sync_ms, 5 before, 6 peak,
# 7 child rss, 8 child dirty, 9 replica rss (kB). `-` rows are skipped.
median_of() { # server mode awk_expr
    awk -F'\t' -v s="$1" -v m="$2" '$1 == s && $2 == m && $4 != "-" { print '"$3"' }' \
        "$RUNS_TSV" | sort -n | awk '{ a[NR] = $1 }
        END {
            if (NR == 0) { print "-"; exit }
            print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        }'
}

mb() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f", k / 1024 }'; }

# ---- build ------------------------------------------------------------------------------
if [[ -z $SLOTD_BIN ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
for bin in "$SLOTD_BIN" "$REDIS_BIN"; do
    [[ -x $bin ]] || { echo "bench-sync.sh: no executable at $bin" >&2; exit 1; }
done

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
START_S=$SECONDS
SERVERS=(redis slotd)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
declare -A MPORT=([redis]=$PORT_BASE [slotd]=$((PORT_BASE + 2)))
MODES=(idle)
((WRITER)) && MODES+=(writer)
log "rounds=$ROUNDS keys=$KEYS modes=${MODES[*]}; work dir $WORK"
for s in "${SERVERS[@]}"; do
    launch "$s" master "${MPORT[$s]}" "$MASTER_CPU"
    log "filling $s master with $KEYS keys"
    fill "${MPORT[$s]}"
    FILLED_KB[$s]=$(awk '/^VmRSS/ { print $2 }' "/proc/${PID[$s-master]}/status")
done
for mode in "${MODES[@]}"; do
    for ((round = 1; round <= ROUNDS; round++)); do
        order=("${SERVERS[@]}")
        ((round % 2)) || order=("${SERVERS[1]}" "${SERVERS[0]}")
        for s in "${order[@]}"; do sync_one "$s" "$mode" "$round"; done
    done
done
ELAPSED_S=$((SECONDS - START_S))

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-sync.md"
{
    echo "# Full sync of $KEYS keys to a fresh replica, slotd vs redis-server:" \
        "$(date '+%Y-%m-%d %H:%M')"
    echo
    echo "## Machine"
    echo
    machine_header
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
    echo "- redis-server: $("$REDIS_BIN" --version)"
    echo "- slotd: git $(slotd_rev), binary $SLOTD_BIN"
    echo "- masters on CPU $MASTER_CPU; replicas, poller, fill and writer on CPU $REPLICA_CPU;" \
        "$ROUNDS syncs per server and mode, alternating (order flips per round); ${ELAPSED_S}s"
    echo
    echo "## Command lines"
    echo
    echo '```'
    for name in "${!CMDLINE[@]}"; do echo "$name: ${CMDLINE[$name]}"; done | sort
    echo "fill: $(fill_cmd PORT)"
    echo "per sync: $(poll_cmd)"
    ((WRITER)) && echo "writer (mode writer, from 1 s before REPLICAOF): $(writer_cmd PORT)"
    echo '```'
    echo
    echo "*sync*: from REPLICAOF until the replica reports master_link_status:up,"
    echo "master_sync_in_progress:0 and the master's DBSIZE (polled every 20 ms, or as fast as"
    echo "the replica answers INFO: *slowest INFO* is its slowest answer). *master"
    echo "growth*: the master's peak RSS during the sync (VmHWM after resetting it, or the"
    echo "largest VmRSS sample) minus its RSS just before. *fork child*: the largest VmRSS"
    echo "sample of the master's child process (redis' diskless RDB fork; it shares the"
    echo "parent's pages, so this is mostly not extra memory) and its largest Private_Dirty"
    echo "(pages copy-on-write really duplicated). slotd does not fork. After each sync (and"
    echo "after the writer stopped) the replica's offset must reach the master's and every"
    echo "97th key must have the same value on both (*check*: ms until the offsets met, keys"
    echo "compared, mismatches)."
    echo
    echo "Master RSS after the fill: redis $(mb "${FILLED_KB[redis]}") MB, slotd" \
        "$(mb "${FILLED_KB[slotd]}") MB."
    echo
    echo "## Results (medians)"
    echo
    echo "| mode | server | sync ms | master growth MB | fork child RSS MB |" \
        "fork child dirty MB | replica RSS after MB |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for mode in "${MODES[@]}"; do
        for s in "${SERVERS[@]}"; do
            # shellcheck disable=SC2016 # awk expressions over the TSV's columns
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$s" \
                "$(median_of "$s" "$mode" '$4')" "$(mb "$(median_of "$s" "$mode" '$6 - $5')")" \
                "$(mb "$(median_of "$s" "$mode" '$7')")" "$(mb "$(median_of "$s" "$mode" '$8')")" \
                "$(mb "$(median_of "$s" "$mode" '$9')")"
        done
    done
    echo
    echo "Syncs that did not complete within ${SYNC_TIMEOUT_S}s, or whose check failed:"
    echo
    if ((${#ODD[@]})); then printf -- '- %s\n' "${ODD[@]}"; else echo "- none"; fi
    echo
    echo "## All syncs (memory in kB)"
    echo
    echo "| server | mode | round | sync ms | master RSS before | master peak |" \
        "child RSS | child dirty | replica RSS | DBSIZE | polls | slowest INFO ms | check ms |" \
        "compared | mismatches |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RUNS_TSV"
} >"$REPORT"
log "report: $REPORT"
