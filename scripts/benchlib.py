"""scripts/benchlib.py: what the Python bench scripts share (imported, not run).

bench-types.py, bench-aof.py and bench-failover.py import it from their own directory. It
holds: the Bench context (a temp work dir, the servers started in it, and the guarantee that
every one of them is stopped and the dir removed on any exit: normal end, error, exception,
Ctrl-C or SIGTERM), starting and stopping servers pinned with `taskset`, server CPU time from
/proc/PID/stat, redis-benchmark runs and their CSV, medians, markdown tables, and the machine
description of a report header. Only the Python 3 standard library is used.

Every wait here is bounded: server start and stop, every child command (a `timeout_s`), and
every socket operation.
"""

import argparse
import functools
import os
import pathlib
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
SUPPRESS = argparse.SUPPRESS
SOCKET_TIMEOUT_S = 2.0
# Bounds shared by the scripts: a server's start (until it answers PING) and one
# redis-benchmark run.
START_WAIT_S = 10
RUN_TIMEOUT_S = 300


class Fatal(Exception):
    """A reason to stop the whole run; main() prints it after the `prog:` prefix, exits 1."""


def env_str(name, default):
    """The variable's value, or `default` when unset or empty (bash's ${NAME:-default})."""
    return os.environ.get(name) or default


def env_int(name, default):
    value = env_str(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise Fatal(f"{name}={value!r} is not an integer") from None


def env_ints(name, default, empty_means_default=True):
    """A space-separated list of integers; with empty_means_default False, a variable set
    but empty gives no integers (bash's ${NAME-default})."""
    value = os.environ.get(name)
    if value is None or (not value and empty_means_default):
        value = default
    try:
        return [int(x) for x in value.split()]
    except ValueError:
        raise Fatal(f"{name}={value!r} is not a list of integers") from None


def stamp():
    """The report file name's prefix: start time as YYYY-MM-DD-HHMM."""
    return time.strftime("%Y-%m-%d-%H%M")


def now_text():
    return time.strftime("%Y-%m-%d %H:%M")


def md_row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def md_rows(rows):
    """One markdown table row per record (the "All runs" tables)."""
    return [md_row(r) for r in rows]


def md_section_table(title, header, align, rows):
    """A report's closing section: a blank line, `## title`, and the table of every record."""
    return ["", f"## {title}", "", header, align] + md_rows(rows)


def median(values):
    """Median of numbers (mean of the middle two for an even count)."""
    return statistics.median(float(v) for v in values)


def ratio(a, b, fmt="%.2f"):
    """a/b formatted, or "-" when b is not positive."""
    return fmt % (a / b) if b > 0 else "-"


def round_order(names, rnd):
    """`names` in order on odd rounds and reversed on even ones, so that a drift of the shared
    machine (or disk writeback) during a round hits every server alike."""
    return list(names) if rnd % 2 else list(reversed(names))


def cpu_ticks(pid, children=False):
    """utime+stime of a whole process in clock ticks (with `children`, also cutime+cstime:
    the reaped children, such as redis' rewrite forks). Field 2 of /proc/PID/stat (the
    command name) may hold spaces, so the fields are counted after its closing ')'."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
    ticks = int(rest[11]) + int(rest[12])
    if children:
        ticks += int(rest[13]) + int(rest[14])
    return ticks


def proc_status_kib(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), or 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def port_busy(port):
    """True when something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), SOCKET_TIMEOUT_S):
            return True
    except OSError:
        return False


def ping_ok(port):
    """True when the server answers PING with +PONG. A raw socket (no redis-cli fork) keeps a
    tight poll cheap and exact; -LOADING and refused connections count as "not yet"."""
    try:
        with socket.create_connection(("127.0.0.1", port), SOCKET_TIMEOUT_S) as s:
            s.settimeout(SOCKET_TIMEOUT_S)
            s.sendall(b"PING\r\n")
            got = b""
            while b"\r\n" not in got:
                chunk = s.recv(256)
                if not chunk:
                    return False
                got += chunk
            return got.startswith(b"+PONG\r\n")
    except OSError:
        return False


def run(argv, timeout_s, what, stdin=None, check=True):
    """Runs a command to completion with a bound; its stdout as text. On failure or timeout
    raises Fatal naming `what`, with the output's last lines (unless check is False)."""
    try:
        res = subprocess.run(argv, stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=timeout_s, text=True,
                             errors="replace")
    except subprocess.TimeoutExpired:
        raise Fatal(f"{what} took over {timeout_s}s") from None
    if check and res.returncode != 0:
        tail = "\n".join(res.stdout.splitlines()[-10:])
        raise Fatal(f"{what} failed (exit {res.returncode}): {tail}")
    return res.stdout


def cli(port, *args, timeout_s=30):
    """One redis-cli command's reply text, carriage returns removed ("" on failure)."""
    try:
        res = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=timeout_s, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return ""
    return res.stdout.replace("\r", "")


def info_field(port, section, field):
    """A field of INFO `section`, "" when absent."""
    for line in cli(port, "INFO", section).splitlines():
        key, _, value = line.partition(":")
        if key == field:
            return value
    return ""


def benchmark(argv, timeout_s):
    """Runs one `redis-benchmark --csv` (argv) and returns its data row as a dict with the
    strings rps, p50 and p99 (ms) exactly as printed. CSV columns: test, rps, avg, min, p50,
    p95, p99, max."""
    out = run(argv, timeout_s, "redis-benchmark " + " ".join(argv[argv.index("-p"):]))
    rows = [line for line in out.splitlines() if line.startswith('"')]
    if len(rows) < 2:
        raise Fatal(f"no CSV row in redis-benchmark's output: {out[-500:]}")
    fields = rows[1].replace('"', "").split(",")
    return {"rps": fields[1], "p50": fields[4], "p99": fields[6]}


def pipe_load(port, path, cpu, timeout_s, what):
    """Sends the RESP commands of file `path` with `redis-cli --pipe` pinned to `cpu`; returns
    (seconds taken, the last line of redis-cli's summary when it reported errors, else "")."""
    t0 = time.monotonic()
    with open(path, "rb") as resp:
        try:
            res = subprocess.run(["taskset", "-c", str(cpu), "redis-cli", "-h", "127.0.0.1",
                                  "-p", str(port), "--pipe"], stdin=resp,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace", timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise Fatal(f"{what} took over {timeout_s}s") from None
    took = time.monotonic() - t0
    if res.returncode != 0:
        raise Fatal(f"{what} failed: {res.stdout}")
    if "errors: 0," in res.stdout:
        return took, ""
    return took, (res.stdout.splitlines() or [""])[-1]


def cpu_us_per_req(ticks, requests):
    return ticks / CLK_TCK * 1e6 / requests


@functools.lru_cache(maxsize=None)
def slotd_rev():
    """Short git revision of the tree, "(dirty)" when it has uncommitted changes. Read once:
    pair_binaries reads it at the start of a run, so that a commit or merge made while the
    run goes on does not change what the report names."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], timeout=30).returncode
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (dirty)" if dirty else "")


def machine_lines():
    """The machine's description for a report header (markdown list items)."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(": ", 1)[1].strip()
                break
    mem_kib = proc_meminfo_kib("MemTotal")
    return [
        f"- CPUs (nproc): {len(os.sched_getaffinity(0))}",
        f"- model: {model}",
        f"- kernel: {os.uname().release}",
        f"- memory: {mem_kib / 1048576:.1f} GiB",
    ]


def proc_meminfo_kib(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def loadavg():
    """The 1/5/15-minute load averages as /proc/loadavg prints them."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def server_version(binary):
    return run([binary, "--version"], 30, f"{binary} --version").strip()


def slotd_binary(log):
    """$SLOTD_BIN, or target/release/slotd after `cargo build --release` when it is unset."""
    path = os.environ.get("SLOTD_BIN", "")
    if not path:
        path = build_slotd(log)
    return path


def build_slotd(log):
    log("building slotd (cargo build --release)")
    try:
        rc = subprocess.run(["cargo", "build", "--release", "--bin", "slotd"],
                            stdout=sys.stderr, timeout=3600).returncode
    except subprocess.TimeoutExpired:
        raise Fatal("cargo build --release took over an hour") from None
    if rc != 0:
        raise Fatal("cargo build --release failed")
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return f"{target}/release/slotd"


def arg_parser(prog, doc):
    """An argparse parser whose --help prints the script's docstring (its usage text)."""
    return argparse.ArgumentParser(prog=prog, description=doc, usage=argparse.SUPPRESS,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def pair_arg_parser(prog, doc):
    """arg_parser with the two options every slotd-vs-redis script takes: --quick and
    --slotd-redis-args (read by PairSettings)."""
    ap = arg_parser(prog, doc)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--slotd-redis-args", action="store_true")
    return ap


class PairSettings:
    """The settings every slotd-vs-redis script shares, from its options and environment:
    --quick (3 rounds instead of 5, request counts divided by `quick_div`),
    --slotd-redis-args, REDIS_BIN, SERVER_CPU, CLIENT_CPU, BENCH_OUT_DIR, and the request
    counts per run at -P 1 and -P 16 (BENCH_N_P1, BENCH_N_P16)."""

    def __init__(self, opts, quick_div):
        self.quick = opts.quick
        self.div = quick_div if opts.quick else 1
        self.n_p1 = env_int("BENCH_N_P1", 200000) // self.div
        self.n_p16 = env_int("BENCH_N_P16", 2000000) // self.div
        self.slotd_redis_args = opts.slotd_redis_args
        self.rounds = 3 if opts.quick else 5
        self.redis_bin = env_str("REDIS_BIN", "/usr/bin/redis-server")
        self.server_cpu = env_str("SERVER_CPU", "1")
        self.client_cpu = env_str("CLIENT_CPU", "0")
        self.out_dir = env_str("BENCH_OUT_DIR", "bench-results")

    def requests_for(self, p):
        return self.n_p1 if p == 1 else self.n_p16


def pair_binaries(log, redis_bin):
    """The slotd binary (see slotd_binary) once both it and `redis_bin` are known to be
    executables and the client tools are on PATH."""
    slotd_bin = slotd_binary(log)
    slotd_rev()
    need_executable(slotd_bin, "SLOTD_BIN")
    need_executable(redis_bin, "REDIS_BIN")
    need_tools("redis-benchmark", "redis-cli", "taskset")
    return slotd_bin


def pair_start(prog, doc, settings_cls, tag):
    """The opening of a slotd-vs-redis script's main(): parses its options (pair_arg_parser),
    moves to the repository root, reads its settings and finds both binaries. Returns
    (settings, log, slotd binary, report stamp, load average at start): other people share
    the machine, and the load average beside the numbers says how quiet it was."""
    opts = pair_arg_parser(prog, doc).parse_args()
    os.chdir(ROOT)
    s = settings_cls(opts)
    log = make_logger(tag)
    slotd_bin = pair_binaries(log, s.redis_bin)
    return s, log, slotd_bin, stamp(), loadavg()


def plain_redis_args(port, dir_):
    """redis-server's arguments in the scripts that compare one plain server with another: no
    persistence, loopback only (the binary and the taskset prefix are added by Bench.launch)."""
    return f"--port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {dir_}"


def plain_slotd_args(s, port, dir_):
    """slotd's arguments beside plain_redis_args: SLOTD_ARGS when set, redis-server's own with
    --slotd-redis-args (plumbing runs), else one shard on `port`."""
    if os.environ.get("SLOTD_ARGS"):
        return os.environ["SLOTD_ARGS"]
    if s.slotd_redis_args:
        return plain_redis_args(port, dir_)
    return f"--port {port} --server-threads 1"


def server_lines(redis_bin, slotd_bin, plumbing):
    """Report header items naming both servers; `plumbing` when the slotd side ran
    redis-server arguments."""
    lines = [f"- redis-server: {server_version(redis_bin)}",
             f"- slotd: git {slotd_rev()}, binary {slotd_bin}"]
    if plumbing:
        lines.append("- NOTE: the slotd side ran with redis-server arguments (plumbing test,"
                     " not a slotd measurement)")
    return lines


def write_report(out_dir, file_name, text, log):
    """Writes OUT_DIR/file_name (the dir made when missing) and logs its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, file_name)
    with open(path, "w") as f:
        f.write(text)
    log(f"report: {path}")


def need_executable(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Fatal(f"no executable at {what}={path}")


def need_tools(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            raise Fatal(f"{tool} missing")


def make_logger(tag):
    def log(msg):
        print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
    return log


def _raise_terminated(_signum, _frame):
    raise SystemExit(143)


class Bench:
    """A run's work dir and servers. Use as `with Bench(...) as b:`; on leaving the block,
    however that happens, the `on_exit` callbacks run (clusters stopped another way), every
    server still running gets SIGTERM (SIGKILL after stop_wait_s), and the work dir goes."""

    def __init__(self, tag, work_prefix, start_wait_s, stop_wait_s):
        self.log = make_logger(tag)
        self.start_wait_s = start_wait_s
        self.stop_wait_s = stop_wait_s
        self.work = pathlib.Path(tempfile.mkdtemp(prefix=work_prefix, dir="/tmp"))
        self.procs = {}
        self.cmdline = {}
        self.on_exit = []

    def __enter__(self):
        # Also when started in the background of a script, which ignores SIGINT by default.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_terminated)
        return self

    def __exit__(self, *_exc):
        # A second Ctrl-C must not cut the cleanup short; every step of it is bounded.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            for fn in self.on_exit:
                try:
                    fn()
                except Exception as e:  # keep stopping the rest
                    self.log(f"cleanup step failed: {e}")
            for name in list(self.procs):
                self.stop(name)
            shutil.rmtree(self.work, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        return False

    def pid(self, name):
        return self.procs[name].pid

    def launch(self, name, binary, port, cpus, args, append_log=False, check_port=True):
        """Starts a server in the background without waiting for it. `args` is the argument
        string as a shell would read it (quoted '' is an empty argument); the report shows it
        as given. taskset execs the server in place, so the child's pid is the server's own.
        The server runs in its own session: a Ctrl-C reaches this script, which stops it.
        A timed start checks the port itself, before its clock starts (check_port=False)."""
        if check_port and port_busy(port):
            raise Fatal(f"something already answers on port {port}; not benchmarking it")
        self.cmdline[name] = f"taskset -c {cpus} {binary} {args}"
        logf = open(self.work / f"{name}.log", "ab" if append_log else "wb")
        try:
            self.procs[name] = subprocess.Popen(
                ["taskset", "-c", str(cpus), binary, *shlex.split(args)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            logf.close()

    def await_pong(self, name, port, bound_s, poll_s):
        """Polls until PING answers +PONG; Fatal (after printing the log) when the server
        exits first or `bound_s` passes."""
        deadline = time.monotonic() + bound_s
        while not ping_ok(port):
            proc = self.procs[name]
            if proc.poll() is not None:
                del self.procs[name]
                self.print_log_tail(name)
                raise Fatal(f"{name} exited before answering PING; its log is above")
            if time.monotonic() >= deadline:
                raise Fatal(f"{name} did not answer PING within {bound_s:g}s")
            time.sleep(poll_s)

    def log_tail(self, name, lines=20):
        """The last lines of the server's log, "" when it has none."""
        try:
            text = (self.work / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def print_log_tail(self, name, lines=20):
        tail = self.log_tail(name, lines)
        if tail:
            print(tail, file=sys.stderr)

    def start(self, name, binary, port, cpus, args, bound_s=None, fresh_dir=True,
              append_log=False, note=""):
        """launch, then wait (start_wait_s unless `bound_s`) for +PONG. With fresh_dir, an
        empty WORK/name dir is made first (the servers' --dir points there)."""
        if fresh_dir:
            shutil.rmtree(self.work / name, ignore_errors=True)
            (self.work / name).mkdir(parents=True)
        self.launch(name, binary, port, cpus, args, append_log)
        self.await_pong(name, port, bound_s or self.start_wait_s, 0.1)
        self.log(f"{name} up (pid {self.procs[name].pid}, port {port}){note}")

    def stop(self, name):
        """SIGTERM, then SIGKILL when the server ignored it for stop_wait_s; reaped either
        way. Does nothing for a server not running."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            proc.terminate()
            proc.wait(timeout=self.stop_wait_s)
        except subprocess.TimeoutExpired:
            self.log(f"{name} (pid {proc.pid}) ignored SIGTERM for {self.stop_wait_s}s; SIGKILL")
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.log(f"{name} (pid {proc.pid}) still there after SIGKILL")


def main_guard(prog, body):
    """Runs body(); a Fatal prints `prog: message` and exits 1, Ctrl-C exits 130."""
    try:
        return body()
    except Fatal as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
