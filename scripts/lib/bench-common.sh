# shellcheck shell=bash
# PID and CMDLINE are the sourcing script's associative arrays, unknown to shellcheck here.
# shellcheck disable=SC2004,SC2034
# scripts/lib/bench-common.sh: helpers shared by the bash bench scripts (bench.sh,
# bench-cluster.sh, bench-sync.sh; sourced, not run). The Python ones share scripts/benchlib.py.
# The sourcing script defines WORK, SERVER_CPU, START_WAIT_TENTHS, STOP_WAIT_TENTHS, log(),
# and the associative arrays PID and CMDLINE before sourcing this file. Installs the EXIT trap
# that stops every server started here; a script that starts servers another way (clusters)
# defines before_cleanup() to stop them, and the trap calls it first.

stop_server() { # name
    local name=$1 pid=${PID[$1]:-}
    [[ -z $pid ]] && return 0
    unset "PID[$name]"
    kill -TERM "$pid" 2>/dev/null || return 0
    local i
    for ((i = 0; i < STOP_WAIT_TENTHS; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM for $((STOP_WAIT_TENTHS / 10))s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if declare -F before_cleanup >/dev/null; then before_cleanup || true; fi
    for name in "${!PID[@]}"; do stop_server "$name"; done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { redis-cli -h 127.0.0.1 -p "$1" PING >/dev/null 2>&1; }

start_server() { # name bin port args...
    local name=$1 bin=$2 port=$3
    shift 3
    if port_busy "$port"; then
        echo "${0##*/}: something already answers on port $port; not benchmarking it" >&2
        exit 1
    fi
    rm -rf "${WORK:?}/$name"
    mkdir -p "$WORK/$name"
    CMDLINE[$name]="taskset -c $SERVER_CPU $bin $*"
    # eval turns the quoted '' (empty save) into an empty argument, as a shell would.
    local -a argv
    eval "argv=($*)"
    # A plain background command: taskset and then the server exec in place, so $! is the
    # server's own pid (needed for /proc/PID/stat and for stopping it).
    taskset -c "$SERVER_CPU" "$bin" "${argv[@]}" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    local i
    for ((i = 0; i < START_WAIT_TENTHS; i++)); do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            echo "${0##*/}: $name exited at start; its log:" >&2
            tail -n 20 "$WORK/$name.log" >&2
            unset "PID[$name]"
            exit 1
        fi
        port_busy "$port" && { log "$name up (pid ${PID[$name]}, port $port)"; return 0; }
        sleep 0.1
    done
    echo "${0##*/}: $name did not answer PING within $((START_WAIT_TENTHS / 10))s" >&2
    exit 1
}

cpu_ticks() { # pid -> utime+stime of the whole process, in clock ticks
    # Field 2 (comm) may hold spaces; cut everything up to the last ')'.
    local rest
    rest=$(sed 's/.*) //' "/proc/$1/stat")
    awk '{ print $12 + $13 }' <<<"$rest"
}

slotd_rev() {
    local rev
    rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD 2>/dev/null || rev="$rev (dirty)"
    echo "$rev"
}

# Median per (server, test, pipeline) of the measured columns of a runs TSV
# (server, test, pipeline, round, rps, p50_ms, p99_ms, cpu_us_per_req), sorted.
runs_medians() { # runs_tsv
    awk -F'\t' '
        { k = $1 "\t" $2 "\t" $3; n[k]++; for (c = 5; c <= 8; c++) v[k, c, n[k]] = $c }
        function median(k, c,    m, i, j, a, t) {
            m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, c, i] + 0
            for (i = 2; i <= m; i++) {
                t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t
            }
            return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
        }
        END {
            for (k in n)
                printf "%s\t%s\t%s\t%s\t%s\n", k, median(k, 5), median(k, 6), median(k, 7),
                    median(k, 8)
        }' "$1" | sort
}

# Markdown: one table per (test, pipeline) with the redis and slotd medians and their ratio.
medians_tables() { # medians_tsv
    awk -F'\t' '
        { k = $2 "\t" $3; rps[$1, k] = $4; p50[$1, k] = $5; p99[$1, k] = $6; cpu[$1, k] = $7
          if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
        function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        END {
            for (i = 1; i <= nk; i++) {
                k = order[i]; split(k, tp, "\t")
                # "set r=1M" reads "SET r=1M": only the command is upper case.
                title = tp[1]
                sub(/^[^ ]+/, toupper(substr(title, 1, index(title " ", " ") - 1)), title)
                printf "\n### %s, pipeline %s\n\n", title, tp[2]
                print "| server | rps | p50 ms | p99 ms | CPU us/req |"
                print "|---|---:|---:|---:|---:|"
                for (s = 1; s <= 2; s++) {
                    name = s == 1 ? "redis" : "slotd"
                    printf "| %s | %.0f | %.3f | %.3f | %.3f |\n", name, rps[name, k],
                        p50[name, k], p99[name, k], cpu[name, k]
                }
                printf "| slotd/redis | %s | %s | %s | %s |\n",
                    ratio(rps["slotd", k], rps["redis", k]),
                    ratio(p50["slotd", k], p50["redis", k]),
                    ratio(p99["slotd", k], p99["redis", k]),
                    ratio(cpu["slotd", k], cpu["redis", k])
            }
        }' <(sort -t$'\t' -k2,2 -k3,3n "$1")
}

# Markdown table of every run of a runs TSV.
runs_table() { # runs_tsv
    echo "| server | test | P | round | rps | p50 ms | p99 ms | CPU us/req |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }' "$1"
}

# Machine description for a report header (markdown list items).
machine_header() {
    echo "- CPUs (nproc): $(nproc)"
    echo "- model: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- kernel: $(uname -r)"
    echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
}
