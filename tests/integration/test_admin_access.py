"""Who may administer aurid, as root (DESIGN.md section 2): admin.sock is
root:aurid-admin 0660, root and members of aurid-admin succeed, and the http
and sip service uids are refused -- by the file mode as they run, and by the
executor's SO_PEERCRED check even when put in aurid-admin by mistake.  A
refused connection runs nothing."""

import grp
import json
import os
import pwd
import re
import signal
import stat
import subprocess

import pytest

from harness import BUILD, wait_for
from sipclient import free_udp_tcp_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")

SERVICE_USERS = ("aurid-http", "aurid-sip")


@pytest.fixture
def both(make_aurid):
    """aurid with aurid-sip running too, so both front-ends are services now."""
    return make_aurid({"aurid.sip.listen": "udp:127.0.0.1:%d" % free_udp_tcp_port(),
                       "aurid.log.level": "debug"})


def aurictl_as(a, ids, *args, input=None):
    """aurictl run through setpriv with the given uid/gid/groups options."""
    return subprocess.run(["setpriv"] + list(ids) + [os.path.join(BUILD, "aurictl"), "-s", a.admin_sock]
                          + list(args), input=input, capture_output=True, text=True, timeout=30)


def patterns(a):
    return [json.loads(x)["pattern"] for x in a.aurictl("trust", "list", "--json").stdout.splitlines()]


def admin_requests(a):
    return [r["request"] for r in a.audit() if r["transport"] == "admin"]


def test_socket_is_root_aurid_admin_0660(aurid):
    st = os.lstat(aurid.admin_sock)
    admin = grp.getgrnam("aurid-admin")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    assert (st.st_uid, st.st_gid) == (0, admin.gr_gid)
    # A group of its own: not the children's group, and no service user in it.
    assert admin.gr_gid != grp.getgrnam("aurid").gr_gid
    for user in ("aurid",) + SERVICE_USERS:
        assert user not in admin.gr_mem
        assert pwd.getpwnam(user).pw_gid != admin.gr_gid


@pytest.mark.parametrize("user", SERVICE_USERS)
def test_service_uid_is_refused(both, user):
    uid = pwd.getpwnam(user).pw_uid
    before = patterns(both)
    assert both.status()["sip_connected"]

    # As the service runs (group aurid, nothing else): the file mode refuses.
    r = aurictl_as(both, ["--reuid=" + user, "--regid=aurid", "--clear-groups"], "trust", "add", "10.9.9.9")
    assert r.returncode == 1, r
    assert "permission denied: not root and not in group aurid-admin" in r.stderr, r.stderr

    # In aurid-admin by mistake, as a supplementary or the primary group: the
    # socket lets it connect, the executor refuses its uid before reading.
    for ids, verb in ((["--regid=aurid", "--groups=aurid-admin"], ["trust", "add", "10.9.9.9"]),
                      (["--regid=aurid-admin", "--clear-groups"], ["trust", "add", "10.9.9.9"]),
                      (["--regid=aurid", "--groups=aurid-admin"], ["user", "add", "intruder"]),
                      (["--regid=aurid", "--groups=aurid-admin"], ["sim", "press", "OK"])):
        r = aurictl_as(both, ["--reuid=" + user] + ids, *verb, input="intruder-pass-1\n")
        assert r.returncode == 1, r
        assert "aurid refused the connection" in r.stderr and "permission denied" in r.stderr, r.stderr
        assert "aurid-admin" in r.stderr, r.stderr

    # Nothing was done, nor audited as done.
    assert patterns(both) == before
    assert not any("10.9.9.9" in q or "intruder" in q for q in admin_requests(both))
    assert both.curl("/servlet?key=OK", user="intruder", password="intruder-pass-1")[0] == 401
    # Each refusal is logged with the peer's uid and pid, and why.
    role = user.split("-")[1]
    refusals = re.findall(r"admin connection from uid %d gid \d+ \(pid (\d+)\) refused: it is a service "
                          r"user \(%s\)" % (uid, role), both.read_log())
    assert len(refusals) == 4, both.read_log()
    assert all(int(p) > 0 for p in refusals)


def test_root_and_aurid_admin_members_succeed(both):
    nobody = pwd.getpwnam("nobody").pw_uid
    # Root (the harness's own aurictl) and a member by supplementary group
    # (SO_PEERGROUPS) and by primary group.
    both.aurictl("trust", "add", "10.8.0.1")
    r = aurictl_as(both, ["--reuid=nobody", "--regid=nogroup", "--groups=aurid-admin"],
                   "trust", "add", "10.8.0.2")
    assert r.returncode == 0, r
    r = aurictl_as(both, ["--reuid=nobody", "--regid=aurid-admin", "--clear-groups"],
                   "trust", "add", "10.8.0.3")
    assert r.returncode == 0, r
    r = aurictl_as(both, ["--reuid=nobody", "--regid=nogroup", "--groups=aurid-admin"], "status", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["hal"] == "sim", r
    # A user in neither: the file mode refuses, with a clear message.
    r = aurictl_as(both, ["--reuid=nobody", "--regid=nogroup", "--clear-groups"], "trust", "add", "10.8.0.4")
    assert r.returncode == 1
    assert r.stderr.strip().endswith("permission denied: not root and not in group aurid-admin"), r.stderr
    assert sorted(patterns(both)) == ["10.8.0.1", "10.8.0.2", "10.8.0.3", "127.0.0.1"]
    sources = {(r["request"], r["source"]) for r in both.audit() if r["transport"] == "admin"}
    assert ("trust add 10.8.0.1", "local:uid=0") in sources
    assert ("trust add 10.8.0.2", "local:uid=%d" % nobody) in sources
    assert ("trust add 10.8.0.3", "local:uid=%d" % nobody) in sources


def test_executor_learns_front_end_pids(both):
    """The supervisor tells the executor each front-end's pid when it starts
    and when it is reaped, so the pid refused is never a stale one."""
    http_uid = pwd.getpwnam("aurid-http").pw_uid
    [old] = both.pids("aurid-http")
    assert "admin socket: http is uid %d, pid %d" % (http_uid, old) in both.read_log()
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: [p for p in both.pids("aurid-http") if p != old], timeout=5)
    assert new
    log = wait_for(lambda: "admin socket: http is uid %d, pid %d" % (http_uid, new[0]) in both.read_log()
                   and both.read_log(), timeout=5)
    assert log
    # In between, reaped: no pid (a reused pid is never refused by mistake).
    reaped = log.index("http (pid %d): killed by signal 9" % old)
    assert log.find("admin socket: http is uid %d, pid 0" % http_uid, reaped) > reaped, log
