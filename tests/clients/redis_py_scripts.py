#!/usr/bin/env python3
"""redis-py's script users, unchanged, against one server: Lock (acquire, extend, release,
a second client's blocking acquire, timeouts), register_script (EVALSHA with the NOSCRIPT
fallback), scripts in pipelines and transactions, FUNCTION LOAD and FCALL(_RO), and
(--cluster) RedisCluster with Lock, register_script and FCALL. Run by tests/it/clients.rs
against slotd and redis-server alike.

Usage: redis_py_scripts.py PORT [--cluster] [--resp3]
Prints one line per check and closes with 'N passed, N failed'; exits 1 on any failure.
"""

import sys
import threading
import time
import traceback

import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


# ---------------------------------------------------------------------------------------------
# Lock
# ---------------------------------------------------------------------------------------------


@check
def lock_acquire_extend_release(r, tag):
    lock = r.lock(f"{tag}:lock", timeout=10)
    eq(lock.acquire(blocking=False), True, "first acquire")
    eq(lock.locked(), True, "locked")
    eq(lock.owned(), True, "owned")
    ttl = r.pttl(f"{tag}:lock")
    assert 0 < ttl <= 10000, ttl
    eq(lock.extend(20), True, "extend adds")
    assert 20000 < r.pttl(f"{tag}:lock") <= 30000, r.pttl(f"{tag}:lock")
    eq(lock.extend(5, replace_ttl=True), True, "extend replaces")
    assert 0 < r.pttl(f"{tag}:lock") <= 5000
    eq(lock.reacquire(), True, "reacquire")
    assert 5000 < r.pttl(f"{tag}:lock") <= 10000
    other = r.lock(f"{tag}:lock", timeout=10)
    eq(other.acquire(blocking=False), False, "second acquire while held")
    lock.release()
    eq(lock.locked(), False, "released")
    eq(r.exists(f"{tag}:lock"), 0, "key gone")
    eq(other.acquire(blocking=False), True, "acquire after release")
    other.release()


@check
def lock_not_owned_errors(r, tag):
    lock = r.lock(f"{tag}:lock", timeout=10)
    eq(lock.acquire(blocking=False), True, "acquire")
    thief = r.lock(f"{tag}:lock", timeout=10)
    # Another token in the key: release, extend and reacquire must all refuse (the scripts
    # compare the token and answer 0). Release last: it forgets the token even when refused.
    r.set(f"{tag}:lock", "someone-else")
    for name, op in [
        ("extend", lambda: lock.extend(5)),
        ("reacquire", lock.reacquire),
        ("release", lock.release),
    ]:
        try:
            op()
        except LockNotOwnedError:
            pass
        else:
            raise AssertionError(f"{name} of a lock owned by another token succeeded")
    eq(r.get(f"{tag}:lock"), b"someone-else", "other owner's token untouched")
    try:
        thief.release()
    except LockError:
        pass
    else:
        raise AssertionError("releasing a lock never acquired succeeded")
    r.delete(f"{tag}:lock")


@check
def lock_blocking_second_client(r, tag):
    name = f"{tag}:lock"
    first = r.lock(name, timeout=30)
    eq(first.acquire(), True, "first")
    got = {}

    def waiter():
        kwargs = r.connection_pool.connection_kwargs
        c = redis.Redis(connection_pool=redis.ConnectionPool(**kwargs))
        second = c.lock(name, timeout=30, sleep=0.02)
        t0 = time.monotonic()
        got["ok"] = second.acquire(blocking=True, blocking_timeout=10)
        got["waited"] = time.monotonic() - t0
        got["token"] = c.get(name)
        second.release()
        c.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    eq("ok" in got, False, "second client got the lock while held")
    first.release()
    t.join(15)
    eq(got.get("ok"), True, "second client acquires once released")
    assert got["waited"] >= 0.25, got
    assert got["token"] is not None
    eq(r.exists(name), 0, "released by the second client")


@check
def lock_timeout_expires(r, tag):
    name = f"{tag}:lock"
    lock = r.lock(name, timeout=0.3)
    eq(lock.acquire(), True, "acquire")
    other = r.lock(name, timeout=5)
    eq(other.acquire(blocking=True, blocking_timeout=3), True, "acquire after expiry")
    try:
        lock.release()
    except LockNotOwnedError:
        pass
    else:
        raise AssertionError("released an expired lock taken over by another")
    eq(other.owned(), True, "new owner")
    other.release()
    # A blocking timeout shorter than the hold gives up.
    hold = r.lock(name, timeout=5)
    hold.acquire()
    t0 = time.monotonic()
    eq(r.lock(name).acquire(blocking=True, blocking_timeout=0.2), False, "gave up")
    assert time.monotonic() - t0 < 2
    hold.release()


@check
def lock_context_manager(r, tag):
    with r.lock(f"{tag}:lock", timeout=5, blocking_timeout=2) as lock:
        eq(lock.owned(), True, "owned inside")
        r.incr(f"{tag}:counter")
    eq(r.exists(f"{tag}:lock"), 0, "released on exit")
    r.delete(f"{tag}:counter")


# ---------------------------------------------------------------------------------------------
# register_script, pipelines
# ---------------------------------------------------------------------------------------------

INCRBY_SCRIPT = """
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], v)
return {v, redis.call('GET', KEYS[2]), ARGV[2]}
"""


@check
def register_script_noscript_fallback(r, tag):
    k1, k2 = f"{{{tag}}}:a", f"{{{tag}}}:b"
    script = r.register_script(INCRBY_SCRIPT)
    r.script_flush()
    eq(r.script_exists(script.sha), [False], "flushed")
    try:
        r.evalsha(script.sha, 0)
    except NoScriptError:
        pass
    else:
        raise AssertionError("EVALSHA of a flushed script succeeded")
    # First call: EVALSHA gets NOSCRIPT, the client loads it and retries.
    eq(script(keys=[k1, k2], args=[5, "x"]), [5, b"5", b"x"], "first call")
    eq(r.script_exists(script.sha), [True], "loaded by the fallback")
    eq(script(keys=[k1, k2], args=[2, "y"]), [7, b"7", b"y"], "second call")
    r.delete(k1, k2)


@check
def script_in_pipeline(r, tag):
    k1, k2 = f"{{{tag}}}:a", f"{{{tag}}}:b"
    script = r.register_script(INCRBY_SCRIPT)
    for transaction in (False, True):
        r.script_flush()
        pipe = r.pipeline(transaction=transaction)
        pipe.set(k1, 10)
        script(keys=[k1, k2], args=[1, "p"], client=pipe)
        script(keys=[k1, k2], args=[1, "q"], client=pipe)
        pipe.get(k2)
        eq(
            pipe.execute(),
            [True, [11, b"11", b"p"], [12, b"12", b"q"], b"12"],
            f"pipeline transaction={transaction}",
        )
    r.delete(k1, k2)


@check
def eval_replies_and_errors(r, tag):
    k = f"{tag}:k"
    eq(r.eval("return {1, 'two', {3}, true, false}", 0), [1, b"two", [3], 1, None], "types")
    eq(r.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, k, "v"), b"OK", "status")
    try:
        r.eval("return redis.call('LPUSH', KEYS[1], 'x')", 1, k)
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE"), str(e)
    else:
        raise AssertionError("LPUSH on a string succeeded")
    # pcall hands the error table to the script; returning it makes it the error reply.
    script = "local e = redis.pcall('LPUSH', KEYS[1], 'x'); return {type(e), e.err}"
    got = r.eval(script, 1, k)
    eq(got[0], b"table", "pcall error type")
    assert got[1].startswith(b"WRONGTYPE"), got
    try:
        r.eval("return redis.pcall('LPUSH', KEYS[1], 'x')", 1, k)
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE"), str(e)
    else:
        raise AssertionError("returned error table was not an error reply")
    r.delete(k)


LIBRARY = """#!lua name=pylib
redis.register_function('py_incr', function(keys, args)
    return redis.call('INCRBY', keys[1], args[1])
end)
redis.register_function{function_name='py_get', callback=function(keys)
    return redis.call('GET', keys[1])
end, flags={'no-writes'}}
"""


@check
def functions_load_and_fcall(r, tag):
    k = f"{tag}:n"
    r.function_flush()
    eq(r.function_load(LIBRARY), b"pylib", "load")
    eq(r.fcall("py_incr", 1, k, 4), 4, "fcall")
    eq(r.fcall_ro("py_get", 1, k), b"4", "fcall_ro")
    try:
        r.fcall_ro("py_incr", 1, k, 1)
    except redis.ResponseError as e:
        eq(str(e), "Can not execute a script with write flag using *_ro command.", "fcall_ro")
    else:
        raise AssertionError("FCALL_RO of a writing function succeeded")
    libs = r.function_list(library="pylib")
    eq(len(libs), 1, "one library listed")
    pipe = r.pipeline(transaction=True)
    pipe.fcall("py_incr", 1, k, 1)
    pipe.fcall("py_incr", 1, k, 1)
    eq(pipe.execute(), [5, 6], "fcall in MULTI")
    r.function_delete("pylib")
    r.delete(k)


# ---------------------------------------------------------------------------------------------
# Cluster
# ---------------------------------------------------------------------------------------------


def cluster_checks(port):
    rc = redis.RedisCluster(host="127.0.0.1", port=port)
    results = []

    def run(name, fn):
        try:
            fn()
            results.append((name, None))
        except Exception:
            results.append((name, traceback.format_exc()))

    def locks():
        # Lock names land on different slots, hence on different masters.
        for i in range(12):
            lock = rc.lock(f"cl:lock:{i}", timeout=10)
            eq(lock.acquire(blocking=False), True, f"acquire {i}")
            eq(rc.lock(f"cl:lock:{i}").acquire(blocking=False), False, f"held {i}")
            eq(lock.extend(5), True, f"extend {i}")
            lock.release()
            eq(rc.exists(f"cl:lock:{i}"), 0, f"released {i}")

    def scripts():
        script = rc.register_script(INCRBY_SCRIPT)
        for i in range(12):
            keys = [f"{{cl{i}}}:a", f"{{cl{i}}}:b"]
            eq(script(keys=keys, args=[3, "c"]), [3, b"3", b"c"], f"script {i}")
            rc.delete(*keys)

    def crossslot():
        # The client refuses keys of two slots itself; a plain connection reaches the server.
        plain = redis.Redis(host="127.0.0.1", port=port)
        try:
            plain.eval("return 1", 2, "cl:x", "cl:y")
        except redis.exceptions.ClusterCrossSlotError as e:
            eq(str(e), "Keys in request don't hash to the same slot", "crossslot")
        else:
            raise AssertionError("EVAL over two slots succeeded")
        plain.close()

    def functions():
        # RedisCluster sends FUNCTION LOAD to every master, then FCALL by its key's slot.
        lib = LIBRARY.replace("pylib", "pycl")
        loaded = rc.function_load(lib, replace=True)
        eq(sorted(set(loaded.values())), [b"pycl"], "loaded on every master")
        eq(len(loaded), 3, "three masters")
        for i in range(12):
            eq(rc.fcall("py_incr", 1, f"cl:f{i}", 2), 2, f"fcall {i}")
            eq(rc.fcall_ro("py_get", 1, f"cl:f{i}"), b"2", f"fcall_ro {i}")
            rc.delete(f"cl:f{i}")
        rc.function_delete("pycl")

    run("cluster_lock_on_every_master", locks)
    run("cluster_function_load_and_fcall", functions)
    run("cluster_register_script", scripts)
    run("cluster_eval_crossslot", crossslot)
    rc.close()
    return results


def main():
    port = int(sys.argv[1])
    cluster = "--cluster" in sys.argv[2:]
    protocol = 3 if "--resp3" in sys.argv[2:] else 2
    if cluster:
        results = cluster_checks(port)
    else:
        r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol)
        results = []
        for fn in CHECKS:
            tag = f"py:{fn.__name__}"
            try:
                # A check that failed before may have left its keys (a lock held forever).
                for key in list(r.scan_iter(match=f"*{tag}*")):
                    r.delete(key)
                fn(r, tag)
                results.append((fn.__name__, None))
            except Exception:
                results.append((fn.__name__, traceback.format_exc()))
        r.close()
    failed = 0
    for name, err in results:
        if err is None:
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}\n{err}")
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
