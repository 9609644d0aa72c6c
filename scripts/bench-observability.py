#!/usr/bin/env python3
"""scripts/bench-observability.py: what the latency and slow logs cost slotd per request.

One slotd (one shard, pinned to SERVER_CPU), SET then GET with redis-benchmark -P 16 (pinned
to CLIENT_CPU), in rounds that alternate the two settings A,B,A,B:
  off: latency-tracking no, latency-monitor-threshold 0, slowlog-log-slower-than -1,
       notify-keyspace-events ""
  on:  latency-tracking yes, latency-monitor-threshold 1, slowlog-log-slower-than 10000,
       notify-keyspace-events KEA (Redis' defaults plus the monitor and every notification
       class: every command is timed, recorded in its histogram, compared with both
       thresholds, and raises its events, with no subscriber listening)
The settings change with CONFIG SET between runs of the same process, so both sides share
the binary, the heap and the caches. The measure is the server's CPU time per request from
/proc/PID/stat (utime+stime), the median over rounds, since the machine is shared.

Usage: scripts/bench-observability.py [--quick]
Environment: SLOTD_BIN (else cargo build --release), SERVER_CPU (1), CLIENT_CPU (0),
BENCH_N (1000000 requests per run; --quick divides by 5), ROUNDS (5; --quick 3),
BENCH_OUT_DIR (bench-results). Writes BENCH_OUT_DIR/<stamp>-observability.md.
"""

import sys

import benchlib as bl

SETTINGS = {
    "off": ["latency-tracking", "no", "latency-monitor-threshold", "0",
            "slowlog-log-slower-than", "-1", "notify-keyspace-events", ""],
    "on": ["latency-tracking", "yes", "latency-monitor-threshold", "1",
           "slowlog-log-slower-than", "10000", "notify-keyspace-events", "KEA"],
}
TESTS = ["set", "get"]


def main():
    ap = bl.arg_parser("bench-observability.py", __doc__)
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    log = bl.make_logger("observability")
    bl.need_tools("redis-benchmark", "redis-cli", "taskset")
    slotd = bl.slotd_binary(log)
    server_cpu = bl.env_str("SERVER_CPU", "1")
    client_cpu = bl.env_str("CLIENT_CPU", "0")
    n = bl.env_int("BENCH_N", 1000000) // (5 if opts.quick else 1)
    rounds = bl.env_int("ROUNDS", 3 if opts.quick else 5)
    out_dir = bl.env_str("BENCH_OUT_DIR", "bench-results")
    stamp, load0 = bl.stamp(), bl.loadavg()
    port = 7190
    us = {(side, t): [] for side in SETTINGS for t in TESTS}
    with bl.Bench("observability", "slotd-obs-", bl.START_WAIT_S, 10) as b:
        b.start("slotd", slotd, port, server_cpu,
                f"--port {port} --server-threads 1 --dir {b.work / 'slotd'}")
        pid = b.pid("slotd")
        for rnd in range(1, rounds + 1):
            for side in bl.round_order(list(SETTINGS), rnd):
                bl.cli(port, "CONFIG", "SET", *SETTINGS[side])
                for t in TESTS:
                    t0 = bl.cpu_ticks(pid)
                    bl.benchmark(["taskset", "-c", client_cpu, "redis-benchmark", "-h",
                                  "127.0.0.1", "-p", str(port), "-n", str(n), "-P", "16",
                                  "-r", "100000", "-t", t, "--csv"], bl.RUN_TIMEOUT_S)
                    per = bl.cpu_us_per_req(bl.cpu_ticks(pid) - t0, n)
                    us[(side, t)].append(per)
                    log(f"round {rnd} {side:3} {t}: {per:.3f} us/request")
    rows = []
    for t in TESTS:
        off, on = bl.median(us[("off", t)]), bl.median(us[("on", t)])
        rows.append([t.upper(), f"{off:.3f}", f"{on:.3f}", f"{(on / off - 1) * 100:+.1f}%"])
    text = "\n".join([
        f"# Latency and slow logs: server CPU per request ({bl.now_text()})",
        "",
        "scripts/bench-observability.py: one slotd shard, redis-benchmark -P 16, "
        f"{n} requests per run, {rounds} rounds alternating off/on; median CPU us/request "
        "from /proc/PID/stat.",
        "",
        *bl.machine_lines(),
        f"- slotd: git {bl.slotd_rev()}, binary {slotd}",
        f"- load average at start: {load0}, at end: {bl.loadavg()}",
        "",
        bl.md_row(["test", "off (us/req)", "on (us/req)", "on vs off"]),
        bl.md_row(["---", "---:", "---:", "---:"]),
        *bl.md_rows(rows),
        "",
    ])
    bl.write_report(out_dir, f"{stamp}-observability.md", text, log)
    print(text)


if __name__ == "__main__":
    try:
        main()
    except bl.Fatal as e:
        print(f"bench-observability.py: {e}", file=sys.stderr)
        sys.exit(1)
