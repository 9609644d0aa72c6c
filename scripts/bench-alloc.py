#!/usr/bin/env python3
"""scripts/bench-alloc.py: slotd built with each allocator (jemalloc, mimalloc, glibc malloc)
side by side with redis-server, in one run: bytes per key, fragmentation after deleting half
the keys, and server CPU per request of SET/GET at -P 16.

Usage: scripts/bench-alloc.py [--quick]
  --quick   1 CPU round instead of 3, request counts divided by 4, 200k keys instead of 1M.
Environment:
  SLOTD_BINS   space-separated NAME=PATH pairs, e.g.
               "jemalloc=/tmp/slotd-jemalloc mimalloc=/tmp/slotd-mimalloc system=/tmp/slotd-system"
               (build each with `cargo build --release` plus `--no-default-features --features
               mimalloc|system`; copy the binary away between builds). Required.
  REDIS_BIN    default /usr/bin/redis-server
  BASE_PORT    default 6520 (each server gets the next port)
  SERVER_CPU   default 1;  CLIENT_CPU default 0
  BENCH_KEYS   keys loaded (default 1000000)
  BENCH_N_P16  requests per SET/GET run (default 2000000)
  BENCH_OUT_DIR  default bench-results

Per server, started fresh with cluster-enabled yes owning every slot:
  1. RSS (VmRSS) and used_memory before; load BENCH_KEYS keys `key:%010d` with 16-byte values
     through one `redis-cli --pipe`; both after. bytes/key = (after - before) / keys.
  2. DEL every even key through `redis-cli --pipe`, wait 2 s; RSS and used_memory then, and
     their ratio (what mem_fragmentation_ratio shows) and how much of the load's RSS came back.
  3. SET then GET with redis-benchmark -P 16 -r BENCH_KEYS, 50 clients; server CPU
     (utime+stime from /proc/PID/stat) per request. Rounds outermost, servers in alternating
     order; the report holds medians.
Output: bench-results/YYYY-MM-DD-HHMM-alloc.md
"""

import os
import subprocess
import sys
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-alloc.py"
CLIENTS = 50
STOP_WAIT_S = 20
LOAD_TIMEOUT_S = 600
CLUSTER_OK_WAIT_S = 20
TESTS = ["set", "get"]


class Settings:
    def __init__(self, opts):
        quick = opts.quick
        self.keys = bl.env_int("BENCH_KEYS", 200000 if quick else 1000000)
        self.n = bl.env_int("BENCH_N_P16", 2000000) // (4 if quick else 1)
        self.rounds = 1 if quick else 3
        self.redis_bin = bl.env_str("REDIS_BIN", "/usr/bin/redis-server")
        self.base_port = bl.env_int("BASE_PORT", 6520)
        self.server_cpu = bl.env_str("SERVER_CPU", "1")
        self.client_cpu = bl.env_str("CLIENT_CPU", "0")
        self.out_dir = bl.env_str("BENCH_OUT_DIR", "bench-results")
        pairs = os.environ.get("SLOTD_BINS", "").split()
        if not pairs:
            raise Fatal("SLOTD_BINS is required (see --help)")
        self.slotd = []
        for pair in pairs:
            name, _, path = pair.partition("=")
            if not path:
                raise Fatal(f"SLOTD_BINS entry {pair!r} is not NAME=PATH")
            bl.need_executable(path, f"SLOTD_BINS {name}")
            self.slotd.append((f"slotd-{name}", path))


def servers(s, b):
    """name -> (binary, port, args). Each runs in its own fresh dir under the work dir."""
    out = {}
    port = s.base_port
    for name, binary in [("redis", s.redis_bin)] + s.slotd:
        d = b.work / name
        common = f"--port {port} --bind 127.0.0.1 --cluster-enabled yes --dir {d}"
        if name == "redis":
            args = common + " --save '' --appendonly no"
        else:
            args = common + " --server-threads 1"
        out[name] = (binary, port, args)
        port += 1
    return out


def start_cluster_node(s, b, name, spec):
    binary, port, args = spec
    b.start(name, binary, port, s.server_cpu, args)
    bl.cli(port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    deadline = time.monotonic() + CLUSTER_OK_WAIT_S
    while "cluster_state:ok" not in bl.cli(port, "CLUSTER", "INFO"):
        if time.monotonic() > deadline:
            raise Fatal(f"{name}: cluster_state not ok after {CLUSTER_OK_WAIT_S}s")
        time.sleep(0.1)


def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def gen_file(path, keys, what):
    with open(path, "wb") as f:
        for i in range(keys):
            key = f"key:{i:010d}"
            if what == "set":
                # 16 bytes and not a number (Redis would store a number as an int).
                f.write(b"*3\r\n$3\r\nSET\r\n" + bulk(key) + bulk(f"val:{i:012d}"))
            elif i % 2 == 0:
                f.write(b"*2\r\n$3\r\nDEL\r\n" + bulk(key))


def pipe(s, port, path, what):
    with open(path, "rb") as data:
        try:
            res = subprocess.run(["taskset", "-c", s.client_cpu, "redis-cli", "-h",
                                  "127.0.0.1", "-p", str(port), "--pipe"], stdin=data,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace", timeout=LOAD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise Fatal(f"{what} on port {port} timed out") from None
    if res.returncode != 0 or "errors: 0," not in res.stdout:
        raise Fatal(f"{what} on port {port}: {res.stdout[-300:]}")


def rss_bytes(b, name):
    return bl.proc_status_kib(b.pid(name), "VmRSS") * 1024


def used_memory(port):
    return int(bl.info_field(port, "memory", "used_memory") or 0)


def memory_part(s, b, specs, set_path, del_path):
    rows = []
    for name, spec in specs.items():
        port = spec[1]
        start_cluster_node(s, b, name, spec)
        time.sleep(0.5)
        rss0 = rss_bytes(b, name)
        used0 = used_memory(port)
        pipe(s, port, set_path, "loading keys")
        time.sleep(1)  # Redis rehashes incrementally in its cron; let it settle
        rss1 = rss_bytes(b, name)
        used1 = used_memory(port)
        pipe(s, port, del_path, "deleting half the keys")
        time.sleep(2)
        rss2 = rss_bytes(b, name)
        used2 = used_memory(port)
        rows.append({
            "name": name,
            "b_per_key": (rss1 - rss0) / s.keys,
            "used_per_key": (used1 - used0) / s.keys,
            "rss_after_del_mib": rss2 / 1048576,
            "used_after_del_mib": used2 / 1048576,
            "frag": rss2 / used2 if used2 else 0.0,
            "returned": (rss1 - rss2) / (rss1 - rss0) if rss1 > rss0 else 0.0,
        })
        r = rows[-1]
        b.log(f"{name}: {r['b_per_key']:.1f} B/key RSS, {r['used_per_key']:.1f} B/key used; "
              f"after DEL half: RSS {r['rss_after_del_mib']:.1f} MiB, used "
              f"{r['used_after_del_mib']:.1f} MiB, ratio {r['frag']:.2f}")
        b.stop(name)
    return rows


def cpu_part(s, b, specs):
    runs = []
    for name, spec in specs.items():
        start_cluster_node(s, b, name, spec)
    for rnd in range(1, s.rounds + 1):
        b.log(f"CPU round {rnd}/{s.rounds}")
        for test in TESTS:
            for name in bl.round_order(specs, rnd):
                port = specs[name][1]
                argv = ["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1",
                        "-p", str(port), "-c", str(CLIENTS), "-r", str(s.keys), "-P", "16",
                        "-n", str(s.n), "-t", test, "--csv"]
                before = bl.cpu_ticks(b.pid(name))
                res = bl.benchmark(argv, bl.RUN_TIMEOUT_S)
                after = bl.cpu_ticks(b.pid(name))
                cpu = bl.cpu_us_per_req(after - before, s.n)
                runs.append((name, test, rnd, float(res["rps"]), cpu))
                b.log(f"  {name:15} {test} r{rnd}: {res['rps']} rps, {cpu:.4f} us/req")
    for name in specs:
        b.stop(name)
    return runs


def report(s, specs, mem_rows, runs, started):
    lines = [f"# Allocators: slotd with jemalloc, mimalloc and glibc malloc vs redis-server "
             f"({started})", "", "Machine and servers:", ""]
    lines += bl.machine_lines()
    lines += [f"- load average at the end: {bl.loadavg()}",
              f"- redis-server: {bl.server_version(s.redis_bin)}",
              f"- slotd: git {bl.slotd_rev()}"]
    lines += [f"- {name}: {path}" for name, path in s.slotd]
    lines += ["", "Command lines (each server alone on CPU %s, clients on CPU %s):"
              % (s.server_cpu, s.client_cpu), ""]
    lines += [f"- {name}: `{specs[name][0]} {specs[name][2]}`" for name in specs]
    lines += [f"- load: one `redis-cli --pipe` of {s.keys} `SET key:%010d val:%012d` "
              "(16-byte values); then one of DEL on every even key",
              f"- CPU: `redis-benchmark -c {CLIENTS} -r {s.keys} -P 16 -n {s.n} -t set|get`, "
              f"{s.rounds} round(s), medians",
              "", "## Memory", "",
              "| server | RSS B/key | used_memory B/key | after DEL half: RSS MiB | "
              "used MiB | RSS/used | load RSS given back |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in mem_rows:
        lines.append(bl.md_row([r["name"], "%.1f" % r["b_per_key"], "%.1f" % r["used_per_key"],
                                "%.1f" % r["rss_after_del_mib"],
                                "%.1f" % r["used_after_del_mib"], "%.2f" % r["frag"],
                                "%.0f%%" % (100 * r["returned"])]))
    lines += ["", "## Server CPU per request (-P 16, medians)", "",
              "| server | SET us/req | GET us/req | SET vs redis | GET vs redis |",
              "|---|---:|---:|---:|---:|"]
    med = {}
    for name in specs:
        for test in TESTS:
            med[(name, test)] = bl.median([r[4] for r in runs if r[0] == name and r[1] == test])
    for name in specs:
        lines.append(bl.md_row([name, "%.4f" % med[(name, "set")], "%.4f" % med[(name, "get")],
                                bl.ratio(med[(name, "set")], med[("redis", "set")]),
                                bl.ratio(med[(name, "get")], med[("redis", "get")])]))
    lines += bl.md_section_table("All CPU runs", "| server | test | round | rps | us/req |",
                                 "|---|---|---:|---:|---:|",
                                 [[n, t, r, "%.0f" % rps, "%.4f" % c]
                                  for n, t, r, rps, c in runs])
    return "\n".join(lines) + "\n"


def main():
    ap = bl.arg_parser(PROG, __doc__)
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    s = Settings(opts)
    bl.need_executable(s.redis_bin, "REDIS_BIN")
    bl.need_tools("redis-benchmark", "redis-cli", "taskset")
    started = bl.now_text()
    stamp = bl.stamp()
    with bl.Bench("alloc", "bench-alloc-", 10, STOP_WAIT_S) as b:
        specs = servers(s, b)
        set_path, del_path = b.work / "set.resp", b.work / "del.resp"
        gen_file(set_path, s.keys, "set")
        gen_file(del_path, s.keys, "del")
        mem_rows = memory_part(s, b, specs, set_path, del_path)
        runs = cpu_part(s, b, specs)
        text = report(s, specs, mem_rows, runs, started)
    bl.write_report(s.out_dir, f"{stamp}-alloc.md", text, b.log)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
