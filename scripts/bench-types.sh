#!/usr/bin/env bash
# scripts/bench-types.sh: slotd vs redis-server on the collection types, in one run: throughput
# of list/set/hash/zset commands, then memory per element of one big key of each type.
#
# Usage: scripts/bench-types.sh [--quick] [--slotd-redis-args]
#   --quick             3 rounds instead of 5, request counts divided by 10 (memory part
#                       keeps its element count: it is cheap and the per-element figure needs it).
#   --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
#                       SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
# Environment:
#   SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
#   SLOTD_ARGS        replaces the slotd arguments (default: --port $SLOTD_PORT --server-threads 1)
#   REDIS_BIN         default /usr/bin/redis-server
#   REDIS_PORT        default 6500;   SLOTD_PORT  default 6501
#   SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
#   BENCH_OUT_DIR     default bench-results (relative to the repository root)
#   BENCH_N_P1, BENCH_N_P16  request counts before --quick's division (defaults 200000, 2000000)
#   BENCH_MEM_ELEMENTS       elements in each memory key (default 1000000)
#   BENCH_MEM_EXTRA          more key sizes for a B/elem-only table (default "700000 1300000";
#                            empty skips them)
#   BENCH_SKIP_THROUGHPUT=1 / BENCH_SKIP_MEMORY=1  run only the other part
# Smoke test of the plumbing without slotd (tiny, a few seconds):
#   SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 \
#     BENCH_MEM_ELEMENTS=20000 BENCH_OUT_DIR=/tmp/bench-smoke \
#     scripts/bench-types.sh --quick --slotd-redis-args
#
# Conventions are scripts/bench.sh's: each server runs alone on SERVER_CPU, redis-benchmark or
# redis-cli on CLIENT_CPU; servers alternate per run, rounds outermost; the report holds medians.
# CPU per request is the server's utime+stime delta (/proc/PID/stat) over the run divided by the
# requests sent. Memory per element is (VmRSS after - VmRSS before) / elements, read from
# /proc/PID/status around one `redis-cli --pipe` load of one key into a freshly started server.
# Output: bench-results/YYYY-MM-DD-HHMM-types.md
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
        *) echo "bench-types.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
REDIS_PORT=${REDIS_PORT:-6500}
SLOTD_PORT=${SLOTD_PORT:-6501}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
OUT_DIR=${BENCH_OUT_DIR:-bench-results}

CLIENTS=50
KEYSPACE=100000
# Test names as the report shows them; zadd is a custom command line (redis-benchmark has no
# ZADD test), the others are redis-benchmark's own -t tests.
TESTS=(lpush lpop sadd hset zadd lrange_100)
ZADD_CMD="ZADD myzset __rand_int__ element:__rand_int__"
PIPELINES=(1 16)
ROUNDS=5
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
MEM_N=${BENCH_MEM_ELEMENTS:-1000000}
# Further key sizes, per-element figure only: where N falls against each server's table growth
# steps moves B/elem by 10-20%, and 1M happens to sit where Redis' dicts are fullest.
MEM_EXTRA=${BENCH_MEM_EXTRA-700000 1300000}
# Elements per generated command in the memory load: few enough for any argv limit, many
# enough that the load is quick.
MEM_BATCH=100
# Elements pushed into mylist before each LRANGE_100 run, so every LRANGE returns 100 items
# whatever LPOP left behind.
LIST_FILL=1000
if [[ $QUICK == 1 ]]; then
    ROUNDS=3
    N_P1=$((N_P1 / 10))
    N_P16=$((N_P16 / 10))
fi
# Bounds on every wait: server start, server stop, one redis-benchmark or redis-cli run.
START_WAIT_TENTHS=100
STOP_WAIT_TENTHS=100
RUN_TIMEOUT_S=300
LOAD_TIMEOUT_S=180

CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/slotd-bench-types.XXXXXX)
RUNS_TSV="$WORK/runs.tsv"
MEM_TSV="$WORK/mem.tsv"
: >"$RUNS_TSV"
: >"$MEM_TSV"
declare -A PID=()
declare -A CMDLINE=()

log() { echo "[bench-types $(date +%H:%M:%S)] $*" >&2; }

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

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- part 1: throughput -----------------------------------------------------------------

bench_base() { # port pipeline requests
    echo "taskset -c $CLIENT_CPU redis-benchmark -h 127.0.0.1 -p $1 -c $CLIENTS" \
        "-r $KEYSPACE -P $2 -n $3 --csv"
}
bench_cmd() { # port test pipeline requests
    if [[ $2 == zadd ]]; then
        echo "$(bench_base "$1" "$3" "$4") $ZADD_CMD"
    else
        echo "$(bench_base "$1" "$3" "$4") -t $2"
    fi
}

# Refills mylist before an LRANGE run (not measured): redis-benchmark's own LRANGE tests rely
# on a preceding LPUSH step in the same invocation, which a lone `-t lrange_100` lacks.
fill_list() { # port
    timeout -k 5 "$RUN_TIMEOUT_S" taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 \
        -p "$1" -c "$CLIENTS" -r "$KEYSPACE" -t lpush -P 16 -n "$LIST_FILL" -q >/dev/null
}

# One redis-benchmark run against a running server; appends a row to RUNS_TSV.
run_one() { # name port test pipeline requests round
    local name=$1 port=$2 test=$3 p=$4 n=$5 round=$6 before after csv
    [[ $test == lrange_100 ]] && fill_list "$port"
    before=$(cpu_ticks "${PID[$name]}")
    # Word splitting of the command line is intended (no argument holds a space).
    # shellcheck disable=SC2046
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
    tail -n 1 "$RUNS_TSV" | awk -F'\t' '{ printf "  %-5s %-10s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req\n",
        $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

requests_for() { [[ $1 == 1 ]] && echo "$N_P1" || echo "$N_P16"; }

run_throughput() {
    local name round test p n
    for name in "${SERVERS[@]}"; do
        start_server "$name" "${BIN[$name]}" "${PORT[$name]}" "${ARGS[$name]}"
    done
    # Rounds outermost so that slow drifts of the shared machine hit both servers alike.
    for ((round = 1; round <= ROUNDS; round++)); do
        log "throughput round $round/$ROUNDS"
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
}

# ---- part 2: memory per element ---------------------------------------------------------

MEM_TYPES=(hash set-str set-int zset)
declare -A MEM_KEY=([hash]=memhash [set-str]=memset [set-int]=memintset [zset]=memzset)
declare -A MEM_LEN_CMD=([hash]=HLEN [set-str]=SCARD [set-int]=SCARD [zset]=ZCARD)
declare -A MEM_SHAPE=(
    [hash]="HSET memhash field:I value:I"
    [set-str]="SADD memset element:I"
    [set-int]="SADD memintset I"
    [zset]="ZADD memzset I element:I"
)

# Writes RESP commands that build one key of the type with n elements, MEM_BATCH per
# command (the last command takes the remainder).
gen_load() { # type n
    awk -v type="$1" -v total="$2" -v batch="$MEM_BATCH" '
        function bulk(s) { printf "$%d\r\n%s\r\n", length(s), s }
        BEGIN {
            if (type == "hash") { cmd = "HSET"; key = "memhash"; per = 2 }
            else if (type == "set-str") { cmd = "SADD"; key = "memset"; per = 1 }
            else if (type == "set-int") { cmd = "SADD"; key = "memintset"; per = 1 }
            else { cmd = "ZADD"; key = "memzset"; per = 2 }
            for (i = 0; i < total; i += batch) {
                m = total - i < batch ? total - i : batch
                printf "*%d\r\n", 2 + m * per
                bulk(cmd); bulk(key)
                for (j = i; j < i + m; j++) {
                    if (type == "hash") { bulk("field:" j); bulk("value:" j) }
                    else if (type == "set-str") bulk("element:" j)
                    else if (type == "set-int") bulk(j "")
                    else { bulk(j ""); bulk("element:" j) }
                }
            }
        }'
}

# Loads one type into a fresh server and appends a row to the given file:
# type, server, rss_before_kib, rss_after_kib, bytes/element, length, encoding, load seconds.
mem_one() { # type name n tsv
    local type=$1 name=$2 n=$3 tsv=$4 port=${PORT[$2]} key=${MEM_KEY[$1]}
    local before after t0 t1 out len enc
    start_server "$name" "${BIN[$name]}" "$port" "${ARGS[$name]}"
    sleep 0.5
    before=$(rss_kib "${PID[$name]}")
    t0=$(date +%s.%N)
    out=$(timeout -k 5 "$LOAD_TIMEOUT_S" taskset -c "$CLIENT_CPU" \
        redis-cli -h 127.0.0.1 -p "$port" --pipe <"$WORK/load-$type.resp" 2>&1) || {
        echo "bench-types.sh: loading $type into $name failed or timed out: $out" >&2
        exit 1
    }
    t1=$(date +%s.%N)
    grep -q 'errors: 0,' <<<"$out" || log "WARNING: $name $type load reported: $(tail -n 1 <<<"$out")"
    # Redis rehashes big dicts incrementally (1 ms per 100 ms cron tick); let that settle.
    sleep 1
    after=$(rss_kib "${PID[$name]}")
    len=$(redis-cli -h 127.0.0.1 -p "$port" "${MEM_LEN_CMD[$type]}" "$key")
    enc=$(redis-cli -h 127.0.0.1 -p "$port" OBJECT ENCODING "$key")
    stop_server "$name"
    printf '%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%.2f\n' "$type" "$name" "$before" "$after" \
        "$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { print (a - b) * 1024 / n }')" \
        "$len" "$enc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$tsv"
    tail -n 1 "$tsv" | awk -F'\t' '{ printf "  %-7s %-5s RSS %s -> %s KiB: %s B/elem, len %s, %s, load %ss\n",
        $1, $2, $3, $4, $5, $6, $7, $8 }' >&2
}

run_memory() {
    local type n
    for type in "${MEM_TYPES[@]}"; do
        mem_size "$type" "$MEM_N" "$MEM_TSV"
    done
    for n in $MEM_EXTRA; do
        for type in "${MEM_TYPES[@]}"; do mem_size "$type" "$n" "$WORK/mem-extra-$n.tsv"; done
    done
}

mem_size() { # type n tsv
    local type=$1 n=$2 name
    gen_load "$type" "$n" >"$WORK/load-$type.resp"
    log "memory: $type ($n elements, $(du -h "$WORK/load-$type.resp" | cut -f1) of RESP)"
    for name in "${SERVERS[@]}"; do mem_one "$type" "$name" "$n" "$3"; done
    rm -f "$WORK/load-$type.resp"
}

# ---- build ------------------------------------------------------------------------------
if [[ -z ${SLOTD_BIN:-} ]]; then
    log "building slotd (cargo build --release)"
    cargo build --release --bin slotd >&2
    SLOTD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/slotd"
fi
[[ -x $SLOTD_BIN ]] || { echo "bench-types.sh: no executable at SLOTD_BIN=$SLOTD_BIN" >&2; exit 1; }
[[ -x $REDIS_BIN ]] || { echo "bench-types.sh: no executable at REDIS_BIN=$REDIS_BIN" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "bench-types.sh: redis-benchmark missing" >&2; exit 1; }

# ---- run --------------------------------------------------------------------------------
START_STAMP=$(date +%Y-%m-%d-%H%M)
# Other people share the machine; the load average beside the numbers says how quiet it was.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SERVERS=(redis slotd)
declare -A BIN=([redis]=$REDIS_BIN [slotd]=$SLOTD_BIN)
declare -A PORT=([redis]=$REDIS_PORT [slotd]=$SLOTD_PORT)
declare -A ARGS=(
    [redis]="$(redis_args "$REDIS_PORT" "$WORK/redis")"
    [slotd]="$(slotd_args "$SLOTD_PORT" "$WORK/slotd")"
)
log "rounds=$ROUNDS requests: P1=$N_P1 P16=$N_P16; memory elements $MEM_N; work dir $WORK"
[[ ${BENCH_SKIP_THROUGHPUT:-0} == 1 ]] || run_throughput
[[ ${BENCH_SKIP_MEMORY:-0} == 1 ]] || run_memory

# ---- report -----------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/$START_STAMP-types.md"
MEDIANS="$WORK/medians.tsv"

# Median per (server, test, pipeline) of each measured column.
awk -F'\t' '
    { k = $1 "\t" $2 "\t" $3; n[k]++; for (c = 5; c <= 8; c++) v[k, c, n[k]] = $c }
    function median(k, c,    m, i, j, a, t) {
        m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, c, i] + 0
        for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function spread(k,    i, lo, hi, x) {
        lo = hi = v[k, 5, 1] + 0
        for (i = 2; i <= n[k]; i++) { x = v[k, 5, i] + 0; if (x < lo) lo = x; if (x > hi) hi = x }
        return lo > 0 ? hi / lo : 0
    }
    END {
        for (k in n) printf "%s\t%s\t%s\t%s\t%s\t%.2f\n", k, median(k, 5), median(k, 6),
            median(k, 7), median(k, 8), spread(k)
    }
' "$RUNS_TSV" | sort >"$MEDIANS"


throughput_tables() {
    local order
    order=$(printf '%s\n' "${TESTS[@]}" | awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $1, NR }')
    awk -F'\t' -v order="$order" '
        BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) { split(o[i], kv, "="); rank[kv[1]] = kv[2] } }
        { print rank[$2] "\t" $0 }' "$MEDIANS" | sort -t$'\t' -k1,1n -k4,4n | cut -f2- |
    awk -F'\t' '
        { k = $2 "\t" $3; rps[$1, k] = $4; p50[$1, k] = $5; p99[$1, k] = $6; cpu[$1, k] = $7
          spr[$1, k] = $8; if (!(k in seen)) { seen[k] = 1; ord[++nk] = k } }
        function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        END {
            print "| test | P | redis rps | slotd rps | rps ratio | redis p50 | slotd p50 |" \
                " redis p99 | slotd p99 | p99 ratio | redis CPU us/req | slotd CPU us/req | CPU ratio |" \
                " rps max/min redis, slotd |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            for (i = 1; i <= nk; i++) {
                k = ord[i]; split(k, tp, "\t")
                printf "| %s | %s | %.0f | %.0f | %s | %.3f | %.3f | %.3f | %.3f | %s | %.3f | %.3f | %s |" \
                    " %.2f, %.2f |\n",
                    toupper(tp[1]), tp[2], rps["redis", k], rps["slotd", k],
                    ratio(rps["slotd", k], rps["redis", k]), p50["redis", k], p50["slotd", k],
                    p99["redis", k], p99["slotd", k], ratio(p99["slotd", k], p99["redis", k]),
                    cpu["redis", k], cpu["slotd", k], ratio(cpu["slotd", k], cpu["redis", k]),
                    spr["redis", k], spr["slotd", k]
            }
        }'
}

memory_table() {
    awk -F'\t' '
        { bpe[$1, $2] = $5; len[$1, $2] = $6; enc[$1, $2] = $7; rb[$1, $2] = $3; ra[$1, $2] = $4
          ld[$1, $2] = $8; if (!($1 in seen)) { seen[$1] = 1; ord[++n] = $1 } }
        END {
            print "| type | redis B/elem | slotd B/elem | slotd/redis | redis encoding |" \
                " slotd encoding | redis RSS KiB before -> after | slotd RSS KiB before -> after |" \
                " length (redis/slotd) | load s (redis/slotd) |"
            print "|---|---:|---:|---:|---|---|---:|---:|---:|---:|"
            for (i = 1; i <= n; i++) {
                t = ord[i]
                printf "| %s | %.1f | %.1f | %s | %s | %s | %s -> %s | %s -> %s | %s / %s | %s / %s |\n",
                    t, bpe[t, "redis"], bpe[t, "slotd"],
                    (bpe[t, "redis"] > 0 ? sprintf("%.2f", bpe[t, "slotd"] / bpe[t, "redis"]) : "-"),
                    enc[t, "redis"], enc[t, "slotd"], rb[t, "redis"], ra[t, "redis"],
                    rb[t, "slotd"], ra[t, "slotd"], len[t, "redis"], len[t, "slotd"],
                    ld[t, "redis"], ld[t, "slotd"]
            }
        }' "$MEM_TSV"
}

memory_sizes_table() {
    local n
    echo "| type | elements | redis B/elem | slotd B/elem | slotd/redis |"
    echo "|---|---:|---:|---:|---:|"
    for n in $MEM_N $MEM_EXTRA; do
        local f="$WORK/mem-extra-$n.tsv"
        [[ $n == "$MEM_N" ]] && f=$MEM_TSV
        [[ -s $f ]] || continue
        awk -F'\t' -v n="$n" -v order="${MEM_TYPES[*]}" '
            BEGIN { m = split(order, o, " "); for (i = 1; i <= m; i++) rank[o[i]] = i }
            { print rank[$1] "\t" n "\t" $0 }' "$f"
    done | sort -t$'\t' -k1,1n -k2,2n | cut -f2- | awk -F'\t' '
        { b[$2, $1, $3] = $6; if (!(($2, $1) in seen)) { seen[$2, $1] = 1; ord[++k] = $2 "\t" $1 } }
        END {
            for (i = 1; i <= k; i++) {
                split(ord[i], tn, "\t"); t = tn[1]; n = tn[2]; r = b[t, n, "redis"]; s = b[t, n, "slotd"]
                printf "| %s | %s | %.1f | %.1f | %s |\n", t, n, r, s, (r > 0 ? sprintf("%.2f", s / r) : "-")
            }
        }'
}

{
    echo "# slotd vs redis-server, collection types: $(date '+%Y-%m-%d %H:%M')"
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
    echo "- load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- rounds: $ROUNDS (servers alternate per run), quick: $QUICK; medians below"
    echo
    echo "## Command lines"
    echo
    echo '```'
    for name in "${SERVERS[@]}"; do
        echo "$name: ${CMDLINE[$name]:-taskset -c $SERVER_CPU ${BIN[$name]} ${ARGS[$name]}}"
    done
    for p in "${PIPELINES[@]}"; do
        echo "run:  $(bench_cmd PORT TEST "$p" "$(requests_for "$p")")" \
            "  # TEST in lpush lpop sadd hset lrange_100"
        echo "run:  $(bench_cmd PORT zadd "$p" "$(requests_for "$p")")"
    done
    echo "before each LRANGE_100 run (not measured): taskset -c $CLIENT_CPU redis-benchmark" \
        "-h 127.0.0.1 -p PORT -c $CLIENTS -r $KEYSPACE -t lpush -P 16 -n $LIST_FILL -q"
    echo "memory load: taskset -c $CLIENT_CPU redis-cli -h 127.0.0.1 -p PORT --pipe < generated.resp"
    echo '```'
    echo
    echo "## Throughput"
    echo
    echo "CPU us/req: server utime+stime delta from /proc/PID/stat (CLK_TCK=$CLK_TCK) over the"
    echo "run, divided by the requests sent. Latencies in ms. Ratios are slotd/redis (rps: higher"
    echo "is better for slotd; p99 and CPU: lower is better). LPUSH, LPOP, LRANGE_100 all work on"
    echo "the one key mylist, SADD on myset, HSET on myhash, ZADD on myzset (members from a"
    echo "$KEYSPACE-value space); LPOP runs right after LPUSH with the same request count, so it"
    echo "pops a list of about that size. LRANGE_100 replies carry 100 elements each. The last"
    echo "column is the fastest round's rps over the slowest's: far above 1 means the shared"
    echo "machine disturbed that row, so trust its ratios less. CPU us/req is counted in"
    echo "$((1000000 / CLK_TCK)) us ticks, so its resolution is $((1000000 / CLK_TCK)) us / requests (see the -n values)."
    echo
    if [[ -s $MEDIANS ]]; then throughput_tables; else echo "(skipped)"; fi
    echo
    echo "## Memory per element"
    echo
    echo "One key of $MEM_N elements loaded into a freshly started server with redis-cli --pipe,"
    echo "$MEM_BATCH elements per command; B/elem = (VmRSS after - VmRSS before) / $MEM_N, VmRSS"
    echo "from /proc/PID/status 0.5 s after start and 1 s after the load. Element shapes (I ="
    echo "0..$((MEM_N - 1))):"
    echo
    for type in "${MEM_TYPES[@]}"; do echo "- $type: \`${MEM_SHAPE[$type]}\`"; done
    echo
    if [[ -s $MEM_TSV ]]; then memory_table; else echo "(skipped)"; fi
    if [[ -n $MEM_EXTRA && -s $MEM_TSV ]]; then
        echo
        echo "### B/elem at other sizes"
        echo
        echo "Same load and measure, other element counts. Each table grows in steps, so B/elem"
        echo "depends on where N falls between two steps; compare the servers across sizes."
        echo
        memory_sizes_table
    fi
    echo
    echo "## All throughput runs"
    echo
    echo "| server | test | P | round | rps | p50 ms | p99 ms | CPU us/req |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$RUNS_TSV"
} >"$REPORT"

log "report: $REPORT"
