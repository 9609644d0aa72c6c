#!/usr/bin/env bash
# scripts/bench-aof.sh: what AOF persistence costs slotd and redis-server, side by side in one
# run: SET throughput without and with the AOF, `appendfsync always`, and restart time.
#
# Usage: scripts/bench-aof.sh [--quick] [--slotd-redis-args]
#   --quick             3 rounds instead of 5, request counts divided by 4 (not 10 as in
#                       bench.sh: a 0.2 s run at -P 16 was too noisy to judge a 10% target),
#                       restart with 1M keys only (about 2 minutes in all).
#   --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
#                       SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
# Environment:
#   SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
#   REDIS_BIN         default /usr/bin/redis-server
#   PORT_BASE         default 6490; the script uses PORT_BASE .. PORT_BASE+6
#   SERVER_CPU        default 1;  CLIENT_CPU default 0 (throughput runs and fills)
#   RESTART_CPUS      default "CLIENT_CPU,SERVER_CPU": the CPUs a restarting server may use, so
#                     that `--server-threads 2` can load on two cores
#   BENCH_OUT_DIR     default bench-results (relative to the repository root)
#   BENCH_N_P1, BENCH_N_P16, BENCH_N_ALWAYS  request counts per run before --quick's
#                     division (defaults 200000, 2000000, 30000; appendfsync always runs
#                     3 times as many rounds)
#   RESTART_KEYS      key counts for the restart test (default "1000000 10000000"; --quick
#                     "1000000"); a count is skipped when free memory or disk is short
# Smoke test of the plumbing without slotd (tiny, well under a minute):
#   SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 BENCH_N_ALWAYS=20000 \
#     RESTART_KEYS=100000 BENCH_OUT_DIR=/tmp/aof-smoke scripts/bench-aof.sh --quick \
#     --slotd-redis-args
#
# Same conventions as scripts/bench.sh: each server runs on SERVER_CPU while redis-benchmark
# runs on CLIENT_CPU; servers alternate within each round (the order flips every round); the
# report holds medians; CPU per request is the server's utime+stime (+ reaped children, which
# counts redis' rewrite forks) from /proc/PID/stat over the run, divided by the requests.
# Restart time is wall time from launching the process until it answers PING with +PONG
# (-LOADING does not count), polled every RESTART_POLL_S over a raw socket, bounded.
# Every server gets a fresh dir under /tmp; all of them are stopped and removed on exit.
# Output: bench-results/YYYY-MM-DD-HHMM-aof.md
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
        *) echo "bench-aof.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
PORT_BASE=${PORT_BASE:-6490}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
RESTART_CPUS=${RESTART_CPUS:-$CLIENT_CPU,$SERVER_CPU}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}

CLIENTS=50
KEYSPACE=100000
ROUNDS=5
# appendfsync always depends on the disk, whose speed can swing within seconds here: more,
# shorter rounds, so that each slotd/redis pair runs close together in time.
ALWAYS_ROUNDS_PER_ROUND=3
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
N_ALWAYS=${BENCH_N_ALWAYS:-30000}
RESTART_KEYS_DEFAULT="1000000 10000000"
if [[ $QUICK == 1 ]]; then
    ROUNDS=3
    N_P1=$((N_P1 / 4))
    N_P16=$((N_P16 / 4))
    N_ALWAYS=$((N_ALWAYS / 4))
    RESTART_KEYS_DEFAULT=1000000
fi
RESTART_KEYS=${RESTART_KEYS:-$RESTART_KEYS_DEFAULT}
# Value of every key the restart test loads (16 bytes; keys are key:0000000000 ..).
FILL_VALUE=0123456789abcdef
# Budgets that decide whether a restart size fits the machine: resident bytes per key for
# the one server running at a time (generous for both), and AOF bytes per key on disk for
# the three data sets kept side by side (RESP SET is 59 bytes; rewrites may double it).
MEM_BYTES_PER_KEY=400
DISK_BYTES_PER_KEY=400
# Bounds on every wait.
START_WAIT_TENTHS=100
STOP_WAIT_TENTHS=300
RUN_TIMEOUT_S=300
RESTART_TIMEOUT_S=600
REWRITE_WAIT_TENTHS=3000
RESTART_POLL_S=0.005

CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/slotd-aofbench.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
RESTARTS_TSV="$WORK/restarts.tsv"
FILES_TSV="$WORK/files.tsv"
: >"$RUNS_TSV"
: >"$RESTARTS_TSV"
: >"$FILES_TSV"
declare -A PID=()
declare -A CMDLINE=()
SKIPPED=()

log() { echo "[bench-aof $(date +%H:%M:%S)] $*" >&2; }
die() { echo "bench-aof.sh: $*" >&2; exit 1; }

# The one place that says how each server is started (arguments only; the binary and the
# taskset prefix are added by launch).
redis_args() { # port dir appendonly appendfsync
    echo "--port $1 --bind 127.0.0.1 --save '' --dir $2 --appendonly $3 --appendfsync $4"
}
slotd_args() { # port dir appendonly appendfsync threads
    if [[ $SLOTD_REDIS_ARGS == 1 ]]; then
        redis_args "$1" "$2" "$3" "$4"
    else
        echo "--port $1 --bind 127.0.0.1 --server-threads $5 --dir $2 --appendonly $3" \
            "--appendfsync $4"
    fi
}
server_args() { # kind port dir appendonly appendfsync threads
    if [[ $1 == redis ]]; then redis_args "$2" "$3" "$4" "$5"; else slotd_args "${@:2}"; fi
}

# stop_server, cleanup and the EXIT trap are shared; this script's own start_server (with a
# CPU list and a load-time bound) and cpu_ticks (children included) are defined below and
# take the place of the library's.
# shellcheck source-path=SCRIPTDIR source=lib/bench-common.sh
. "$(dirname "$0")/lib/bench-common.sh"

# True when the server answers PING with +PONG. A raw socket (no redis-cli fork) keeps the
# restart poll cheap and exact; -LOADING and refused connections are "not yet".
ping_ok() { # port
    local fd line
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'PING\r\n' 1>&"$fd" 2>/dev/null || true
    read -r -t 2 -u "$fd" line || line=
    exec {fd}>&-
    [[ $line == $'+PONG\r' ]]
}

cli() { # port args...
    local port=$1
    shift
    timeout -k 5 30 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# Starts a server in the background without waiting; the caller polls. Log: WORK/name.log.
launch() { # name bin port cpus args...
    local name=$1 bin=$2 port=$3 cpus=$4
    shift 4
    if ping_ok "$port" || cli "$port" PING >/dev/null 2>&1; then
        die "something already answers on port $port; not benchmarking it"
    fi
    CMDLINE[$name]="taskset -c $cpus $bin $*"
    # eval turns the quoted '' (empty save) into an empty argument, as a shell would.
    local -a argv
    eval "argv=($*)"
    # taskset and then the server exec in place, so $! is the server's own pid.
    taskset -c "$cpus" "$bin" "${argv[@]}" >>"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
}

# Polls until PONG; fails (after printing the log) if the server exits or the bound passes.
await_pong() { # name port bound_s poll_s
    local name=$1 port=$2 deadline=$(($(now_us) + $3 * 1000000)) poll=$4
    while ! ping_ok "$port"; do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            echo "bench-aof.sh: $name exited before answering PING; its log:" >&2
            tail -n 20 "$WORK/$name.log" >&2
            unset "PID[$name]"
            exit 1
        fi
        (($(now_us) < deadline)) || die "$name did not answer PING within $3s"
        sleep "$poll"
    done
}

start_server() { # name bin port cpus args...
    launch "$@"
    await_pong "$1" "$3" $((START_WAIT_TENTHS / 10)) 0.1
    log "$1 up (pid ${PID[$1]}, port $3)"
}

# As start_server, for a server that first loads a data set (bounded like a timed restart).
start_loaded() { # name bin port cpus args...
    launch "$@"
    await_pong "$1" "$3" "$RESTART_TIMEOUT_S" 0.1
    log "$1 up (pid ${PID[$1]}, port $3), data set loaded"
}

cpu_ticks() { # pid -> utime+stime+cutime+cstime, in clock ticks
    # Field 2 (comm) may hold spaces; cut everything up to the last ')'.
    local rest
    rest=$(sed 's/.*) //' "/proc/$1/stat")
    awk '{ print $12 + $13 + $14 + $15 }' <<<"$rest"
}

bench_cmd() { # port pipeline requests
    echo "taskset -c $CLIENT_CPU redis-benchmark -h 127.0.0.1 -p $1 -c $CLIENTS" \
        "-r $KEYSPACE -t set -P $2 -n $3 --csv"
}

# Flushes a server's AOF files to disk after a run, untimed, so the next run (another
# server) does not pay for this one's writeback.
flush_aof() { # dir
    local files=("$1"/appendonlydir/*)
    if [[ -e ${files[0]} ]]; then
        timeout -k 5 60 sync "${files[@]}" 2>/dev/null || true
    fi
}

# One redis-benchmark run against a running server; appends a row to RUNS_TSV:
# section server mode P round rps p50 p99 cpu_us_per_req
run_one() { # section name pipeline requests round
    local section=$1 name=$2 p=$3 n=$4 round=$5 before after csv
    local port=${PORT[$name]}
    before=$(cpu_ticks "${PID[$name]}")
    # shellcheck disable=SC2046 # bench_cmd's words are the command line on purpose
    csv=$(timeout -k 5 "$RUN_TIMEOUT_S" $(bench_cmd "$port" "$p" "$n"))
    after=$(cpu_ticks "${PID[$name]}")
    [[ ${MODE[$name]} != no ]] && flush_aof "${DIR[$name]}"
    # CSV row: "test","rps","avg","min","p50","p95","p99","max"
    awk -F'","' -v sec="$section" -v kind="${KIND[$name]}" -v mode="${MODE[$name]}" \
        -v p="$p" -v round="$round" -v n="$n" -v ticks=$((after - before)) -v hz="$CLK_TCK" '
        NR == 2 {
            gsub(/"/, "", $0); split($0, f, ",")
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\n", sec, kind, mode, p, round,
                f[2], f[5], f[7], ticks / hz * 1e6 / n
        }' <<<"$csv" >>"$RUNS_TSV"
    tail -n 1 "$RUNS_TSV" | awk -F'\t' '{
        printf "  %-5s %-8s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req\n",
            $2, $3, $4, $5, $6, $7, $8, $9 }' >&2
}

requests_for() { [[ $1 == 1 ]] && echo "$N_P1" || echo "$N_P16"; }

# Servers of sections 1 and 2: kind, appendonly/appendfsync mode, port, fresh dir.
declare -A KIND=() MODE=() PORT=() DIR=()
define_server() { # name kind mode port
    KIND[$1]=$2
    MODE[$1]=$3
    PORT[$1]=$4
    DIR[$1]="$WORK/$1"
    mkdir -p "${DIR[$1]}"
}
start_defined() { # name
    local name=$1 aof=yes fsync=${MODE[$1]}
    [[ $fsync == no ]] && { aof=no; fsync=everysec; }
    start_server "$name" "${BIN[${KIND[$name]}]}" "${PORT[$name]}" "$SERVER_CPU" \
        "$(server_args "${KIND[$name]}" "${PORT[$name]}" "${DIR[$name]}" "$aof" "$fsync" 1)"
}

# Runs every server of a section once per round, the order reversed every other round so
# that drifts of the shared machine (and disk writeback) hit every server alike.
run_section() { # section rounds pipelines requests_or_empty names...
    local section=$1 rounds=$2 pipelines=$3 fixed_n=$4 round p n i
    shift 4
    local names=("$@")
    for ((round = 1; round <= rounds; round++)); do
        log "$section: round $round/$rounds"
        for p in $pipelines; do
            n=${fixed_n:-$(requests_for "$p")}
            if ((round % 2)); then
                for ((i = 0; i < ${#names[@]}; i++)); do
                    run_one "$section" "${names[i]}" "$p" "$n" "$round"
                done
            else
                for ((i = ${#names[@]} - 1; i >= 0; i--)); do
                    run_one "$section" "${names[i]}" "$p" "$n" "$round"
                done
            fi
        done
    done
}

# ---- restart test -------------------------------------------------------------------------

# Emits N RESP SET commands with distinct keys, for redis-cli --pipe.
gen_sets() { # n
    # shellcheck disable=SC2016 # $3, $%d are RESP text in awk's printf format, not shell
    taskset -c "$CLIENT_CPU" awk -v n="$1" -v v="$FILL_VALUE" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = sprintf("key:%010d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
        } }'
}
fill_cmd() { # port n
    echo "gen_sets $2 | taskset -c $CLIENT_CPU redis-cli -h 127.0.0.1 -p $1 --pipe" \
        "--pipe-timeout 60"
}

fill_keys() { # port n
    local port=$1 n=$2 out bound=$((60 + $2 / 20000))
    out=$(gen_sets "$n" | timeout -k 5 "$bound" taskset -c "$CLIENT_CPU" \
        redis-cli -h 127.0.0.1 -p "$port" --pipe --pipe-timeout 60 2>&1) ||
        die "loading $n keys into port $port failed or took over ${bound}s: $out"
    grep -q "errors: 0, replies: $n\$" <<<"$out" || die "loading $n keys: $out"
}

info_field() { # port field -> value from INFO persistence, empty when absent
    cli "$1" INFO persistence | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

# Waits until no AOF rewrite runs or is scheduled, so the files on disk are final before a
# shutdown. A server that does not report these fields counts as idle.
await_rewrite_idle() { # port
    local i busy
    for ((i = 0; i < REWRITE_WAIT_TENTHS; i++)); do
        busy=$(( $(info_field "$1" aof_rewrite_in_progress || echo 0) + 0 ))
        busy=$((busy + $(info_field "$1" aof_rewrite_scheduled || echo 0) + 0))
        ((busy == 0)) && return 0
        sleep 0.1
    done
    die "port $1: AOF rewrite still running after $((REWRITE_WAIT_TENTHS / 10))s"
}

dbsize() { cli "$1" DBSIZE | tr -d '\r'; }

# Lists the files the manifest names with their type, size and format (RDB preamble when
# the file starts with REDIS, RESP when it starts with '*'); rows go to FILES_TSV.
describe_aof() { # keys label state dir
    local aofdir="$4/appendonlydir" manifest
    manifest=$(find "$aofdir" -maxdepth 1 -name '*.manifest' 2>/dev/null | head -n 1)
    if [[ -z $manifest ]]; then
        printf '%s\t%s\t%s\t(no manifest)\t-\t0\t-\n' "$1" "$2" "$3" >>"$FILES_TSV"
        return 0
    fi
    local line file type bytes magic format
    while read -r line; do
        file=$(awk '{ for (i = 1; i < NF; i++) if ($i == "file") print $(i + 1) }' <<<"$line")
        type=$(awk '{ for (i = 1; i < NF; i++) if ($i == "type") print $(i + 1) }' <<<"$line")
        [[ -z $file ]] && continue
        bytes=$(stat -c %s "$aofdir/$file" 2>/dev/null || echo 0)
        magic=$(head -c 5 "$aofdir/$file" 2>/dev/null || true)
        case "$magic" in
            REDIS) format=rdb-preamble ;;
            \**) format=resp ;;
            '') format=empty ;;
            *) format=other ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$file" "$type" "$bytes" \
            "$format" >>"$FILES_TSV"
    done <"$manifest"
}

# Data sets of the restart test: label -> kind and server-threads.
RESTART_LABELS=(slotd-t1 slotd-t2 redis)
declare -A R_KIND=([slotd-t1]=slotd [slotd-t2]=slotd [redis]=redis)
declare -A R_THREADS=([slotd-t1]=1 [slotd-t2]=2 [redis]=1)
restart_args() { # label keys
    server_args "${R_KIND[$1]}" "$RESTART_PORT" "$WORK/$1-$2" yes everysec "${R_THREADS[$1]}"
}

# One timed start: from launch until PONG. Appends a row to RESTARTS_TSV:
# keys label state round ms cpu_s dbsize rss_mb
timed_restart() { # label keys state round
    local label=$1 keys=$2 name="restart-$1" t0 t1 ticks size rss_kb
    t0=$(now_us)
    launch "$name" "${BIN[${R_KIND[$label]}]}" "$RESTART_PORT" "$RESTART_CPUS" \
        "$(restart_args "$label" "$keys")"
    await_pong "$name" "$RESTART_PORT" "$RESTART_TIMEOUT_S" "$RESTART_POLL_S"
    t1=$(now_us)
    ticks=$(cpu_ticks "${PID[$name]}")
    rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/${PID[$name]}/status")
    size=$(dbsize "$RESTART_PORT")
    stop_server "$name"
    awk -v keys="$keys" -v label="$label" -v state="$3" -v round="$4" -v us=$((t1 - t0)) \
        -v ticks="$ticks" -v hz="$CLK_TCK" -v size="$size" -v rss="${rss_kb:-0}" 'BEGIN {
        printf "%s\t%s\t%s\t%s\t%.1f\t%.2f\t%s\t%.0f\n", keys, label, state, round,
            us / 1000, ticks / hz, size, rss / 1024 }' >>"$RESTARTS_TSV"
    tail -n 1 "$RESTARTS_TSV" | awk -F'\t' '{
        printf "  %-8s %-9s r%s: %s ms, CPU %s s, %s keys, RSS %s MB\n", $2, $3, $4, $5, $6, $7, $8
        }' >&2
}

restart_rounds() { # keys state labels...
    local keys=$1 state=$2 round i
    shift 2
    local labels=("$@")
    for ((round = 1; round <= ROUNDS; round++)); do
        if ((round % 2)); then
            for ((i = 0; i < ${#labels[@]}; i++)); do
                timed_restart "${labels[i]}" "$keys" "$state" "$round"
            done
        else
            for ((i = ${#labels[@]} - 1; i >= 0; i--)); do
                timed_restart "${labels[i]}" "$keys" "$state" "$round"
            done
        fi
    done
}

# Fills a fresh dir with `keys` keys under appendonly yes, then stops the server cleanly.
build_data_set() { # label keys
    local label=$1 keys=$2 name="fill-$1" size
    mkdir -p "$WORK/$label-$keys"
    start_server "$name" "${BIN[${R_KIND[$label]}]}" "$RESTART_PORT" "$SERVER_CPU" \
        "$(restart_args "$label" "$keys")"
    local t0=$SECONDS
    fill_keys "$RESTART_PORT" "$keys"
    await_rewrite_idle "$RESTART_PORT"
    size=$(dbsize "$RESTART_PORT")
    [[ $size == "$keys" ]] || die "$label: DBSIZE $size after loading $keys keys"
    stop_server "$name"
    log "$label: $keys keys loaded in $((SECONDS - t0))s"
    describe_aof "$keys" "$label" filled "$WORK/$label-$keys"
}

# Starts the server on its data set, asks for BGREWRITEAOF and waits for it. REWRITE_REPLY
# is then "ok" or the error reply (that server is skipped for the "rewritten" state).
rewrite_data_set() { # label keys
    local label=$1 keys=$2 name="rewrite-$1"
    start_loaded "$name" "${BIN[${R_KIND[$label]}]}" "$RESTART_PORT" "$SERVER_CPU" \
        "$(restart_args "$label" "$keys")"
    REWRITE_REPLY=$(cli "$RESTART_PORT" BGREWRITEAOF 2>&1 | tr -d '\r')
    if [[ $REWRITE_REPLY != Background* ]]; then
        stop_server "$name"
        return 0
    fi
    # Redis may report the rewrite as scheduled or running only after the reply.
    sleep 0.2
    await_rewrite_idle "$RESTART_PORT"
    stop_server "$name"
    describe_aof "$keys" "$label" rewritten "$WORK/$label-$keys"
    REWRITE_REPLY=ok
}

# Whether `keys` keys fit: memory for one server, disk for three AOF data sets.
fits() { # keys
    local mem_kb disk_kb
    mem_kb=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
    disk_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
    if (($1 * MEM_BYTES_PER_KEY / 1024 > mem_kb)); then
        SKIPPED+=("$1 keys: needs ~$(($1 * MEM_BYTES_PER_KEY >> 20)) MiB of memory," \
            "MemAvailable is $((mem_kb >> 10)) MiB")
        return 1
    fi
    if ((3 * $1 * DISK_BYTES_PER_KEY / 1024 > disk_kb)); then
        SKIPPED+=("$1 keys: needs ~$((3 * $1 * DISK_BYTES_PER_KEY >> 20)) MiB of disk," \
            "$((disk_kb >> 10)) MiB free")
        return 1
    fi
}

restart_test() { # keys
    local keys=$1 label
    fits "$keys" || { log "skipping $keys keys: ${SKIPPED[-1]}"; return 0; }
    log "restart test: $keys keys"
    for label in "${RESTART_LABELS[@]}"; do build_data_set "$label" "$keys"; done
    restart_rounds "$keys" filled "${RESTART_LABELS[@]}"
    local rewritten=()
    for label in "${RESTART_LABELS[@]}"; do
        rewrite_data_set "$label" "$keys"
        if [[ $REWRITE_REPLY == ok ]]; then
            rewritten+=("$label")
        else
            SKIPPED+=("$keys keys, $label: BGREWRITEAOF answered \"$REWRITE_REPLY\"")
        fi
    done
    ((${#rewritten[@]})) && restart_rounds "$keys" rewritten "${rewritten[@]}"
    for label in "${RESTART_LABELS[@]}"; do rm -rf "${WORK:?}/$label-$keys"; done
}

# ---- build ------------------------------------------------------------------------------
if [[ -z ${SLOTD_BIN:-} ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
[[ -x $SLOTD_BIN ]] || die "no executable at SLOTD_BIN=$SLOTD_BIN"
[[ -x $REDIS_BIN ]] || die "no executable at REDIS_BIN=$REDIS_BIN"
for tool in redis-benchmark redis-cli taskset; do
    command -v "$tool" >/dev/null || die "$tool missing"
done

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
RESTART_PORT=$((PORT_BASE + 6))
# A rough figure for the disk under the AOF dirs: synchronous 512-byte writes per second.
# Taken at the start and at the end: a shared virtual disk can change speed within a run.
dsync_rate() {
    timeout 20 dd if=/dev/zero of="$WORK/dsync-probe" bs=512 count=200 oflag=dsync 2>&1 |
        awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print int(200 / $(i - 1)) }' ||
        true
    rm -f "$WORK/dsync-probe"
}
DSYNC_RATE=$(dsync_rate)
log "rounds=$ROUNDS requests: P1=$N_P1 P16=$N_P16 always=$N_ALWAYS restart keys: $RESTART_KEYS"
log "work dir $WORK; ~${DSYNC_RATE:-?} dsync writes/s"

TP_NAMES=(redis-no slotd-no redis-es slotd-es)
AL_NAMES=(redis-al slotd-al)
define_server redis-no redis no $((PORT_BASE + 0))
define_server slotd-no slotd no $((PORT_BASE + 1))
define_server redis-es redis everysec $((PORT_BASE + 2))
define_server slotd-es slotd everysec $((PORT_BASE + 3))
define_server redis-al redis always $((PORT_BASE + 4))
define_server slotd-al slotd always $((PORT_BASE + 5))
for name in "${TP_NAMES[@]}" "${AL_NAMES[@]}"; do start_defined "$name"; done
run_section throughput "$ROUNDS" "1 16" "" "${TP_NAMES[@]}"
run_section always $((ROUNDS * ALWAYS_ROUNDS_PER_ROUND)) 1 "$N_ALWAYS" "${AL_NAMES[@]}"
for name in "${TP_NAMES[@]}" "${AL_NAMES[@]}"; do
    stop_server "$name"
    rm -rf "${DIR[$name]:?}"
done

for keys in $RESTART_KEYS; do restart_test "$keys"; done
DSYNC_RATE_END=$(dsync_rate)

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-aof.md"
MEDIANS="$WORK/medians.tsv"
PAIRED="$WORK/paired.tsv"
R_STATS="$WORK/restart-stats.tsv"

# awk: median of v[k, 1..m] (insertion sort; m is a handful of rounds). Sets lo and hi.
AWK_MEDIAN='
    function median(v, k, m,    i, j, a, t) {
        for (i = 1; i <= m; i++) a[i] = v[k, i] + 0
        for (i = 2; i <= m; i++) {
            t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t
        }
        lo = a[1]; hi = a[m]
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }'

# Median per (section, server, mode, P) of rps, p50, p99 and CPU per request.
awk -F'\t' "$AWK_MEDIAN"'
    { k = $1 "\t" $2 "\t" $3 "\t" $4; m = ++n[k]
      rps[k, m] = $6; p50[k, m] = $7; p99[k, m] = $8; cpu[k, m] = $9 }
    END { for (k in n) printf "%s\t%s\t%s\t%s\t%s\n", k, median(rps, k, n[k]),
          median(p50, k, n[k]), median(p99, k, n[k]), median(cpu, k, n[k]) }
' "$RUNS_TSV" | sort >"$MEDIANS"

# Per-round ratios of two runs close in time, then their median: robust against the disk
# or the neighbours changing speed between rounds. Rows: section group P value_name median.
awk -F'\t' "$AWK_MEDIAN"'
    $1 == "throughput" { v[$2, $4, $5, $3] = $6; g[$2 "\t" $4] = 1; r[$5] = 1 }
    $1 == "always" { a[$2, $5, "rps"] = $6; a[$2, $5, "p99"] = $8; ar[$5] = 1 }
    END {
        for (k in g) { split(k, sp, "\t"); m = 0
            for (x in r) if (v[sp[1], sp[2], x, "no"] > 0)
                q[k, ++m] = v[sp[1], sp[2], x, "everysec"] / v[sp[1], sp[2], x, "no"]
            if (m) printf "throughput\t%s\t%s\trps everysec/no\t%.3f\n", sp[1], sp[2],
                median(q, k, m) }
        split("rps p99", names, " ")
        for (i = 1; i <= 2; i++) { f = names[i]; m = 0
            for (x in ar) if (a["redis", x, f] > 0) q[f, ++m] = a["slotd", x, f] / a["redis", x, f]
            if (m) printf "always\tslotd/redis\t1\t%s\t%.3f\n", f, median(q, f, m) }
    }' "$RUNS_TSV" | sort >"$PAIRED"

# Per (keys, label, state): median, min and max restart ms, median CPU s, whether every
# restart found all the keys.
awk -F'\t' "$AWK_MEDIAN"'
    { k = $1 "\t" $2 "\t" $3; m = ++n[k]; ms[k, m] = $5; cpu[k, m] = $6; rss[k, m] = $8
      if ($7 != $1) bad[k] = 1 }
    END { for (k in n) { c = median(cpu, k, n[k]); r = median(rss, k, n[k]); m = median(ms, k, n[k])
          printf "%s\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%.0f\n", k, m, lo, hi, c, bad[k] ? "NO" : "yes",
              r } }
' "$RESTARTS_TSV" | sort -t$'\t' -k1,1n -k3,3 -k2,2 >"$R_STATS"

slotd_rev() {
    local rev
    rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD 2>/dev/null || rev="$rev (dirty)"
    echo "$rev"
}

machine_header() {
    echo "## Machine"
    echo
    echo "- CPUs (nproc): $(nproc)"
    echo "- model: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- kernel: $(uname -r)"
    echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- AOF dirs: $(df -PT /tmp | awk 'NR == 2 { print $2 " on " $1 }') under /tmp," \
        "~${DSYNC_RATE:-?} synchronous 512-byte writes/s at the start," \
        "~${DSYNC_RATE_END:-?} at the end (dd oflag=dsync)"
    echo "- redis-server: $("$REDIS_BIN" --version)"
    echo "- slotd: git $(slotd_rev), binary $SLOTD_BIN"
    [[ $SLOTD_REDIS_ARGS == 1 ]] && echo "- NOTE: the slotd side ran with redis-server arguments" \
        "(plumbing test, not a slotd measurement)"
    echo "- rounds: $ROUNDS (servers alternate per run, order flipped every round)," \
        "quick: $QUICK; medians below"
}

command_lines() {
    echo '```'
    for name in "${TP_NAMES[@]}" "${AL_NAMES[@]}"; do echo "$name: ${CMDLINE[$name]}"; done
    for p in 1 16; do echo "run:  $(bench_cmd PORT "$p" "$(requests_for "$p")")"; done
    echo "run:  $(bench_cmd PORT 1 "$N_ALWAYS")   # appendfsync always"
    for label in "${RESTART_LABELS[@]}"; do
        [[ -n ${CMDLINE[restart-$label]:-} ]] && echo "restart $label: ${CMDLINE[restart-$label]}"
    done
    echo "fill: $(fill_cmd PORT N)"
    echo "gen_sets N: awk emitting SET key:%010d $FILL_VALUE for 0..N-1 as RESP"
    echo '```'
}

throughput_table() {
    echo "| server | P | rps no | rps everysec | everysec/no | p99 ms no | p99 ms everysec" \
        "| CPU us/req no | CPU us/req everysec |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '
        $1 == "throughput" { k = $2 "\t" $4; rps[k, $3] = $5; p99[k, $3] = $7; cpu[k, $3] = $8
            if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
        END {
            for (i = 1; i <= nk; i++) {
                k = order[i]; split(k, sp, "\t")
                r = rps[k, "no"] > 0 ? rps[k, "everysec"] / rps[k, "no"] : 0
                printf "| %s | %s | %.0f | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                    sp[1], sp[2],
                    rps[k, "no"], rps[k, "everysec"], r, p99[k, "no"], p99[k, "everysec"],
                    cpu[k, "no"], cpu[k, "everysec"]
            }
        }' <(sort -t$'\t' -k4,4n -k2,2 "$MEDIANS")
    echo
    echo "everysec/no per round (the two runs of one server in the same round), median over" \
        "rounds; the targets are judged on this figure:"
    echo
    awk -F'\t' '$1 == "throughput" {
        verdict = $5 >= 0.9 ? "met" : "NOT met"
        printf "- %s P%s: %.3f%s\n", $2, $3, $5,
            ($2 == "slotd" ? " (target within 10%: " verdict ")" : "")
        }' "$PAIRED"
}

always_table() {
    echo "| server | rps | p50 ms | p99 ms | CPU us/req |"
    echo "|---|---:|---:|---:|---:|"
    awk -F'\t' '
        $1 == "always" { rps[$2] = $5; p50[$2] = $6; p99[$2] = $7; cpu[$2] = $8 }
        function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "-" }
        END {
            for (s = 1; s <= 2; s++) { n = s == 1 ? "redis" : "slotd"
                printf "| %s | %.0f | %.3f | %.3f | %.3f |\n", n, rps[n], p50[n], p99[n], cpu[n] }
            printf "| slotd/redis | %s | %s | %s | %s |\n\n", ratio(rps["slotd"], rps["redis"]),
                ratio(p50["slotd"], p50["redis"]), ratio(p99["slotd"], p99["redis"]),
                ratio(cpu["slotd"], cpu["redis"])
        }' "$MEDIANS"
    echo "slotd/redis per round (the two runs are adjacent in time), median over rounds; the" \
        "targets are judged on this figure:"
    echo
    awk -F'\t' '$1 == "always" {
        ok = $4 == "rps" ? $5 >= 1 : $5 <= 1
        printf "- %s: %.3f (target slotd %s redis: %s)\n", $4, $5, ($4 == "rps" ? ">=" : "<="),
            (ok ? "met" : "NOT met") }' "$PAIRED"
}

# Per data set and state: the files the manifest names, summed by type and format.
files_summary() { # keys label state
    awk -F'\t' -v keys="$1" -v label="$2" -v state="$3" '
        $1 == keys && $2 == label && $3 == state { k = $5 " " $7; n[k]++; b[k] += $6 }
        END { sep = ""
              # Base files first, then incr, then anything else the manifest names.
              for (pass = 1; pass <= 3; pass++) for (k in n) { split(k, tf, " ")
                  rank = tf[1] == "b" ? 1 : (tf[1] == "i" ? 2 : 3)
                  if (rank != pass) continue
                  t = tf[1] == "b" ? "base" : (tf[1] == "i" ? "incr" : tf[1])
                  printf "%s%s: %d %s file%s, %.1f MB", sep, t, n[k], tf[2],
                      (n[k] > 1 ? "s" : ""), b[k] / 1e6; sep = "; " }
              if (!sep) printf "-" }' "$FILES_TSV"
}

restart_table() {
    echo "| keys | server | threads | AOF state | files | restart ms median | min | max |" \
        "CPU s to PONG | RSS MB | all keys |"
    echo "|---:|---|---:|---|---|---:|---:|---:|---:|---:|---|"
    local keys label state med lo hi cpu ok rss
    while IFS=$'\t' read -r keys label state med lo hi cpu ok rss; do
        echo "| $keys | ${R_KIND[$label]} | ${R_THREADS[$label]} | $state |" \
            "$(files_summary "$keys" "$label" "$state") | $med | $lo | $hi | $cpu | $rss | $ok |"
    done <"$R_STATS"
}

{
    echo "# AOF: slotd vs redis-server: $(date '+%Y-%m-%d %H:%M')"
    echo
    machine_header
    echo
    echo "## Command lines"
    echo
    command_lines
    echo
    echo "CPU us/req: server utime+stime+cutime+cstime delta from /proc/PID/stat" \
        "(CLK_TCK=$CLK_TCK; cutime counts redis' reaped rewrite children) over the run," \
        "divided by the requests sent. After each run on an AOF server its files are synced" \
        "(untimed) so the next server does not pay for its writeback. Automatic AOF rewrite" \
        "is left at its defaults on both servers. Runs are short in --quick mode; two" \
        "identical redis-servers (--slotd-redis-args) differ by up to ~10% on this machine."
    echo
    echo "## 1. SET throughput without and with the AOF (appendfsync everysec)"
    echo
    echo "$CLIENTS clients, random keys (-r $KEYSPACE), server-threads 1; every server on CPU" \
        "$SERVER_CPU, redis-benchmark on CPU $CLIENT_CPU."
    echo
    throughput_table
    echo
    echo "## 2. appendfsync always, $CLIENTS clients, P1"
    echo
    echo "$((ROUNDS * ALWAYS_ROUNDS_PER_ROUND)) rounds of $N_ALWAYS requests; medians:"
    echo
    always_table
    echo
    echo "## 3. Restart time"
    echo
    echo "Each data set: a fresh dir, appendonly yes (everysec), N distinct keys" \
        "(key:%010d, ${#FILL_VALUE}-byte value) loaded with redis-cli --pipe, rewrites left" \
        "to finish, clean stop (SIGTERM). Restart: wall time from launching the process" \
        "(pinned to CPUs $RESTART_CPUS) until PING answers +PONG, polled every" \
        "${RESTART_POLL_S}s; DBSIZE and RSS (VmRSS) read just after the PONG." \
        "\"filled\": the files as the load left them; \"rewritten\": after BGREWRITEAOF" \
        "(redis: RDB-preamble base with" \
        "aof-use-rdb-preamble at its default, yes). Files are in the page cache (warm)."
    echo
    if [[ -s $R_STATS ]]; then restart_table; else echo "(no restart measured)"; fi
    if ((${#SKIPPED[@]})); then
        echo
        for line in "${SKIPPED[@]}"; do echo "- skipped: $line"; done
    fi
    echo
    echo "### AOF files"
    echo
    echo "| keys | data set | state | file | type | bytes | format |"
    echo "|---:|---|---|---|---|---:|---|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$FILES_TSV"
    echo
    echo "## All runs"
    echo
    echo "| section | server | appendfsync | P | round | rps | p50 ms | p99 ms | CPU us/req |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RUNS_TSV"
    echo
    echo "## All restarts"
    echo
    echo "| keys | data set | state | round | ms | CPU s | DBSIZE | RSS MB |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RESTARTS_TSV"
} >"$REPORT"
log "report: $REPORT"
