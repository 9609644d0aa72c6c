#!/usr/bin/env python3
"""scripts/bench-bgsave.py: what a BGSAVE costs while clients write, slotd (snapshot without
fork) against redis-server (fork, copy-on-write), for the same data and the same writes.

Usage: scripts/bench-bgsave.py [--keys N] [--value-bytes B] [--threads T] [--quick]
                              [--rounds R] [--no-redis]
  --keys N         keys loaded before the BGSAVE (default 10000000; scale down on a small
                   machine: the load file is about N * (40 + B) bytes in the work dir)
  --value-bytes B  bytes per value (default 16)
  --threads T      slotd's server-threads (default 1)
  --quick          1/10 of the keys
  --rounds R       measure slotd R times (default 1); with SLOTD_BASE_BIN, that binary and
                   SLOTD_BIN alternate (base, new, base, new...) for a before/after comparison
  --no-redis       skip redis-server (an A/B of two slotd binaries only)
Environment: SLOTD_BIN (default: cargo build --release), SLOTD_BASE_BIN (none), REDIS_BIN (default
/usr/bin/redis-server), REDIS_PORT (6530), SLOTD_PORT (6531), SERVER_CPU (default "1"; with
--threads > 1 give one CPU per thread, e.g. "1-3"), CLIENT_CPU (0), BENCH_OUT_DIR
(bench-results).

Method, for each server in turn (freshly started with no save points, pinned to SERVER_CPU):
load N keys `key:%010d` with `redis-cli --pipe`, wait for RSS to settle, start
`redis-benchmark -t set -r N -c 20 -P 1` writing random keys among them (pinned to CLIENT_CPU)
and a probe: one connection sending SET to random keys one at a time and timing each reply.
After 2 s, BGSAVE; the probe keeps going until INFO says the save ended. Reported: the save's
duration, the slowest probe reply during the save and the 99.9th percentile, the server's
VmRSS growth (peak during the save minus before), Redis' rdb_last_cow_size (the child's
copy-on-write bytes, which its parent's RSS does not show) and latest_fork_usec, slotd's
rdb_last_cow_size (the peak bytes of its snapshot queue), and the write throughput during the
save.
Output: bench-results/YYYY-MM-DD-HHMM-bgsave.md
"""

import os
import random
import socket
import subprocess
import threading
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-bgsave.py"
STOP_WAIT_S = 120
LOAD_TIMEOUT_S = 1800
SAVE_TIMEOUT_S = 1800
GEN_CHUNK = 50000
BENCH_CLIENTS = 20
SETTLE_S = 2.0


class Settings:
    def __init__(self):
        ap = bl.arg_parser(PROG, __doc__)
        ap.add_argument("--keys", type=int, default=10_000_000)
        ap.add_argument("--value-bytes", type=int, default=16)
        ap.add_argument("--threads", type=int, default=1)
        ap.add_argument("--quick", action="store_true")
        ap.add_argument("--rounds", type=int, default=1)
        ap.add_argument("--no-redis", action="store_true")
        opts = ap.parse_args()
        self.rounds = max(1, opts.rounds)
        self.with_redis = not opts.no_redis
        self.base_bin = bl.env_str("SLOTD_BASE_BIN", "")
        self.keys = opts.keys // (10 if opts.quick else 1)
        self.value_bytes = opts.value_bytes
        self.threads = opts.threads
        self.redis_bin = bl.env_str("REDIS_BIN", "/usr/bin/redis-server")
        self.redis_port = bl.env_int("REDIS_PORT", 6530)
        self.slotd_port = bl.env_int("SLOTD_PORT", 6531)
        self.server_cpu = bl.env_str("SERVER_CPU", "1")
        self.client_cpu = bl.env_str("CLIENT_CPU", "0")
        self.out_dir = bl.env_str("BENCH_OUT_DIR", "bench-results")


def write_load_file(path, keys, value_bytes):
    value = b"v" * value_bytes
    tail = b"$%d\r\n%s\r\n" % (len(value), value)
    with open(path, "wb") as f:
        for start in range(0, keys, GEN_CHUNK):
            parts = []
            for i in range(start, min(keys, start + GEN_CHUNK)):
                parts.append(b"*3\r\n$3\r\nSET\r\n$14\r\nkey:%010d\r\n" % i + tail)
            f.write(b"".join(parts))


class Probe(threading.Thread):
    """SETs random keys one at a time on its own connection, timing each reply; `window`
    collects the times while a save runs."""

    def __init__(self, port, keys):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.keys = keys
        self.stop = False
        self.window = None
        self.error = None

    def run(self):
        try:
            while not self.stop:
                k = b"key:%010d" % random.randrange(self.keys)
                t0 = time.perf_counter()
                self.sock.sendall(b"*3\r\n$3\r\nSET\r\n$14\r\n%s\r\n$1\r\nx\r\n" % k)
                got = b""
                while not got.endswith(b"\r\n"):
                    chunk = self.sock.recv(64)
                    if not chunk:
                        raise OSError("connection closed")
                    got += chunk
                took = time.perf_counter() - t0
                if self.window is not None:
                    self.window.append(took)
        except OSError as e:
            self.error = str(e)


def set_calls(port):
    """SET calls so far (INFO commandstats), 0 when none yet."""
    stat = bl.info_field(port, "commandstats", "cmdstat_set")
    for part in stat.split(","):
        key, _, value = part.partition("=")
        if key == "calls":
            return int(value)
    return 0


def rss_kib(pid):
    return bl.proc_status_kib(pid, "VmRSS")


def measure(b, s, name, binary, port, args, load_path):
    b.start(name, binary, port, s.server_cpu, args, bound_s=60)
    pid = b.pid(name)
    took, errors = bl.pipe_load(port, load_path, s.client_cpu, LOAD_TIMEOUT_S, f"{name} load")
    if errors:
        raise Fatal(f"{name} load: {errors}")
    b.log(f"{name}: {s.keys} keys loaded in {took:.1f}s")
    time.sleep(SETTLE_S)
    rss_before = rss_kib(pid)
    bench = subprocess.Popen(
        ["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
         "-t", "set", "-r", str(s.keys), "-d", str(s.value_bytes), "-c", str(BENCH_CLIENTS),
         "-n", "1000000000", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = Probe(port, s.keys)
    probe.start()
    try:
        time.sleep(2.0)
        sets_before = set_calls(port)
        probe.window = []
        t0 = time.monotonic()
        reply = bl.cli(port, "BGSAVE").strip()
        if "started" not in reply:
            raise Fatal(f"{name} BGSAVE: {reply}")
        peak = rss_before
        while True:
            peak = max(peak, rss_kib(pid))
            if bl.info_field(port, "persistence", "rdb_bgsave_in_progress") == "0":
                break
            if time.monotonic() - t0 > SAVE_TIMEOUT_S:
                raise Fatal(f"{name} BGSAVE took over {SAVE_TIMEOUT_S}s")
            time.sleep(0.05)
        save_s = time.monotonic() - t0
        window = probe.window
        probe.window = None
        sets_after = set_calls(port)
    finally:
        probe.stop = True
        bench.terminate()
        bench.wait(timeout=30)
    if probe.error:
        raise Fatal(f"{name} probe: {probe.error}")
    status = bl.info_field(port, "persistence", "rdb_last_bgsave_status")
    window.sort()
    row = {
        "save_s": save_s,
        "status": status,
        "probe_n": len(window),
        "max_ms": window[-1] * 1e3 if window else 0.0,
        "p999_ms": window[max(0, -(-len(window) * 999 // 1000) - 1)] * 1e3 if window else 0.0,
        "rss_growth_mib": (peak - rss_before) / 1024,
        "rss_before_mib": rss_before / 1024,
        "cow_mib": int(bl.info_field(port, "persistence", "rdb_last_cow_size") or 0) / 2**20,
        "fork_us": bl.info_field(port, "stats", "latest_fork_usec") or "-",
        "writes_per_s": (sets_after - sets_before) / save_s if save_s > 0 else 0.0,
        "file_mib": os.path.getsize(b.work / name / "dump.rdb") / 2**20,
    }
    b.log(f"{name}: {row}")
    b.stop(name)
    return row


def report(s, rows, redis_bin, slotd_bin, started, load, cmdlines):
    lines = [f"# BGSAVE while writing: slotd vs redis-server ({started})", ""]
    lines += bl.machine_lines()
    lines += bl.server_lines(redis_bin, slotd_bin, False)
    if s.base_bin:
        lines.append(f"- slotd-base (the comparison's before): {s.base_bin}")
    lines += [f"- load average at start: {load}, at end: {bl.loadavg()}",
              f"- keys: {s.keys}, value bytes: {s.value_bytes}, slotd server-threads: "
              f"{s.threads}; writers: redis-benchmark -t set -r {s.keys} -c {BENCH_CLIENTS} "
              "plus one probe connection", ""]
    lines += ["Command lines:", ""] + [f"    {c}" for c in cmdlines] + [""]
    header = ["server", "save s", "status", "probe replies", "slowest reply ms", "p99.9 ms",
              "RSS before MiB", "RSS growth MiB", "rdb_last_cow_size MiB", "fork us",
              "SETs/s during save", "file MiB"]
    body = []
    for name, r in rows:
        body.append([name, f"{r['save_s']:.2f}", r["status"], str(r["probe_n"]),
                     f"{r['max_ms']:.2f}", f"{r['p999_ms']:.2f}", f"{r['rss_before_mib']:.0f}",
                     f"{r['rss_growth_mib']:.1f}", f"{r['cow_mib']:.1f}", r["fork_us"],
                     f"{r['writes_per_s']:.0f}", f"{r['file_mib']:.1f}"])
    lines.append(bl.md_row(header))
    lines.append(bl.md_row(["---"] + ["---:"] * (len(header) - 1)))
    lines += [bl.md_row(row) for row in body]
    lines += ["", "Redis' memory cost is its child's copy-on-write (rdb_last_cow_size): its "
              "parent's RSS does not grow. slotd's is its own RSS growth; its "
              "rdb_last_cow_size is the peak of its snapshot queue.", ""]
    return "\n".join(lines)


def main():
    s = Settings()
    os.chdir(bl.ROOT)
    log = bl.make_logger("bench-bgsave")
    slotd_bin = bl.pair_binaries(log, s.redis_bin)
    started, load = bl.stamp(), bl.loadavg()
    with bl.Bench("bench-bgsave", "bench-bgsave-", 60, STOP_WAIT_S) as b:
        load_path = b.work / "load.resp"
        log(f"writing the load file ({s.keys} keys)")
        write_load_file(load_path, s.keys, s.value_bytes)
        rows = []
        if s.with_redis:
            args = bl.plain_redis_args(s.redis_port, b.work / "redis")
            rows.append(("redis", measure(b, s, "redis", s.redis_bin, s.redis_port, args,
                                          load_path)))
        pair = [("slotd-base", s.base_bin)] if s.base_bin else []
        pair.append(("slotd", slotd_bin))
        for _ in range(s.rounds):
            for name, binary in pair:
                args = (f"--port {s.slotd_port} --bind 127.0.0.1 --save '' "
                        f"--dir {b.work / name} --server-threads {s.threads}")
                rows.append((name, measure(b, s, name, binary, s.slotd_port, args,
                                           load_path)))
        cmdlines = list(b.cmdline.values())
        text = report(s, rows, s.redis_bin, slotd_bin, started, load, cmdlines)
    bl.write_report(s.out_dir, f"{started}-bgsave.md", text, log)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(bl.main_guard(PROG, main))
