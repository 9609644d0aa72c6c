#!/usr/bin/env python3
"""scripts/bench-datatypes.py: slotd vs redis-server on issue 15's data types (streams, bitmaps,
HyperLogLog, geo), in one run: server CPU per request and throughput of XADD, XREAD, SETBIT,
BITCOUNT, PFADD, PFCOUNT and GEOSEARCH at -P 1 and -P 16, then memory per stream entry, per
bitmap bit and per HyperLogLog key.

Usage: scripts/bench-datatypes.py [--quick] [--slotd-redis-args]
  --quick             3 rounds instead of 5, request counts divided by 10.
  --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
                      SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
Environment:
  SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
  SLOTD_ARGS        replaces the slotd arguments (default: --port $SLOTD_PORT --server-threads 1)
  REDIS_BIN         default /usr/bin/redis-server
  REDIS_PORT        default 6510;   SLOTD_PORT  default 6511
  SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
  BENCH_OUT_DIR     default bench-results (relative to the repository root)
  BENCH_N_P1, BENCH_N_P16  request counts before --quick's division (defaults 200000, 2000000)
  BENCH_MEM_N       stream entries / set bits / HLL keys loaded for the memory part
                    (default 1000000; the HLL part uses BENCH_MEM_N / 50 keys)
  BENCH_SKIP_THROUGHPUT=1 / BENCH_SKIP_MEMORY=1  run only the other part
Smoke test of the plumbing without slotd (a few seconds):
  SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=2000 BENCH_N_P16=20000 BENCH_MEM_N=20000 \\
    BENCH_OUT_DIR=/tmp/bench-smoke scripts/bench-datatypes.py --quick --slotd-redis-args

Conventions are scripts/bench.sh's: each server runs alone on SERVER_CPU, redis-benchmark or
redis-cli on CLIENT_CPU; the servers take turns run by run (A,B then B,A), rounds outermost; the
report holds medians. CPU per request is the server's utime+stime delta (/proc/PID/stat) over
the run divided by the requests sent. Every server is started fresh for each round and filled
with the same data (redis-cli --pipe, not measured) before its runs.
Output: bench-results/YYYY-MM-DD-HHMM-datatypes.md
"""

import os
import sys
import time

import benchlib as bl

PROG = "bench-datatypes.py"
CLIENTS = 50
PIPELINES = [1, 16]
STOP_WAIT_S = 10
LOAD_TIMEOUT_S = 300
# Sizes of the data every round starts from (see fill_commands).
STREAM_FILL = 1000
BITMAP_BITS = 1 << 20
HLL_FILL = 100000
GEO_POINTS = 10000

# Test name -> the command redis-benchmark sends (__rand_int__ is drawn from -r's range).
TESTS = {
    "XADD": (["XADD", "bench:xadd", "*", "field", "__rand_int__"], 100000),
    "XREAD": (["XREAD", "COUNT", "10", "STREAMS", "bench:stream", "0-0"], 100000),
    "SETBIT": (["SETBIT", "bench:bits", "999999", "1"], 100000),
    "BITCOUNT": (["BITCOUNT", "bench:bits"], 100000),
    "PFADD": (["PFADD", "bench:pfadd", "__rand_int__"], 1000000),
    "PFCOUNT": (["PFCOUNT", "bench:hll"], 100000),
    "PFCOUNT2": (["PFCOUNT", "bench:hll", "bench:hll2"], 100000),
    "GEOSEARCH": (["GEOSEARCH", "bench:geo", "FROMLONLAT", "13.4", "52.5", "BYRADIUS", "5",
                   "km", "ASC", "COUNT", "10"], 100000),
}
# Request count divisors of the tests whose requests cost 10-500x a GET.
HEAVY = {"BITCOUNT": 10, "PFCOUNT2": 100, "GEOSEARCH": 100}
TEST_NOTES = {
    "XADD": "appends one 1-field entry with an auto ID to one stream",
    "XREAD": f"reads the first 10 entries of a {STREAM_FILL}-entry stream (2 fields each)",
    "SETBIT": (f"sets bit 999999 of the {BITMAP_BITS}-bit bitmap (redis-benchmark's __rand_int__ is"
               " zero-padded, which SETBIT refuses as an offset, so the offset is fixed)"),
    "BITCOUNT": f"counts the bits of a {BITMAP_BITS // 8}-byte bitmap (every third bit set)",
    "PFADD": "adds a random element (1M value space) to one HLL (dense after the first ~2k)",
    "PFCOUNT": f"counts a dense HLL of {HLL_FILL} elements (cached cardinality)",
    "PFCOUNT2": "counts the union of two dense HLLs (merged on every call)",
    "GEOSEARCH": f"10 nearest of {GEO_POINTS} points within 5 km of a point in Berlin",
}


class Settings(bl.PairSettings):
    def __init__(self, opts):
        super().__init__(opts, 10)
        self.redis_port = bl.env_int("REDIS_PORT", 6510)
        self.slotd_port = bl.env_int("SLOTD_PORT", 6511)
        self.mem_n = bl.env_int("BENCH_MEM_N", 1000000)
        self.skip_throughput = os.environ.get("BENCH_SKIP_THROUGHPUT", "0") == "1"
        self.skip_memory = os.environ.get("BENCH_SKIP_MEMORY", "0") == "1"


# How each server is started: benchlib's plain pair (arguments only).
redis_args = bl.plain_redis_args
slotd_args = bl.plain_slotd_args


def resp(*args):
    """One command in RESP."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        data = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def fill_commands():
    """The data the read tests need, the same on both servers (deterministic)."""
    out = []
    for i in range(STREAM_FILL):
        out.append(resp("XADD", "bench:stream", f"1-{i + 1}", "name", f"user:{i}", "n", i))
    for i in range(0, BITMAP_BITS, 3):
        out.append(resp("SETBIT", "bench:bits", i, 1))
    for key, base in (("bench:hll", 0), ("bench:hll2", HLL_FILL // 2)):
        for i in range(0, HLL_FILL, 100):
            out.append(resp("PFADD", key, *[f"e{base + j}" for j in range(i, i + 100)]))
    # Points on a 100x100 grid around Berlin (13.0..13.8 E, 52.3..52.7 N).
    for i in range(0, GEO_POINTS, 100):
        args = []
        for j in range(i, i + 100):
            args += ["%.6f" % (13.0 + (j % 100) * 0.008), "%.6f" % (52.3 + (j // 100) * 0.004),
                     f"p{j}"]
        out.append(resp("GEOADD", "bench:geo", *args))
    out.append(resp("PFCOUNT", "bench:hll"))
    return b"".join(out)


def bench_cmd(s, port, test, p, n):
    cmd, space = TESTS[test]
    return ["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1", "-p",
            str(port), "-c", str(CLIENTS), "-r", str(space), "-P", str(p), "-n", str(n),
            "--csv"] + cmd


def run_one(s, b, runs, name, port, test, p, n, rnd):
    before = bl.cpu_ticks(b.pid(name))
    res = bl.benchmark(bench_cmd(s, port, test, p, n), bl.RUN_TIMEOUT_S)
    after = bl.cpu_ticks(b.pid(name))
    cpu = "%.4f" % bl.cpu_us_per_req(after - before, n)
    runs.append([name, test, str(p), str(rnd), res["rps"], res["p50"], res["p99"], cpu])
    print("  %-5s %-9s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req"
          % (name, test, p, rnd, res["rps"], res["p50"], res["p99"], cpu), file=sys.stderr)


def run_throughput(s, b, servers, runs):
    fill = b.work / "fill.resp"
    fill.write_bytes(fill_commands())
    for rnd in range(1, s.rounds + 1):
        b.log(f"throughput round {rnd}/{s.rounds}")
        order = bl.round_order(servers, rnd)
        for name in order:
            binary, port, args = servers[name]
            b.start(name, binary, port, s.server_cpu, args)
            _, errors = bl.pipe_load(port, fill, s.client_cpu, LOAD_TIMEOUT_S,
                                     f"filling {name}")
            if errors:
                raise bl.Fatal(f"{name}: the fill reported errors: {errors}")
        for test in TESTS:
            for p in PIPELINES:
                n = s.requests_for(p) // HEAVY.get(test, 1)
                for name in order:
                    run_one(s, b, runs, name, servers[name][1], test, p, n, rnd)
        for name in order:
            b.stop(name)


# ---- memory ------------------------------------------------------------------------------

MEM_CASES = ["stream", "bitmap", "hll"]
MEM_SHAPE = {
    "stream": "XADD memstream * name user:I n I   (N entries, auto IDs)",
    "bitmap": "SETBIT membits 8*I 1   (N bits set, one per byte: a N-byte string)",
    "hll": "PFADD memhll:K e0 .. e49   (N/50 keys of 50 elements each: sparse HLLs)",
}


def gen_mem(path, case, n):
    with open(path, "wb") as f:
        if case == "stream":
            for i in range(n):
                f.write(resp("XADD", "memstream", "*", "name", f"user:{i}", "n", i))
        elif case == "bitmap":
            for i in range(n):
                f.write(resp("SETBIT", "membits", 8 * i, 1))
        else:
            for k in range(n // 50):
                f.write(resp("PFADD", f"memhll:{k}", *[f"e{j}" for j in range(50)]))


def mem_units(case, n):
    """Divisor and unit of the memory figure."""
    return (n // 50, "B/key") if case == "hll" else (n, "B/entry" if case == "stream" else
                                                     "B/bit")


def mem_one(s, b, servers, case, name, path):
    binary, port, args = servers[name]
    b.start(name, binary, port, s.server_cpu, args)
    time.sleep(0.5)
    before = bl.proc_status_kib(b.pid(name), "VmRSS")
    used_before = int(bl.info_field(port, "memory", "used_memory"))
    took, errors = bl.pipe_load(port, path, s.client_cpu, LOAD_TIMEOUT_S,
                                f"loading {case} into {name}")
    if errors:
        raise bl.Fatal(f"{name}: the {case} load reported errors: {errors}")
    time.sleep(1)
    after = bl.proc_status_kib(b.pid(name), "VmRSS")
    used = int(bl.info_field(port, "memory", "used_memory"))
    b.stop(name)
    div, unit = mem_units(case, s.mem_n)
    row = [case, name, str(before), str(after), "%.1f" % ((after - before) * 1024 / div), unit,
           str(used), "%.2f" % took, "%.1f" % ((used - used_before) / div)]
    print("  %-6s %-5s RSS %s -> %s KiB: %s %s, used_memory %s, load %ss, %s by used_memory"
          % tuple(row), file=sys.stderr)
    return row


def run_memory(s, b, servers):
    rows = []
    for case in MEM_CASES:
        path = b.work / f"mem-{case}.resp"
        gen_mem(path, case, s.mem_n)
        b.log(f"memory: {case} ({path.stat().st_size / 1048576:.1f}M of RESP)")
        rows += [mem_one(s, b, servers, case, name, path) for name in servers]
        path.unlink()
    return rows


# ---- report ------------------------------------------------------------------------------

def medians_of(runs):
    groups = {}
    for r in runs:
        groups.setdefault((r[0], r[1], int(r[2])), []).append(r)
    return {k: {"rps": bl.median(float(r[4]) for r in rows),
                "p99": bl.median(r[6] for r in rows),
                "cpu": bl.median(r[7] for r in rows)} for k, rows in groups.items()}


def throughput_table(med):
    lines = ["| test | P | redis rps | slotd rps | rps ratio | redis p99 ms | slotd p99 ms |"
             " redis CPU us/req | slotd CPU us/req | CPU ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    empty = {"rps": 0.0, "p99": 0.0, "cpu": 0.0}
    for test in TESTS:
        for p in PIPELINES:
            r = med.get(("redis", test, p), empty)
            d = med.get(("slotd", test, p), empty)
            lines.append("| %s | %s | %.0f | %.0f | %s | %.3f | %.3f | %.3f | %.3f | %s |"
                         % (test, p, r["rps"], d["rps"], bl.ratio(d["rps"], r["rps"]), r["p99"],
                            d["p99"], r["cpu"], d["cpu"], bl.ratio(d["cpu"], r["cpu"])))
    return lines


def memory_table(rows):
    by = {(r[0], r[1]): r for r in rows}
    lines = ["| case | unit | redis (RSS) | slotd (RSS) | slotd/redis (RSS) | redis (used_memory) |"
             " slotd (used_memory) | slotd/redis (used_memory) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for case in MEM_CASES:
        r, d = by.get((case, "redis")), by.get((case, "slotd"))
        if not r or not d:
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (case, r[5], r[4], d[4], bl.ratio(float(d[4]), float(r[4])), r[8], d[8],
                        bl.ratio(float(d[8]), float(r[8]))))
    return lines


def report(s, servers, cmdlines, runs, mem, load_start, slotd_bin):
    tick_us = 1000000 // bl.CLK_TCK
    out = [f"# slotd vs redis-server, streams/bitmaps/HLL/geo: {bl.now_text()}", "",
           "## Machine", ""]
    out += bl.machine_lines()
    out += bl.server_lines(s.redis_bin, slotd_bin, s.slotd_redis_args)
    out.append(f"- load average (1/5/15 min) at start: {load_start}, at end: {bl.loadavg()}")
    out.append(f"- rounds: {s.rounds} (servers alternate per run), quick: {int(s.quick)};"
               " medians below")
    out += ["", "## Command lines", "", "```"]
    for name, (binary, _, args) in servers.items():
        out.append(f"{name}: " + cmdlines.get(name, f"taskset -c {s.server_cpu} {binary} {args}"))
    for test in TESTS:
        out.append("run:  " + " ".join(bench_cmd(s, "PORT", test, "P", "N")))
    out += ["```", "", "## Throughput and CPU per request", ""]
    out += [f"- {t}: {note}" for t, note in TEST_NOTES.items()]
    out += ["",
            f"N is {s.n_p1} at -P 1 and {s.n_p16} at -P 16 ({CLIENTS} clients), divided by",
            ", ".join(f"{d} for {t}" for t, d in HEAVY.items())
            + ". CPU us/req: server utime+stime delta over the run divided",
            f"by the requests, counted in {tick_us} us ticks. Ratios are slotd/redis (rps: higher",
            "is better for slotd; CPU: lower is better).", ""]
    out += throughput_table(medians_of(runs)) if runs else ["(skipped)"]
    out += ["", "## Memory", "",
            f"N = {s.mem_n}. Loaded into a fresh server with redis-cli --pipe; the figure is",
            "(VmRSS after - VmRSS before) / N (per HLL key: / (N/50)), VmRSS 0.5 s after start",
            "and 1 s after the load; the used_memory columns divide the growth of INFO's",
            "used_memory the same way (what the server allocated, without the allocator's",
            "retained pages).", ""]
    out += [f"- {c}: `{MEM_SHAPE[c]}`" for c in MEM_CASES]
    out.append("")
    out += memory_table(mem) if mem else ["(skipped)"]
    out += bl.md_section_table(
        "All throughput runs", "| server | test | P | round | rps | p50 ms | p99 ms | CPU us/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|", runs)
    return "\n".join(out) + "\n"


def main():
    s, log, slotd_bin, start_stamp, load_start = bl.pair_start(PROG, __doc__, Settings,
                                                                "bench-datatypes")
    with bl.Bench("bench-datatypes", "slotd-bench-datatypes.", bl.START_WAIT_S,
                  STOP_WAIT_S) as b:
        servers = {
            "redis": (s.redis_bin, s.redis_port, redis_args(s.redis_port, b.work / "redis")),
            "slotd": (slotd_bin, s.slotd_port, slotd_args(s, s.slotd_port, b.work / "slotd")),
        }
        b.log(f"rounds={s.rounds} requests: P1={s.n_p1} P16={s.n_p16}; memory N {s.mem_n};"
              f" work dir {b.work}")
        runs, mem = [], []
        if not s.skip_throughput:
            run_throughput(s, b, servers, runs)
        if not s.skip_memory:
            mem = run_memory(s, b, servers)
        text = report(s, servers, b.cmdline, runs, mem, load_start, slotd_bin)
    bl.write_report(s.out_dir, f"{start_stamp}-datatypes.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
