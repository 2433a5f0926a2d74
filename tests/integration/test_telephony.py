"""Call control through a real baresip (Debian baresip-core 1.0.0) on loopback.

A is the phone's SIP engine (aurid.telephony = baresip:127.0.0.1:CTRL);
B is the far end, with its own ctrl_tcp so the test can see its side.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from harness import Aurid, free_port, wait_for
from sipclient import free_udp_tcp_port

pytestmark = pytest.mark.skipif(not shutil.which("baresip"), reason="baresip-core not installed")


def sip_port_pair():
    """A SIP port N with N free for UDP and TCP and N+1 free for TCP (baresip's TLS)."""
    for _ in range(200):
        socks = []
        try:
            n = free_udp_tcp_port()
            # baresip listens with SO_REUSEADDR: a connection of an earlier
            # test in TIME_WAIT on N+1 does not keep it from listening.
            o = socket.socket()
            socks.append(o)
            o.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            o.bind(("127.0.0.1", n + 1))
            return n
        except OSError:
            continue
        finally:
            for o in socks:
                o.close()
    raise RuntimeError("no free SIP port pair")


class Baresip:
    def __init__(self, user, auto_answer, start=True):
        self.dir = tempfile.mkdtemp(prefix="aurid-baresip-")
        self.user = user
        self.auto_answer = auto_answer
        self.ctrl_port = free_port()
        self._configure(sip_port_pair())
        self.proc = None
        if start:
            self.start()

    def _configure(self, sip_port):
        self.sip_port = sip_port
        self.aor = "sip:%s@127.0.0.1:%d" % (self.user, self.sip_port)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join([
                "poll_method epoll",
                "sip_listen 127.0.0.1:%d" % self.sip_port,
                "net_interface 127.0.0.1",
                "dns_server 127.0.0.1:53",
                "audio_player aubridge,a", "audio_source ausine,440", "audio_alert aubridge,a",
                "ausrc_srate 48000", "ausrc_channels 2",
                "module_path /usr/lib/baresip/modules",
                "module g711.so", "module ausine.so", "module aubridge.so",
                "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
                "ctrl_tcp_listen 127.0.0.1:%d" % self.ctrl_port, ""]))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<%s>;regint=0%s\n" % (self.aor, ";answermode=auto" if self.auto_answer else ""))

    def start(self):
        # SIP port N also opens TLS on N+1: another socket may take N or N+1
        # between choosing and binding ("ua: init failed (Address already in
        # use)").  Then choose another SIP port (ctrl_port stays: aurid may
        # already be configured with it).
        for attempt in range(3):
            self.log = open(os.path.join(self.dir, "log"), "ab")
            self.proc = subprocess.Popen(["baresip", "-f", self.dir], stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT)
            if wait_for(lambda: self._up() or self.proc.poll() is not None, timeout=5) and self._up():
                return
            self.stop()
            self.log.close()
            with open(os.path.join(self.dir, "log"), "rb") as f:
                log = f.read().decode(errors="replace")
            if "Address already in use" not in log or ":%d)" % self.ctrl_port in log:
                break
            self._configure(sip_port_pair())
        raise AssertionError("baresip did not come up:\n" + log)

    def _up(self):
        # Look, do not touch: baresip 1.0's ctrl_tcp keeps one connection and
        # drops the previous one when another arrives, so a probe connection
        # would cut aurid's link to the phone's baresip.
        want = ":%04X" % self.ctrl_port
        with open("/proc/net/tcp") as f:
            return any(l.split()[1].endswith(want) and l.split()[3] == "0A" for l in f.readlines()[1:])

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def command(self, cmd, params=None):
        """One ctrl_tcp command; the reply's data."""
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=3) as s:
            d = {"command": cmd, "token": "x1"}
            if params:
                d["params"] = params
            b = json.dumps(d).encode()
            s.sendall(b"%d:%s," % (len(b), b))
            buf = b""
            while True:
                buf += s.recv(65536)
                while b":" in buf:
                    n, _, rest = buf.partition(b":")
                    if len(rest) < int(n) + 1:
                        break
                    obj = json.loads(rest[:int(n)])
                    buf = rest[int(n) + 1:]
                    if obj.get("response") and obj.get("token") == "x1":
                        return obj.get("data", "")

    def calls(self):
        """The far end's calls, from its own ctrl_tcp (only B is asked: A's
        single ctrl_tcp connection belongs to aurid)."""
        return [l for l in self.command("listcalls").splitlines() if "[line" in l]


def phone_calls(au):
    """The phone's calls as aurid reports them (phonecfg=get)."""
    return [l for l in au.curl("/servlet?phonecfg=get")[2].splitlines() if l.startswith("Call")]


@pytest.fixture
def phone():
    a = Baresip("a", auto_answer=False)
    b = Baresip("b", auto_answer=True)
    au = Aurid({"aurid.telephony": "baresip:127.0.0.1:%d" % a.ctrl_port})
    assert wait_for(lambda: "connected to baresip" in au.read_log(), timeout=5), au.read_log()
    yield a, b, au
    au.cleanup()
    a.stop()
    b.stop()


def test_dial_hold_mute_callend(phone):
    a, b, au = phone
    status, _, body = au.curl("/servlet?key=number=%s&wait=3000" % b.aor)
    assert status == 200, body
    assert body.startswith("ok number="), body
    assert "established" in body
    assert wait_for(lambda: len(b.calls()) == 1)
    assert "ESTABLISHED" in b.calls()[0]

    status, _, body = au.curl("/servlet?phonecfg=get")
    assert status == 200
    assert "Account1=Enabled|a|a|a|" in body and "a@127.0.0.1:%d|" % a.sip_port in body
    assert "Call1=established|active|outgoing|%s|" % b.aor in body

    # Hold is seen from the far end: B's call is put on hold by A's re-INVITE.
    assert au.curl("/servlet?key=HOLD:1")[2] == "ok HOLD:1\n"
    assert wait_for(lambda: "|held|" in phone_calls(au)[0])
    assert au.curl("/servlet?key=UNHOLD")[2] == "ok UNHOLD\n"
    assert wait_for(lambda: "|active|" in phone_calls(au)[0])
    assert au.curl("/servlet?key=UNHOLD")[2] == "ok UNHOLD\n"   # idempotent
    assert au.curl("/servlet?key=F_HOLD")[2] == "ok F_HOLD\n"   # toggle: on hold
    assert wait_for(lambda: "|held|" in phone_calls(au)[0])
    assert au.curl("/servlet?key=HOLD")[2] == "ok HOLD\n"       # toggle: resumed
    assert wait_for(lambda: "|active|" in phone_calls(au)[0])
    assert au.curl("/servlet?key=MUTE")[2] == "ok MUTE\n"
    assert "muted|" in au.curl("/servlet?phonecfg=get")[2]
    assert au.curl("/servlet?key=ATrans=100")[2] == "unsupported ATrans=100\n"

    status, _, body = au.curl("/servlet?key=CALLEND&wait=3000")
    assert status == 200 and body.startswith("ok CALLEND\n"), body
    assert wait_for(lambda: b.calls() == [] and phone_calls(au) == [])
    assert au.presses() == []   # none of this went to the keypad


def test_incoming_answered(phone):
    a, b, au = phone
    b.command("dial", a.aor)
    assert wait_for(lambda: "Call1=incoming" in au.curl("/servlet?phonecfg=get")[2], timeout=5)
    status, _, body = au.curl("/servlet?key=ANSWER&wait=3000")
    assert status == 200 and body.startswith("ok ANSWER\n"), body
    assert wait_for(lambda: phone_calls(au) and "=established|" in phone_calls(au)[0])
    assert wait_for(lambda: b.calls() and "ESTABLISHED" in b.calls()[0])
    assert au.curl("/servlet?key=CANCEL:1")[2] == "ok CANCEL:1\n"
    assert wait_for(lambda: b.calls() == [])


def test_backend_down_then_back():
    # baresip's ctrl_tcp listens without SO_REUSEADDR, so a restart on the
    # same port would wait out TIME_WAIT: start aurid first instead, with
    # the phone's baresip not yet there.
    a = Baresip("a", auto_answer=False, start=False)
    b = Baresip("b", auto_answer=True)
    au = Aurid({"aurid.telephony": "baresip:127.0.0.1:%d" % a.ctrl_port})
    try:
        t0 = time.time()
        status, _, body = au.curl("/servlet?key=number=%s" % b.aor)
        assert time.time() - t0 < 2
        assert status == 503, body
        assert au.audit()[-1]["items"] == [{"item": "number=%s" % b.aor, "outcome": "failed"}]
        assert au.audit()[-1]["reason"] == "unavailable"
        a.start()
        assert wait_for(lambda: "connected to baresip" in au.read_log(), timeout=10), au.read_log()
        status, _, body = au.curl("/servlet?key=number=%s&wait=3000" % b.aor)
        assert status == 200 and "established" in body, body
        assert wait_for(lambda: len(b.calls()) == 1)
    finally:
        au.cleanup()
        a.stop()
        b.stop()


def test_blind_transfer(phone):
    # baresip 1.0's `transfer` is a blind REFER: A refers B to C, B (the
    # transferee) dials C, and once that call is up B's NOTIFY (sipfrag 200)
    # makes A end its own call; B's old call to A is closed by A's BYE.
    a, b, au = phone
    c = Baresip("c", auto_answer=True)
    try:
        status, _, body = au.curl("/servlet?key=number=%s&wait=3000" % b.aor)
        assert status == 200 and "established" in body, body
        assert wait_for(lambda: len(b.calls()) == 1 and "ESTABLISHED" in b.calls()[0])
        assert c.calls() == []

        status, _, body = au.curl("/servlet?key=BTrans=%s&wait=3000" % c.aor)
        assert status == 200 and body.startswith("ok BTrans=%s\n" % c.aor), body
        row = au.audit()[-1]
        assert row["items"] == [{"item": "BTrans=%s" % c.aor, "outcome": "ok"}], row

        # C got a call, from B, and it is established.
        assert wait_for(lambda: len(c.calls()) == 1 and "ESTABLISHED" in c.calls()[0]
                        and "sip:b@" in c.calls()[0], timeout=10), c.calls()
        # B's only call now is its call to C: the call with A is gone.
        assert wait_for(lambda: len(b.calls()) == 1 and c.aor in b.calls()[0]
                        and "ESTABLISHED" in b.calls()[0], timeout=10), b.calls()
        # A (the phone, seen through aurid) has no call left.
        assert wait_for(lambda: phone_calls(au) == [], timeout=10), phone_calls(au)
        assert au.presses() == []
    finally:
        c.stop()


def test_notify_dials():
    # The same dial through a SIP NOTIFY (Event: ACTION-URI) to aurid-sip:
    # trust_ctrl off so any source may send it; consent is off (harness default
    # features.show_action_uri_option = 0).
    from sipclient import Udp, free_udp_tcp_port
    a = Baresip("a", auto_answer=False)
    b = Baresip("b", auto_answer=True)
    port = free_udp_tcp_port()
    au = Aurid({"aurid.telephony": "baresip:127.0.0.1:%d" % a.ctrl_port,
                "aurid.sip.listen": "udp:127.0.0.1:%d" % port,
                "sip.trust_ctrl": "0",
                "account.1.sip_server.1.address": ""})
    u = Udp(port)
    try:
        assert wait_for(lambda: "connected to baresip" in au.read_log(), timeout=5), au.read_log()
        r = u.ask(body="key=number=%s" % b.aor, timeout=10)
        assert r is not None, "no final response to the NOTIFY"
        assert r.code == 200, r.raw
        assert wait_for(lambda: len(b.calls()) == 1 and "ESTABLISHED" in b.calls()[0]
                        and "sip:a@" in b.calls()[0], timeout=10), b.calls()
        assert wait_for(lambda: phone_calls(au) == ["Call1=established|active|outgoing|%s|unmuted|" % b.aor])
        [row] = [r for r in au.audit() if r["transport"] == "sip"]
        assert row["status"] == 200 and row["request"] == "NOTIFY key=number=%s" % b.aor, row
        assert row["items"] == [{"item": "number=%s" % b.aor, "outcome": "ok"}], row
        assert au.presses() == []
    finally:
        u.close()
        au.cleanup()
        a.stop()
        b.stop()
