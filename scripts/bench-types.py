#!/usr/bin/env python3
"""scripts/bench-types.py: slotd vs redis-server on the collection types, in one run: throughput
of list/set/hash/zset commands, then memory per element of one big key of each type.

Usage: scripts/bench-types.py [--quick] [--slotd-redis-args]
  --quick             3 rounds instead of 5, request counts divided by 10 (the memory part
                      keeps its element count: it is cheap and the per-element figure needs it).
  --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
                      SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
Environment:
  SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
  SLOTD_ARGS        replaces the slotd arguments (default: --port $SLOTD_PORT --server-threads 1)
  REDIS_BIN         default /usr/bin/redis-server
  REDIS_PORT        default 6500;   SLOTD_PORT  default 6501
  SERVER_CPU        default 1 (both servers, one at a time);  CLIENT_CPU default 0
  BENCH_OUT_DIR     default bench-results (relative to the repository root)
  BENCH_N_P1, BENCH_N_P16  request counts before --quick's division (defaults 200000, 2000000)
  BENCH_MEM_ELEMENTS       elements in each memory key (default 1000000)
  BENCH_MEM_EXTRA          more key sizes for a B/elem-only table (default "700000 1300000";
                           set but empty skips them)
  BENCH_SKIP_THROUGHPUT=1 / BENCH_SKIP_MEMORY=1  run only the other part
Smoke test of the plumbing without slotd (tiny, a few seconds):
  SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 \\
    BENCH_MEM_ELEMENTS=20000 BENCH_OUT_DIR=/tmp/bench-smoke \\
    scripts/bench-types.py --quick --slotd-redis-args

The conventions are scripts/bench.sh's: each server runs alone on SERVER_CPU, redis-benchmark
or redis-cli on CLIENT_CPU; the servers take turns run by run, rounds outermost; the report
holds medians. CPU per request is the server's utime+stime delta (/proc/PID/stat) over the run
divided by the requests sent. Memory per element is (VmRSS after - VmRSS before) / elements,
read from /proc/PID/status around one `redis-cli --pipe` load of one key into a freshly started
server.
Output: bench-results/YYYY-MM-DD-HHMM-types.md
"""

import os
import sys
import time

import benchlib as bl

PROG = "bench-types.py"
CLIENTS = 50
KEYSPACE = 100000
# Test names as the report shows them; zadd is a custom command line (redis-benchmark has no
# ZADD test), the others are redis-benchmark's own -t tests.
TESTS = ["lpush", "lpop", "sadd", "hset", "zadd", "lrange_100"]
ZADD_CMD = ["ZADD", "myzset", "__rand_int__", "element:__rand_int__"]
PIPELINES = [1, 16]
# Elements per generated command in the memory load: few enough for any argv limit, many
# enough that the load is quick.
MEM_BATCH = 100
# Elements pushed into mylist before each LRANGE_100 run, so that every LRANGE returns 100
# items whatever LPOP left behind.
LIST_FILL = 1000
# Bounds on the waits of this script (more in benchlib): server stop, one memory load.
STOP_WAIT_S = 10
LOAD_TIMEOUT_S = 180

MEM_TYPES = ["hash", "set-str", "set-int", "zset"]
MEM_KEY = {"hash": "memhash", "set-str": "memset", "set-int": "memintset", "zset": "memzset"}
MEM_LEN_CMD = {"hash": "HLEN", "set-str": "SCARD", "set-int": "SCARD", "zset": "ZCARD"}
MEM_SHAPE = {
    "hash": "HSET memhash field:I value:I",
    "set-str": "SADD memset element:I",
    "set-int": "SADD memintset I",
    "zset": "ZADD memzset I element:I",
}


class Settings(bl.PairSettings):
    def __init__(self, opts):
        super().__init__(opts, 10)
        self.redis_port = bl.env_int("REDIS_PORT", 6500)
        self.slotd_port = bl.env_int("SLOTD_PORT", 6501)
        self.mem_n = bl.env_int("BENCH_MEM_ELEMENTS", 1000000)
        # More key sizes, for the per-element figure only: where N falls against each server's
        # table growth steps moves B/elem by 10-20%, and 1M happens to sit where Redis' dicts
        # are fullest.
        self.mem_extra = bl.env_ints("BENCH_MEM_EXTRA", "700000 1300000", False)
        self.skip_throughput = os.environ.get("BENCH_SKIP_THROUGHPUT", "0") == "1"
        self.skip_memory = os.environ.get("BENCH_SKIP_MEMORY", "0") == "1"


# How each server is started: benchlib's plain pair (arguments only).
redis_args = bl.plain_redis_args
slotd_args = bl.plain_slotd_args


# ---- part 1: throughput ------------------------------------------------------------------

def bench_cmd(s, port, test, p, n):
    argv = ["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1", "-p",
            str(port), "-c", str(CLIENTS), "-r", str(KEYSPACE), "-P", str(p), "-n", str(n),
            "--csv"]
    return argv + (ZADD_CMD if test == "zadd" else ["-t", test])


def fill_list(s, port):
    """Refills mylist before an LRANGE run (not measured): redis-benchmark's own LRANGE tests
    rely on an LPUSH step earlier in the same invocation, which a lone `-t lrange_100`
    lacks."""
    bl.run(["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1", "-p",
            str(port), "-c", str(CLIENTS), "-r", str(KEYSPACE), "-t", "lpush", "-P", "16",
            "-n", str(LIST_FILL), "-q"], bl.RUN_TIMEOUT_S, f"filling mylist on port {port}")


def run_one(s, b, runs, name, port, test, p, n, rnd):
    """One redis-benchmark run against a running server; appends a row to `runs`:
    server, test, P, round, rps, p50, p99, CPU us/req."""
    if test == "lrange_100":
        fill_list(s, port)
    before = bl.cpu_ticks(b.pid(name))
    res = bl.benchmark(bench_cmd(s, port, test, p, n), bl.RUN_TIMEOUT_S)
    after = bl.cpu_ticks(b.pid(name))
    cpu = "%.4f" % bl.cpu_us_per_req(after - before, n)
    runs.append([name, test, str(p), str(rnd), res["rps"], res["p50"], res["p99"], cpu])
    print("  %-5s %-10s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req"
          % (name, test, p, rnd, res["rps"], res["p50"], res["p99"], cpu), file=sys.stderr)


def run_throughput(s, b, servers, runs):
    for name, (binary, port, args) in servers.items():
        b.start(name, binary, port, s.server_cpu, args)
    # Rounds outermost, so that slow drifts of the shared machine hit both servers alike.
    for rnd in range(1, s.rounds + 1):
        b.log(f"throughput round {rnd}/{s.rounds}")
        for test in TESTS:
            for p in PIPELINES:
                n = s.requests_for(p)
                for name, (_, port, _) in servers.items():
                    run_one(s, b, runs, name, port, test, p, n, rnd)
    for name in servers:
        b.stop(name)


# ---- part 2: memory per element ----------------------------------------------------------

def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def gen_load(path, type_, total):
    """Writes the RESP commands that build one key of the type with `total` elements,
    MEM_BATCH per command (the last command takes the remainder)."""
    cmd, per = {"hash": ("HSET", 2), "set-str": ("SADD", 1), "set-int": ("SADD", 1),
                "zset": ("ZADD", 2)}[type_]
    with open(path, "wb") as f:
        for i in range(0, total, MEM_BATCH):
            m = min(MEM_BATCH, total - i)
            parts = [b"*%d\r\n" % (2 + m * per), bulk(cmd), bulk(MEM_KEY[type_])]
            for j in range(i, i + m):
                if type_ == "hash":
                    parts += [bulk(f"field:{j}"), bulk(f"value:{j}")]
                elif type_ == "set-str":
                    parts.append(bulk(f"element:{j}"))
                elif type_ == "set-int":
                    parts.append(bulk(str(j)))
                else:
                    parts += [bulk(str(j)), bulk(f"element:{j}")]
            f.write(b"".join(parts))


def mem_one(s, b, servers, type_, name, n, load_path):
    """Loads one type into a fresh server; returns the row: type, server, RSS KiB before and
    after, bytes/element, length, encoding, load seconds."""
    binary, port, args = servers[name]
    key = MEM_KEY[type_]
    b.start(name, binary, port, s.server_cpu, args)
    time.sleep(0.5)
    before = bl.proc_status_kib(b.pid(name), "VmRSS")
    took, errors = bl.pipe_load(port, load_path, s.client_cpu, LOAD_TIMEOUT_S,
                                f"loading {type_} into {name}")
    if errors:
        b.log(f"WARNING: {name} {type_} load reported: {errors}")
    # Redis rehashes big dicts incrementally (1 ms per 100 ms cron tick); let that settle.
    time.sleep(1)
    after = bl.proc_status_kib(b.pid(name), "VmRSS")
    length = bl.cli(port, MEM_LEN_CMD[type_], key).strip()
    enc = bl.cli(port, "OBJECT", "ENCODING", key).strip()
    b.stop(name)
    row = [type_, name, str(before), str(after), "%.1f" % ((after - before) * 1024 / n),
           length, enc, "%.2f" % took]
    print("  %-7s %-5s RSS %s -> %s KiB: %s B/elem, len %s, %s, load %ss"
          % tuple(row), file=sys.stderr)
    return row


def mem_size(s, b, servers, type_, n):
    path = b.work / f"load-{type_}.resp"
    gen_load(path, type_, n)
    size = path.stat().st_size
    b.log(f"memory: {type_} ({n} elements, {size / 1048576:.1f}M of RESP)")
    rows = [mem_one(s, b, servers, type_, name, n, path) for name in servers]
    path.unlink()
    return rows


def run_memory(s, b, servers):
    """Rows per element count: {n: [row, ...]}; s.mem_n first."""
    mem = {s.mem_n: []}
    for type_ in MEM_TYPES:
        mem[s.mem_n] += mem_size(s, b, servers, type_, s.mem_n)
    for n in s.mem_extra:
        rows = [r for type_ in MEM_TYPES for r in mem_size(s, b, servers, type_, n)]
        if n != s.mem_n:
            mem[n] = rows
    return mem


# ---- report ------------------------------------------------------------------------------

def medians_of(runs):
    """Per (server, test, P): median rps, p50, p99, CPU us/req and the rps spread (fastest
    round over slowest)."""
    groups = {}
    for r in runs:
        groups.setdefault((r[0], r[1], int(r[2])), []).append(r)
    out = {}
    for key, rows in groups.items():
        rps = [float(r[4]) for r in rows]
        out[key] = {
            "rps": bl.median(rps), "p50": bl.median(r[5] for r in rows),
            "p99": bl.median(r[6] for r in rows), "cpu": bl.median(r[7] for r in rows),
            "spread": max(rps) / min(rps) if min(rps) > 0 else 0.0,
        }
    return out


def throughput_table(med):
    lines = [
        "| test | P | redis rps | slotd rps | rps ratio | redis p50 | slotd p50 | redis p99 |"
        " slotd p99 | p99 ratio | redis CPU us/req | slotd CPU us/req | CPU ratio |"
        " rps max/min redis, slotd |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    empty = {"rps": 0.0, "p50": 0.0, "p99": 0.0, "cpu": 0.0, "spread": 0.0}
    keys = sorted({(t, p) for _, t, p in med}, key=lambda k: (TESTS.index(k[0]), k[1]))
    for test, p in keys:
        r = med.get(("redis", test, p), empty)
        d = med.get(("slotd", test, p), empty)
        lines.append(
            "| %s | %s | %.0f | %.0f | %s | %.3f | %.3f | %.3f | %.3f | %s | %.3f | %.3f | %s |"
            " %.2f, %.2f |"
            % (test.upper(), p, r["rps"], d["rps"], bl.ratio(d["rps"], r["rps"]), r["p50"],
               d["p50"], r["p99"], d["p99"], bl.ratio(d["p99"], r["p99"]), r["cpu"], d["cpu"],
               bl.ratio(d["cpu"], r["cpu"]), r["spread"], d["spread"]))
    return lines


def memory_table(rows):
    by = {(r[0], r[1]): r for r in rows}
    types = list(dict.fromkeys(r[0] for r in rows))
    lines = [
        "| type | redis B/elem | slotd B/elem | slotd/redis | redis encoding | slotd encoding |"
        " redis RSS KiB before -> after | slotd RSS KiB before -> after |"
        " length (redis/slotd) | load s (redis/slotd) |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    blank = ["", "", "", "", "0", "", "", ""]
    for t in types:
        r, d = by.get((t, "redis"), blank), by.get((t, "slotd"), blank)
        rb, db = float(r[4]), float(d[4])
        lines.append("| %s | %.1f | %.1f | %s | %s | %s | %s -> %s | %s -> %s | %s / %s | %s / %s |"
                     % (t, rb, db, bl.ratio(db, rb), r[6], d[6], r[2], r[3], d[2], d[3], r[5],
                        d[5], r[7], d[7]))
    return lines


def memory_sizes_table(s, mem):
    lines = ["| type | elements | redis B/elem | slotd B/elem | slotd/redis |",
             "|---|---:|---:|---:|---:|"]
    for t in MEM_TYPES:
        for n in sorted(mem):
            by = {r[1]: float(r[4]) for r in mem[n] if r[0] == t}
            if not by:
                continue
            r, d = by.get("redis", 0.0), by.get("slotd", 0.0)
            lines.append("| %s | %s | %.1f | %.1f | %s |" % (t, n, r, d, bl.ratio(d, r)))
    return lines


def report(s, servers, cmdlines, runs, mem, load_start, slotd_bin):
    tick_us = 1000000 // bl.CLK_TCK
    out = [f"# slotd vs redis-server, collection types: {bl.now_text()}", "", "## Machine", ""]
    out += bl.machine_lines()
    out += bl.server_lines(s.redis_bin, slotd_bin, s.slotd_redis_args)
    out.append(f"- load average (1/5/15 min) at start: {load_start}, at end: {bl.loadavg()}")
    out.append(f"- rounds: {s.rounds} (servers alternate per run), quick: {int(s.quick)};"
               " medians below")
    out += ["", "## Command lines", "", "```"]
    for name, (binary, _, args) in servers.items():
        out.append(f"{name}: " + cmdlines.get(name, f"taskset -c {s.server_cpu} {binary} {args}"))
    for p in PIPELINES:
        n = s.requests_for(p)
        out.append("run:  " + " ".join(bench_cmd(s, "PORT", "TEST", p, n))
                   + "   # TEST in lpush lpop sadd hset lrange_100")
        out.append("run:  " + " ".join(bench_cmd(s, "PORT", "zadd", p, n)))
    out.append(f"before each LRANGE_100 run (not measured): taskset -c {s.client_cpu}"
               f" redis-benchmark -h 127.0.0.1 -p PORT -c {CLIENTS} -r {KEYSPACE} -t lpush"
               f" -P 16 -n {LIST_FILL} -q")
    out.append(f"memory load: taskset -c {s.client_cpu} redis-cli -h 127.0.0.1 -p PORT --pipe"
               " < generated.resp")
    out += ["```", "", "## Throughput", ""]
    out += [
        f"CPU us/req: server utime+stime delta from /proc/PID/stat (CLK_TCK={bl.CLK_TCK}) over the",
        "run, divided by the requests sent. Latencies in ms. Ratios are slotd/redis (rps: higher",
        "is better for slotd; p99 and CPU: lower is better). LPUSH, LPOP, LRANGE_100 all work on",
        "the one key mylist, SADD on myset, HSET on myhash, ZADD on myzset (members from a",
        f"{KEYSPACE}-value space); LPOP runs right after LPUSH with the same request count, so it",
        "pops a list of about that size. LRANGE_100 replies carry 100 elements each. The last",
        "column is the fastest round's rps over the slowest's: far above 1 means the shared",
        "machine disturbed that row, so trust its ratios less. CPU us/req is counted in",
        f"{tick_us} us ticks, so its resolution is {tick_us} us / requests (see the -n values).",
        "",
    ]
    out += throughput_table(medians_of(runs)) if runs else ["(skipped)"]
    out += ["", "## Memory per element", ""]
    n = s.mem_n
    out += [
        f"One key of {n} elements loaded into a freshly started server with redis-cli --pipe,",
        f"{MEM_BATCH} elements per command; B/elem = (VmRSS after - VmRSS before) / {n}, VmRSS",
        "from /proc/PID/status 0.5 s after start and 1 s after the load. Element shapes (I =",
        f"0..{s.mem_n - 1}):",
        "",
    ]
    out += [f"- {t}: `{MEM_SHAPE[t]}`" for t in MEM_TYPES]
    out.append("")
    main_rows = mem.get(s.mem_n, [])
    out += memory_table(main_rows) if main_rows else ["(skipped)"]
    if s.mem_extra and main_rows:
        out += ["", "### B/elem at other sizes", "",
                "Same load and measure, other element counts. Each table grows in steps, so B/elem",
                "depends on where N falls between two steps; compare the servers across sizes.",
                ""]
        out += memory_sizes_table(s, mem)
    out += bl.md_section_table(
        "All throughput runs", "| server | test | P | round | rps | p50 ms | p99 ms | CPU us/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|", runs)
    return "\n".join(out) + "\n"


def main():
    s, log, slotd_bin, start_stamp, load_start = bl.pair_start(PROG, __doc__, Settings,
                                                                "bench-types")
    with bl.Bench("bench-types", "slotd-bench-types.", bl.START_WAIT_S, STOP_WAIT_S) as b:
        servers = {
            "redis": (s.redis_bin, s.redis_port, redis_args(s.redis_port, b.work / "redis")),
            "slotd": (slotd_bin, s.slotd_port, slotd_args(s, s.slotd_port, b.work / "slotd")),
        }
        b.log(f"rounds={s.rounds} requests: P1={s.n_p1} P16={s.n_p16}; memory elements"
              f" {s.mem_n}; work dir {b.work}")
        runs = []
        mem = {}
        if not s.skip_throughput:
            run_throughput(s, b, servers, runs)
        if not s.skip_memory:
            mem = run_memory(s, b, servers)
        text = report(s, servers, b.cmdline, runs, mem, load_start, slotd_bin)
    bl.write_report(s.out_dir, f"{start_stamp}-types.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
