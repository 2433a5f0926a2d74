"""Privilege separation as root: each child runs as its own user, and the
network-facing process cannot open the database."""

import os
import pwd
import subprocess

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")


def uids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
            if line.startswith("Gid:"):
                pass
    raise AssertionError("no Uid line")


def test_children_run_as_their_own_users(aurid):
    [exec_pid] = aurid.pids("aurid-exec")
    [http_pid] = aurid.pids("aurid-http")
    exec_uid = pwd.getpwnam("aurid").pw_uid
    http_uid = pwd.getpwnam("aurid-http").pw_uid
    assert exec_uid != http_uid and 0 not in (exec_uid, http_uid)
    assert uids(exec_pid) == [exec_uid] * 4
    assert uids(http_pid) == [http_uid] * 4
    # The supervisor stays root, and it is the only root process.
    assert uids(aurid.proc.pid)[0] == 0


def test_http_user_cannot_open_the_database(aurid):
    db = os.path.join(aurid.state, "aurid.db")
    assert os.path.exists(db)
    r = subprocess.run(["setpriv", "--reuid=aurid-http", "--regid=aurid", "--clear-groups",
                        "sh", "-c", "cat %s > /dev/null" % db], capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    # And it holds no descriptor to it.
    [http_pid] = aurid.pids("aurid-http")
    fds = os.listdir("/proc/%d/fd" % http_pid)
    targets = [os.readlink("/proc/%d/fd/%s" % (http_pid, fd)) for fd in fds]
    assert not any("aurid.db" in t for t in targets), targets


def test_actions_still_work_across_users(aurid):
    assert aurid.curl("/servlet?key=OK")[0] == 200
    assert len(aurid.presses()) == 1
