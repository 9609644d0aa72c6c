#!/usr/bin/env python3
"""scripts/bench-aof.py: what AOF persistence costs slotd and redis-server, side by side in one
run: SET throughput without and with the AOF, `appendfsync always`, and restart time.

Usage: scripts/bench-aof.py [--quick] [--slotd-redis-args]
  --quick             3 rounds instead of 5, request counts divided by 4 (not 10 as in
                      bench.sh: a 0.2 s run at -P 16 was too noisy to judge a 10% target),
                      restart with 1M keys only (about 2 minutes in all).
  --slotd-redis-args  start the "slotd" side with redis-server's arguments (use with
                      SLOTD_BIN=/usr/bin/redis-server to prove the plumbing without slotd).
Environment:
  SLOTD_BIN         slotd binary; when unset, `cargo build --release` builds target/release/slotd
  REDIS_BIN         default /usr/bin/redis-server
  PORT_BASE         default 6490; the script uses PORT_BASE .. PORT_BASE+6
  SERVER_CPU        default 1;  CLIENT_CPU default 0 (throughput runs and fills)
  RESTART_CPUS      default "CLIENT_CPU,SERVER_CPU": the CPUs a restarting server may use, so
                    that `--server-threads 2` can load on two cores
  BENCH_OUT_DIR     default bench-results (relative to the repository root)
  BENCH_N_P1, BENCH_N_P16, BENCH_N_ALWAYS  request counts per run before --quick's
                    division (defaults 200000, 2000000, 30000; appendfsync always runs
                    3 times as many rounds)
  RESTART_KEYS      key counts for the restart test (default "1000000 10000000"; --quick
                    "1000000"); a count is skipped when free memory or disk is short
Smoke test of the plumbing without slotd (tiny, well under a minute):
  SLOTD_BIN=/usr/bin/redis-server BENCH_N_P1=20000 BENCH_N_P16=100000 BENCH_N_ALWAYS=20000 \\
    RESTART_KEYS=100000 BENCH_OUT_DIR=/tmp/aof-smoke scripts/bench-aof.py --quick \\
    --slotd-redis-args

The conventions are scripts/bench.sh's: each server runs on SERVER_CPU while redis-benchmark
runs on CLIENT_CPU; the servers take turns within each round (the order flips every round);
the report holds medians; CPU per request is the server's utime+stime (plus reaped children,
which counts redis' rewrite forks) from /proc/PID/stat over the run, divided by the requests.
Restart time is the wall time from launching the process until it answers PING with +PONG
(-LOADING does not count), polled every RESTART_POLL_S over a raw socket, bounded.
Every server gets a fresh dir under /tmp; all of them are stopped and removed on exit.
Output: bench-results/YYYY-MM-DD-HHMM-aof.md
"""

import os
import re
import shutil
import subprocess
import sys
import time

import benchlib as bl
from benchlib import Fatal

PROG = "bench-aof.py"
CLIENTS = 50
KEYSPACE = 100000
# appendfsync always depends on the disk, whose speed can swing within seconds here: more,
# shorter rounds, so that each slotd/redis pair runs close together in time.
ALWAYS_ROUNDS_PER_ROUND = 3
# Value of every key the restart test loads (16 bytes; the keys are key:0000000000 ..).
FILL_VALUE = "0123456789abcdef"
# Budgets that decide whether a restart size fits the machine: resident bytes per key for the
# one server running at a time (generous for both), and AOF bytes per key on disk for the
# three data sets kept side by side (a RESP SET is 59 bytes; rewrites may double it).
MEM_BYTES_PER_KEY = 400
DISK_BYTES_PER_KEY = 400
# Bounds on the waits of this script (more in benchlib).
STOP_WAIT_S = 30
RESTART_TIMEOUT_S = 600
REWRITE_WAIT_S = 300
RESTART_POLL_S = 0.005

TP_NAMES = ["redis-no", "slotd-no", "redis-es", "slotd-es"]
AL_NAMES = ["redis-al", "slotd-al"]
# Data sets of the restart test: label -> kind and server-threads.
RESTART_LABELS = ["slotd-t1", "slotd-t2", "redis"]
R_KIND = {"slotd-t1": "slotd", "slotd-t2": "slotd", "redis": "redis"}
R_THREADS = {"slotd-t1": 1, "slotd-t2": 2, "redis": 1}


class Settings(bl.PairSettings):
    def __init__(self, opts):
        super().__init__(opts, 4)
        self.port_base = bl.env_int("PORT_BASE", 6490)
        self.restart_cpus = bl.env_str("RESTART_CPUS", f"{self.client_cpu},{self.server_cpu}")
        self.n_always = bl.env_int("BENCH_N_ALWAYS", 30000) // self.div
        self.restart_keys = bl.env_ints(
            "RESTART_KEYS", "1000000" if opts.quick else "1000000 10000000")
        self.restart_port = self.port_base + 6


# The one place that says how each server is started (arguments only; the binary and the
# taskset prefix are added by Bench.launch).
def redis_args(port, dir_, appendonly, appendfsync):
    return (f"--port {port} --bind 127.0.0.1 --save '' --dir {dir_} --appendonly {appendonly}"
            f" --appendfsync {appendfsync}")


def server_args(s, kind, port, dir_, appendonly, appendfsync, threads):
    if kind == "redis" or s.slotd_redis_args:
        return redis_args(port, dir_, appendonly, appendfsync)
    return (f"--port {port} --bind 127.0.0.1 --server-threads {threads} --dir {dir_}"
            f" --appendonly {appendonly} --appendfsync {appendfsync}")


def bench_cmd(s, port, p, n):
    return ["taskset", "-c", s.client_cpu, "redis-benchmark", "-h", "127.0.0.1", "-p",
            str(port), "-c", str(CLIENTS), "-r", str(KEYSPACE), "-t", "set", "-P", str(p),
            "-n", str(n), "--csv"]


def flush_aof(dir_):
    """Syncs a server's AOF files to disk after a run, untimed, so that the next run (another
    server) does not pay for this one's writeback."""
    aofdir = os.path.join(dir_, "appendonlydir")
    try:
        files = [os.path.join(aofdir, f) for f in sorted(os.listdir(aofdir))]
    except OSError:
        return
    if files:
        bl.run(["sync", *files], 60, "sync of the AOF files", check=False)


class Run:
    """The state of one run: settings, the Bench, binaries, the servers of sections 1 and 2
    (name -> kind, appendfsync mode or "no", port, dir) and the rows measured."""

    def __init__(self, s, b, bins):
        self.s = s
        self.b = b
        self.bins = bins
        self.servers = {}
        self.runs = []  # section kind mode P round rps p50 p99 cpu_us_per_req
        self.restarts = []  # keys label state round ms cpu_s dbsize rss_mb
        self.files = []  # keys label state file type bytes format
        self.skipped = []

    # ---- sections 1 and 2: throughput -----------------------------------------------------

    def define_server(self, name, kind, mode, port):
        dir_ = self.b.work / name
        dir_.mkdir(parents=True, exist_ok=True)
        self.servers[name] = (kind, mode, port, dir_)

    def start_defined(self, name):
        kind, mode, port, dir_ = self.servers[name]
        aof, fsync = ("no", "everysec") if mode == "no" else ("yes", mode)
        self.b.start(name, self.bins[kind], port, self.s.server_cpu,
                     server_args(self.s, kind, port, dir_, aof, fsync, 1), fresh_dir=False,
                     append_log=True)

    def run_one(self, section, name, p, n, rnd):
        """One redis-benchmark run against a running server; appends a row to runs."""
        kind, mode, port, dir_ = self.servers[name]
        pid = self.b.pid(name)
        before = bl.cpu_ticks(pid, children=True)
        res = bl.benchmark(bench_cmd(self.s, port, p, n), bl.RUN_TIMEOUT_S)
        after = bl.cpu_ticks(pid, children=True)
        if mode != "no":
            flush_aof(dir_)
        row = [section, kind, mode, str(p), str(rnd), res["rps"], res["p50"], res["p99"],
               "%.4f" % bl.cpu_us_per_req(after - before, n)]
        self.runs.append(row)
        print("  %-5s %-8s P%-2s r%s: %s rps p50 %s p99 %s ms %s us/req" % tuple(row[1:]),
              file=sys.stderr)

    def run_section(self, section, rounds, pipelines, fixed_n, names):
        """Every server of a section once per round, the order reversed every other round."""
        for rnd in range(1, rounds + 1):
            self.b.log(f"{section}: round {rnd}/{rounds}")
            for p in pipelines:
                n = fixed_n or self.s.requests_for(p)
                for name in bl.round_order(names, rnd):
                    self.run_one(section, name, p, n, rnd)

    # ---- section 3: restart ----------------------------------------------------------------

    def restart_args(self, label, keys):
        return server_args(self.s, R_KIND[label], self.s.restart_port,
                           self.b.work / f"{label}-{keys}", "yes", "everysec", R_THREADS[label])

    def fill_keys(self, port, n):
        """Loads n distinct keys with `redis-cli --pipe`, fed by this script's --gen-sets mode
        (both pinned to CLIENT_CPU)."""
        bound = 60 + n // 20000
        cpu = self.s.client_cpu
        gen = subprocess.Popen(["taskset", "-c", cpu, sys.executable, os.path.abspath(__file__),
                                "--gen-sets", str(n)], stdout=subprocess.PIPE)
        try:
            cli = subprocess.Popen(["taskset", "-c", cpu, "redis-cli", "-h", "127.0.0.1", "-p",
                                    str(port), "--pipe", "--pipe-timeout", "60"],
                                   stdin=gen.stdout, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
            gen.stdout.close()
            try:
                out, _ = cli.communicate(timeout=bound)
            except subprocess.TimeoutExpired:
                cli.kill()
                cli.wait()
                raise Fatal(f"loading {n} keys into port {port} took over {bound}s") from None
            if cli.returncode != 0:
                raise Fatal(f"loading {n} keys into port {port} failed: {out}")
            if not re.search(rf"errors: 0, replies: {n}$", out, re.MULTILINE):
                raise Fatal(f"loading {n} keys: {out}")
        finally:
            if gen.poll() is None:
                gen.kill()
            gen.wait()

    def await_rewrite_idle(self, port):
        """Waits until no AOF rewrite runs or is scheduled, so that the files on disk are final
        before a shutdown. A server that does not report these fields counts as idle."""
        deadline = time.monotonic() + REWRITE_WAIT_S
        while True:
            busy = 0
            for field in ("aof_rewrite_in_progress", "aof_rewrite_scheduled"):
                value = bl.info_field(port, "persistence", field)
                busy += int(value) if value.isdigit() else 0
            if busy == 0:
                return
            if time.monotonic() >= deadline:
                raise Fatal(f"port {port}: AOF rewrite still running after {REWRITE_WAIT_S}s")
            time.sleep(0.1)

    def describe_aof(self, keys, label, state, dir_):
        """Lists the files the manifest names with their type, size and format (an RDB
        preamble when the file starts with REDIS, RESP when it starts with '*')."""
        aofdir = dir_ / "appendonlydir"
        manifests = sorted(aofdir.glob("*.manifest")) if aofdir.is_dir() else []
        if not manifests:
            self.files.append([str(keys), label, state, "(no manifest)", "-", "0", "-"])
            return
        for line in manifests[0].read_text(errors="replace").splitlines():
            words = line.split()
            fields = {w: words[i + 1] for i, w in enumerate(words[:-1]) if w in ("file", "type")}
            if not fields.get("file"):
                continue
            path = aofdir / fields["file"]
            try:
                size = path.stat().st_size
                with open(path, "rb") as f:
                    magic = f.read(5)
            except OSError:
                size, magic = 0, b""
            if magic == b"REDIS":
                fmt = "rdb-preamble"
            elif magic.startswith(b"*"):
                fmt = "resp"
            elif not magic:
                fmt = "empty"
            else:
                fmt = "other"
            self.files.append([str(keys), label, state, fields["file"], fields.get("type", ""),
                               str(size), fmt])

    def timed_restart(self, label, keys, state, rnd):
        """One timed start: from launch until +PONG; appends a row to restarts."""
        name = f"restart-{label}"
        port = self.s.restart_port
        if bl.port_busy(port):
            raise Fatal(f"something already answers on port {port}; not benchmarking it")
        t0 = time.monotonic()
        self.b.launch(name, self.bins[R_KIND[label]], port, self.s.restart_cpus,
                      self.restart_args(label, keys), append_log=True, check_port=False)
        self.b.await_pong(name, port, RESTART_TIMEOUT_S, RESTART_POLL_S)
        t1 = time.monotonic()
        pid = self.b.pid(name)
        ticks = bl.cpu_ticks(pid, children=True)
        rss_kib = bl.proc_status_kib(pid, "VmRSS")
        size = bl.cli(port, "DBSIZE").strip()
        self.b.stop(name)
        row = [str(keys), label, state, str(rnd), "%.1f" % ((t1 - t0) * 1000),
               "%.2f" % (ticks / bl.CLK_TCK), size, "%.0f" % (rss_kib / 1024)]
        self.restarts.append(row)
        print("  %-8s %-9s r%s: %s ms, CPU %s s, %s keys, RSS %s MB" % tuple(row[1:]),
              file=sys.stderr)

    def restart_rounds(self, keys, state, labels):
        for rnd in range(1, self.s.rounds + 1):
            for label in bl.round_order(labels, rnd):
                self.timed_restart(label, keys, state, rnd)

    def build_data_set(self, label, keys):
        """Fills a fresh dir with `keys` keys under appendonly yes, then stops the server
        cleanly."""
        name = f"fill-{label}"
        dir_ = self.b.work / f"{label}-{keys}"
        dir_.mkdir(parents=True, exist_ok=True)
        port = self.s.restart_port
        self.b.start(name, self.bins[R_KIND[label]], port, self.s.server_cpu,
                     self.restart_args(label, keys), fresh_dir=False, append_log=True)
        t0 = time.monotonic()
        self.fill_keys(port, keys)
        self.await_rewrite_idle(port)
        size = bl.cli(port, "DBSIZE").strip()
        if size != str(keys):
            raise Fatal(f"{label}: DBSIZE {size} after loading {keys} keys")
        self.b.stop(name)
        self.b.log(f"{label}: {keys} keys loaded in {round(time.monotonic() - t0)}s")
        self.describe_aof(keys, label, "filled", dir_)

    def rewrite_data_set(self, label, keys):
        """Starts the server on its data set, asks for BGREWRITEAOF and waits for it. Returns
        "ok", or the error reply (that server is then left out of the "rewritten" state)."""
        name = f"rewrite-{label}"
        port = self.s.restart_port
        self.b.start(name, self.bins[R_KIND[label]], port, self.s.server_cpu,
                     self.restart_args(label, keys), bound_s=RESTART_TIMEOUT_S,
                     fresh_dir=False, append_log=True, note=", data set loaded")
        reply = bl.cli(port, "BGREWRITEAOF").strip()
        if not reply.startswith("Background"):
            self.b.stop(name)
            return reply
        # Redis may report the rewrite as scheduled or running only after the reply.
        time.sleep(0.2)
        self.await_rewrite_idle(port)
        self.b.stop(name)
        self.describe_aof(keys, label, "rewritten", self.b.work / f"{label}-{keys}")
        return "ok"

    def fits(self, keys):
        """Whether `keys` keys fit: memory for one server, disk for three AOF data sets."""
        mem_kb = bl.proc_meminfo_kib("MemAvailable")
        st = os.statvfs(self.b.work)
        disk_kb = st.f_bavail * st.f_frsize // 1024
        if keys * MEM_BYTES_PER_KEY // 1024 > mem_kb:
            self.skipped.append(f"{keys} keys: needs ~{keys * MEM_BYTES_PER_KEY >> 20} MiB of"
                                f" memory, MemAvailable is {mem_kb >> 10} MiB")
            return False
        if 3 * keys * DISK_BYTES_PER_KEY // 1024 > disk_kb:
            self.skipped.append(f"{keys} keys: needs ~{3 * keys * DISK_BYTES_PER_KEY >> 20} MiB"
                                f" of disk, {disk_kb >> 10} MiB free")
            return False
        return True

    def restart_test(self, keys):
        if not self.fits(keys):
            self.b.log(f"skipping {keys} keys: {self.skipped[-1]}")
            return
        self.b.log(f"restart test: {keys} keys")
        for label in RESTART_LABELS:
            self.build_data_set(label, keys)
        self.restart_rounds(keys, "filled", RESTART_LABELS)
        rewritten = []
        for label in RESTART_LABELS:
            reply = self.rewrite_data_set(label, keys)
            if reply == "ok":
                rewritten.append(label)
            else:
                self.skipped.append(f'{keys} keys, {label}: BGREWRITEAOF answered "{reply}"')
        if rewritten:
            self.restart_rounds(keys, "rewritten", rewritten)
        for label in RESTART_LABELS:
            shutil.rmtree(self.b.work / f"{label}-{keys}", ignore_errors=True)


def dsync_rate(work):
    """A rough figure for the disk under the AOF dirs: synchronous 512-byte writes per second
    ("" when dd could not tell). Taken at the start and at the end: a shared virtual disk can
    change speed within a run."""
    probe = os.path.join(work, "dsync-probe")
    try:
        res = subprocess.run(["dd", "if=/dev/zero", f"of={probe}", "bs=512", "count=200",
                              "oflag=dsync"], capture_output=True, text=True, timeout=20)
        words = res.stderr.split()
        for i, w in enumerate(words):
            if w == "s," and "copied" in res.stderr:
                return str(int(200 / float(words[i - 1])))
    except (subprocess.TimeoutExpired, ValueError, ZeroDivisionError, IndexError):
        pass
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass
    return ""


def gen_sets(n):
    """Writes n RESP SET commands with distinct keys (key:%010d) to stdout, for
    redis-cli --pipe."""
    out = sys.stdout.buffer
    value = FILL_VALUE.encode()
    tail = b"$%d\r\n%s\r\n" % (len(value), value)
    chunk = []
    for i in range(n):
        key = b"key:%010d" % i
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n%s" % (len(key), key, tail))
        if len(chunk) == 10000:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    out.flush()


# ---- report --------------------------------------------------------------------------------

def medians(runs):
    """Per (section, kind, mode, P): median rps, p50, p99 and CPU us/req."""
    groups = {}
    for r in runs:
        groups.setdefault(tuple(r[:4]), []).append(r)
    return {k: [bl.median(r[c] for r in rows) for c in (5, 6, 7, 8)]
            for k, rows in groups.items()}


def paired(runs):
    """Ratios of two runs close in time (same round), then their median: robust against the
    disk or the neighbours changing speed between rounds. Returns ([(kind, P, everysec/no)],
    [(figure, slotd/redis)]) in the order the report lists them."""
    tp = {}
    al = {}
    for sec, kind, mode, p, rnd, rps, _p50, p99, _cpu in runs:
        if sec == "throughput":
            tp[(kind, p, rnd, mode)] = float(rps)
        elif sec == "always":
            al[(kind, rnd, "rps")] = float(rps)
            al[(kind, rnd, "p99")] = float(p99)
    out_tp = []
    for kind, p in sorted({(k, p) for k, p, _, _ in tp}, key=lambda x: (x[0], x[1] + "\t")):
        q = [tp[(kind, p, rnd, "everysec")] / tp[(kind, p, rnd, "no")]
             for k, pp, rnd, mode in tp
             if (k, pp, mode) == (kind, p, "no") and tp[(kind, p, rnd, "no")] > 0
             and (kind, p, rnd, "everysec") in tp]
        if q:
            out_tp.append((kind, p, bl.median(q)))
    out_al = []
    rounds = {rnd for _, rnd, _ in al}
    for figure in ("p99", "rps"):
        q = [al[("slotd", rnd, figure)] / al[("redis", rnd, figure)] for rnd in rounds
             if al.get(("redis", rnd, figure), 0) > 0 and ("slotd", rnd, figure) in al]
        if q:
            out_al.append((figure, bl.median(q)))
    return out_tp, out_al


def restart_stats(restarts):
    """Per (keys, label, state): median, min and max restart ms, median CPU s, whether every
    restart found all the keys, median RSS MB; sorted by keys, state, label."""
    groups = {}
    for r in restarts:
        groups.setdefault((r[0], r[1], r[2]), []).append(r)
    out = []
    for (keys, label, state), rows in groups.items():
        ms = [float(r[4]) for r in rows]
        ok = "yes" if all(r[6] == keys for r in rows) else "NO"
        out.append((keys, label, state, "%.1f" % bl.median(ms), "%.1f" % min(ms),
                    "%.1f" % max(ms), "%.2f" % bl.median(r[5] for r in rows), ok,
                    "%.0f" % bl.median(r[7] for r in rows)))
    return sorted(out, key=lambda r: (int(r[0]), r[2], r[1]))


def files_summary(files, keys, label, state):
    """The files of one data set and state, summed by type and format: base first, then
    incr, then anything else the manifest names."""
    count = {}
    size = {}
    for k, lb, st, _file, type_, nbytes, fmt in files:
        if (k, lb, st) == (keys, label, state):
            count[(type_, fmt)] = count.get((type_, fmt), 0) + 1
            size[(type_, fmt)] = size.get((type_, fmt), 0) + int(nbytes)
    rank = {"b": 0, "i": 1}
    parts = []
    for type_, fmt in sorted(count, key=lambda k: (rank.get(k[0], 2), k)):
        n = count[(type_, fmt)]
        name = {"b": "base", "i": "incr"}.get(type_, type_)
        parts.append(f"{name}: {n} {fmt} file{'s' if n > 1 else ''},"
                     f" {size[(type_, fmt)] / 1e6:.1f} MB")
    return "; ".join(parts) or "-"


def verdict(ok):
    return "met" if ok else "NOT met"


def report(s, r, dsync_start, dsync_end, slotd_bin):
    b = r.b
    med = medians(r.runs)
    tp_pairs, al_pairs = paired(r.runs)
    rstats = restart_stats(r.restarts)
    df = bl.run(["df", "-PT", "/tmp"], 30, "df /tmp", check=False).splitlines()
    df_words = df[1].split() if len(df) > 1 else ["?", "?"]
    out = [f"# AOF: slotd vs redis-server: {bl.now_text()}", "", "## Machine", ""]
    out += bl.machine_lines()
    out.append(f"- AOF dirs: {df_words[1]} on {df_words[0]} under /tmp,"
               f" ~{dsync_start or '?'} synchronous 512-byte writes/s at the start,"
               f" ~{dsync_end or '?'} at the end (dd oflag=dsync)")
    out += bl.server_lines(s.redis_bin, slotd_bin, s.slotd_redis_args)
    out.append(f"- rounds: {s.rounds} (servers alternate per run, order flipped every round),"
               f" quick: {int(s.quick)}; medians below")
    out += ["", "## Command lines", "", "```"]
    for name in TP_NAMES + AL_NAMES:
        out.append(f"{name}: {b.cmdline.get(name, '')}")
    for p in (1, 16):
        out.append("run:  " + " ".join(bench_cmd(s, "PORT", p, s.requests_for(p))))
    out.append("run:  " + " ".join(bench_cmd(s, "PORT", 1, s.n_always))
               + "   # appendfsync always")
    for label in RESTART_LABELS:
        if f"restart-{label}" in b.cmdline:
            out.append(f"restart {label}: {b.cmdline[f'restart-{label}']}")
    out.append(f"fill: gen_sets N | taskset -c {s.client_cpu} redis-cli -h 127.0.0.1 -p PORT"
               " --pipe --pipe-timeout 60")
    out.append(f"gen_sets N: taskset -c {s.client_cpu} python3 scripts/bench-aof.py --gen-sets"
               f" N, emitting SET key:%010d {FILL_VALUE} for 0..N-1 as RESP")
    out += ["```", ""]
    out.append(f"CPU us/req: server utime+stime+cutime+cstime delta from /proc/PID/stat"
               f" (CLK_TCK={bl.CLK_TCK}; cutime counts redis' reaped rewrite children) over the"
               " run, divided by the requests sent. After each run on an AOF server its files"
               " are synced (untimed) so the next server does not pay for its writeback."
               " Automatic AOF rewrite is left at its defaults on both servers. Runs are short"
               " in --quick mode; two identical redis-servers (--slotd-redis-args) differ by up"
               " to ~10% on this machine.")
    out += ["", "## 1. SET throughput without and with the AOF (appendfsync everysec)", ""]
    out.append(f"{CLIENTS} clients, random keys (-r {KEYSPACE}), server-threads 1; every server"
               f" on CPU {s.server_cpu}, redis-benchmark on CPU {s.client_cpu}.")
    out.append("")
    out.append("| server | P | rps no | rps everysec | everysec/no | p99 ms no | p99 ms everysec"
               " | CPU us/req no | CPU us/req everysec |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    zero = [0.0, 0.0, 0.0, 0.0]
    for kind, p in sorted({(k[1], k[3]) for k in med if k[0] == "throughput"},
                          key=lambda x: (int(x[1]), x[0])):
        no = med.get(("throughput", kind, "no", p), zero)
        es = med.get(("throughput", kind, "everysec", p), zero)
        ratio = es[0] / no[0] if no[0] > 0 else 0
        out.append("| %s | %s | %.0f | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f |"
                   % (kind, p, no[0], es[0], ratio, no[2], es[2], no[3], es[3]))
    out.append("")
    out.append("everysec/no per round (the two runs of one server in the same round), median"
               " over rounds; the targets are judged on this figure:")
    out.append("")
    for kind, p, v in tp_pairs:
        target = (f" (target within 10%: {verdict(round(v, 3) >= 0.9)})"
                  if kind == "slotd" else "")
        out.append(f"- {kind} P{p}: {v:.3f}{target}")
    out += ["", f"## 2. appendfsync always, {CLIENTS} clients, P1", ""]
    out.append(f"{s.rounds * ALWAYS_ROUNDS_PER_ROUND} rounds of {s.n_always} requests; medians:")
    out.append("")
    out.append("| server | rps | p50 ms | p99 ms | CPU us/req |")
    out.append("|---|---:|---:|---:|---:|")
    al = {k[1]: v for k, v in med.items() if k[0] == "always"}
    for kind in ("redis", "slotd"):
        v = al.get(kind, zero)
        out.append("| %s | %.0f | %.3f | %.3f | %.3f |" % (kind, *v))
    rv, sv = al.get("redis", zero), al.get("slotd", zero)
    out.append("| slotd/redis | %s | %s | %s | %s |"
               % tuple(bl.ratio(sv[i], rv[i], "%.3f") for i in range(4)))
    out.append("")
    out.append("slotd/redis per round (the two runs are adjacent in time), median over rounds;"
               " the targets are judged on this figure:")
    out.append("")
    for figure, v in al_pairs:
        ok = round(v, 3) >= 1 if figure == "rps" else round(v, 3) <= 1
        out.append(f"- {figure}: {v:.3f} (target slotd {'>=' if figure == 'rps' else '<='}"
                   f" redis: {verdict(ok)})")
    out += ["", "## 3. Restart time", ""]
    out.append(f"Each data set: a fresh dir, appendonly yes (everysec), N distinct keys"
               f" (key:%010d, {len(FILL_VALUE)}-byte value) loaded with redis-cli --pipe,"
               " rewrites left to finish, clean stop (SIGTERM). Restart: wall time from"
               f" launching the process (pinned to CPUs {s.restart_cpus}) until PING answers"
               f" +PONG, polled every {RESTART_POLL_S}s; DBSIZE and RSS (VmRSS) read just after"
               ' the PONG. "filled": the files as the load left them; "rewritten": after'
               " BGREWRITEAOF (redis: RDB-preamble base with aof-use-rdb-preamble at its"
               " default, yes). Files are in the page cache (warm).")
    out.append("")
    if rstats:
        out.append("| keys | server | threads | AOF state | files | restart ms median | min |"
                   " max | CPU s to PONG | RSS MB | all keys |")
        out.append("|---:|---|---:|---|---|---:|---:|---:|---:|---:|---|")
        for keys, label, state, m, lo, hi, cpu, ok, rss in rstats:
            out.append(f"| {keys} | {R_KIND[label]} | {R_THREADS[label]} | {state} |"
                       f" {files_summary(r.files, keys, label, state)} | {m} | {lo} | {hi} |"
                       f" {cpu} | {rss} | {ok} |")
    else:
        out.append("(no restart measured)")
    if r.skipped:
        out.append("")
        out += [f"- skipped: {line}" for line in r.skipped]
    out += ["", "### AOF files", "", "| keys | data set | state | file | type | bytes | format |",
            "|---:|---|---|---|---|---:|---|"]
    out += bl.md_rows(r.files)
    out += bl.md_section_table(
        "All runs",
        "| section | server | appendfsync | P | round | rps | p50 ms | p99 ms | CPU us/req |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|", r.runs)
    out += bl.md_section_table(
        "All restarts", "| keys | data set | state | round | ms | CPU s | DBSIZE | RSS MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|", r.restarts)
    return "\n".join(out) + "\n"


def main():
    ap = bl.pair_arg_parser(PROG, __doc__)
    # Internal: the RESP generator of the restart fills, run as its own pinned process.
    ap.add_argument("--gen-sets", type=int, metavar="N", help=bl.SUPPRESS)
    opts = ap.parse_args()
    if opts.gen_sets is not None:
        gen_sets(opts.gen_sets)
        return 0
    os.chdir(bl.ROOT)
    s = Settings(opts)
    log = bl.make_logger("bench-aof")
    slotd_bin = bl.pair_binaries(log, s.redis_bin)

    start_stamp = bl.stamp()
    with bl.Bench("bench-aof", "slotd-aofbench.", bl.START_WAIT_S, STOP_WAIT_S) as b:
        r = Run(s, b, {"redis": s.redis_bin, "slotd": slotd_bin})
        dsync_start = dsync_rate(b.work)
        b.log(f"rounds={s.rounds} requests: P1={s.n_p1} P16={s.n_p16} always={s.n_always}"
              f" restart keys: {' '.join(map(str, s.restart_keys))}")
        b.log(f"work dir {b.work}; ~{dsync_start or '?'} dsync writes/s")
        for i, name in enumerate(TP_NAMES + AL_NAMES):
            kind, mode = name.split("-")
            r.define_server(name, kind, {"no": "no", "es": "everysec", "al": "always"}[mode],
                            s.port_base + i)
        for name in TP_NAMES + AL_NAMES:
            r.start_defined(name)
        r.run_section("throughput", s.rounds, (1, 16), None, TP_NAMES)
        r.run_section("always", s.rounds * ALWAYS_ROUNDS_PER_ROUND, (1,), s.n_always, AL_NAMES)
        for name in TP_NAMES + AL_NAMES:
            b.stop(name)
            shutil.rmtree(r.servers[name][3], ignore_errors=True)
        for keys in s.restart_keys:
            r.restart_test(keys)
        dsync_end = dsync_rate(b.work)
        text = report(s, r, dsync_start, dsync_end, slotd_bin)
    bl.write_report(s.out_dir, f"{start_stamp}-aof.md", text, log)
    return 0


if __name__ == "__main__":
    sys.exit(bl.main_guard(PROG, main))
