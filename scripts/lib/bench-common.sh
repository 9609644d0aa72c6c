# scripts/lib/bench-common.sh: helpers shared by bench.sh and bench-types.sh (sourced, not run).
# The sourcing script defines WORK, SERVER_CPU, START_WAIT_TENTHS, STOP_WAIT_TENTHS, log(),
# and the associative arrays PID and CMDLINE before sourcing this file. Installs the EXIT trap
# that stops every server started here.

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
