"""Every child runs in its seccomp allow-list (and Landlock where the kernel has
it): /proc shows the filter, the level is logged, and a child that makes a
forbidden syscall (the AURID_SANDBOX_TEST hook of a test build) dies of SIGSYS
and is restarted by the supervisor.  That the rest of the suite passes with
the sandboxes on is the proof that they allow what aurid does."""

import os
import re
import subprocess

import pytest

from harness import BUILD, free_port, hooks_built, wait_for

CHILDREN = {"exec": "aurid-exec", "http": "aurid-http", "sip": "aurid-sip"}


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def landlock_abi():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1))  # landlock_create_ruleset VERSION
    return abi if abi > 0 else 0


def with_sip():
    port = free_port()
    return {"aurid.sip.listen": "udp:127.0.0.1:%d,tcp:127.0.0.1:%d" % (port, port)}


def test_every_child_is_filtered_and_logs_its_level(make_aurid):
    a = make_aurid(with_sip())
    abi = landlock_abi()
    for name, binary in CHILDREN.items():
        [pid] = a.pids(binary)
        st = proc_status(pid)
        assert st["Seccomp"] == "2", (binary, st["Seccomp"])   # filter mode
        assert st["NoNewPrivs"] == "1", binary
        # libuv's pool threads and the resolver start after the filter: all filtered too.
        for tid in os.listdir("/proc/%d/task" % pid):
            assert proc_status(int(tid))["Seccomp"] == "2", (binary, tid)
    log = a.read_log()
    for name, binary in CHILDREN.items():
        # Logged by the supervisor, from the child's report.
        if abi:
            want = r"aurid\[\d+\]: info: %s \(pid %d\): sandbox: seccomp allow-list \(%s\) \+ landlock ABI %d" % (
                name, a.pids(binary)[0], name, abi)
        else:
            want = r"aurid\[\d+\]: info: %s \(pid %d\): sandbox: seccomp allow-list \(%s\) only: " \
                   r"this kernel has no landlock" % (name, a.pids(binary)[0], name)
        assert wait_for(lambda: re.search(want, a.read_log()), timeout=5), (want, a.read_log())
    # And with all three filtered, aurid still works.
    assert a.curl("/servlet?key=OK")[0] == 200


@pytest.mark.skipif(not hooks_built(), reason="needs a build with AURID_TEST_HOOKS=ON")
@pytest.mark.parametrize("child", sorted(CHILDREN))
def test_forbidden_syscall_kills_with_sigsys_and_is_restarted(make_aurid, monkeypatch, child):
    binary = CHILDREN[child]
    monkeypatch.setenv("AURID_SANDBOX_TEST", child)
    a = make_aurid(with_sip(), start=False)
    a.allow_sigsys = True
    # Not a.start(): with one child dying over and over, aurid never comes "up".
    a.log = open(a.log_path, "ab")
    a.proc = subprocess.Popen([os.path.join(BUILD, "aurid"), "-c", a.cfg_path],
                              stdout=a.log, stderr=subprocess.STDOUT)
    killed = re.compile(r"aurid\[\d+\]: info: %s \(pid (\d+)\): killed by signal %d \(Bad system call\)"
                        % (child, 31))

    def kills():
        return killed.findall(a.read_log())
    # Two deaths: the first run, and the restart, which does the same.
    pids = wait_for(lambda: len(kills()) >= 2 and kills(), timeout=15)
    log = a.read_log()
    assert pids and len(set(pids)) >= 2, log
    assert "AURID_SANDBOX_TEST=%s: trying a forbidden syscall" % child in log, log
    assert "still alive after a forbidden syscall" not in log, log
    assert re.search(r"%s: restarting in \d+ ms" % child, log), log
    # Only the child asked for dies.
    others = [c for c in CHILDREN if c != child]
    for o in others:
        assert not re.search(r"info: %s \(pid \d+\): killed by signal" % o, log), log
