"""SIP NOTIFY control end to end: a SIP client on loopback -> aurid-sip (libre)
-> aurid-exec -> sim keypad, with the answer as the SIP final response."""

import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest

from harness import BUILD, key_code, wait_for
from sipclient import Tcp, Udp, free_udp_tcp_port, have, request, sipsak

OK = key_code("KEY_OK")


@pytest.fixture
def make_sip(make_aurid):
    """make_sip({overrides}) -> an Aurid with aurid-sip on UDP and TCP, trusting
    127.0.0.1 as its SIP server; a.sip_port is the port."""

    def make(extra=None):
        port = free_udp_tcp_port()
        cfg = {
            "aurid.sip.listen": "udp:127.0.0.1:%d,tcp:127.0.0.1:%d" % (port, port),
            "account.1.sip_server.1.address": "127.0.0.1",
            "sip.trust_ctrl": "1",
        }
        cfg.update(extra or {})
        a = make_aurid(cfg)
        a.sip_port = port
        return a
    return make


@pytest.fixture
def sip(make_sip):
    return make_sip()


def sip_rows(a):
    return [r for r in a.audit() if r["transport"] == "sip"]


def sip_pid(a):
    pids = a.pids("aurid-sip")
    assert len(pids) == 1, pids
    return pids[0]


# ---- the basic path ----

@pytest.mark.skipif(not have("sipsak"), reason="sipsak is not installed (make check installs it)")
def test_sipsak_notify_presses_ok_and_is_audited(sip):
    msg = request(port=sip.sip_port, body="key=OK")
    rc, out = sipsak(sip.sip_port, msg)
    assert rc == 0, out                       # sipsak exits 0 only for a 200
    assert "200 OK" in out
    assert sip.presses() == [OK]
    [row] = sip_rows(sip)
    assert row["source"] == "127.0.0.1" and row["status"] == 200 and row["reason"] == "ok"
    assert row["request"] == "NOTIFY key=OK"
    assert row["items"] == [{"item": "OK", "outcome": "ok"}]
    assert row["user"] is None


def test_notify_over_tcp_and_udp(sip):
    u = Udp(sip.sip_port)
    r = u.ask(body="key=1;2")
    assert r.code == 200, r.raw
    assert r.header("server") == "aurid"
    t = Tcp(sip.sip_port)
    r = t.ask(body="key=3")
    assert r.code == 200, r.raw
    # Two NOTIFYs on one connection.
    r = t.ask(body="key=OK\r\n")
    assert r.code == 200, r.raw
    t.close()
    u.close()
    assert sip.presses() == [key_code(k) for k in ("KEY_NUMERIC_1", "KEY_NUMERIC_2", "KEY_NUMERIC_3")] + [OK]
    assert [row["status"] for row in sip_rows(sip)] == [200, 200, 200]


def test_keyless_dial_form(sip):
    r = Udp(sip.sip_port).ask(body="number=123&outgoing_uri=sip:123@pbx.example")
    # aurid.telephony = none: parsed and routed, answered as unsupported.
    assert r.code == 200, r.raw
    [row] = sip_rows(sip)
    assert row["items"][0]["item"].startswith("number=123")


# ---- what the request itself gets wrong ----

def test_event_header(sip):
    u = Udp(sip.sip_port)
    r = u.ask(event="check-sync")
    assert r.code == 489 and r.header("allow-events") == "ACTION-URI", r.raw
    r = u.ask(event=None)
    assert r.code == 489, r.raw
    assert sip.presses() == []
    # Name and value case-insensitive, parameters allowed, compact form "o".
    assert u.ask(event="action-uri;id=7", body="key=1").code == 200
    assert u.ask(event=None, extra=["event: Action-Uri"], body="key=2").code == 200
    assert u.ask(event=None, extra=["o: ACTION-URI"], body="key=3").code == 200
    assert len(sip.presses()) == 3
    # Refusals of the message itself run nothing and have no audit row.
    assert len(sip_rows(sip)) == 3


def test_content_type(sip):
    u = Udp(sip.sip_port)
    r = u.ask(ctype="text/plain")
    assert r.code == 415 and r.header("accept") == "message/sipfrag", r.raw
    r = u.ask(ctype="application/json")
    assert r.code == 415
    assert sip.presses() == []
    assert u.ask(ctype=None).code == 200                   # no Content-Type: accepted
    assert u.ask(ctype="Message/SipFrag;version=2.0").code == 200
    assert sip.presses() == [OK, OK]


def test_bad_body_is_refused_and_audited(sip):
    u = Udp(sip.sip_port)
    r = u.ask(body="key=NOPE")
    assert r.code == 400, r.raw
    assert "NOPE" in (r.header("warning") or "")
    r = u.ask(body="")
    assert r.code == 400
    r = u.ask(body="key=OK\x00")
    assert r.code == 400
    assert sip.presses() == []
    rows = sip_rows(sip)
    assert [row["status"] for row in rows] == [400, 400, 400]
    assert all(row["reason"] == "bad-request" for row in rows)
    assert rows[0]["request"] == "NOTIFY key=NOPE"
    # Over-long: refused with 413, audited, its summary truncated.
    t = Tcp(sip.sip_port)
    r = t.ask(body="key=" + "1" * 3000)
    assert r.code == 413, r.raw
    t.close()
    row = sip_rows(sip)[-1]
    assert row["status"] == 413 and len(row["request"]) < 200
    assert sip.presses() == []


def test_password_in_a_body_is_not_audited(sip):
    r = Udp(sip.sip_port).ask(body="p=login&q=login&username=admin&pwd=s3cret&jumpto=x&key=OK")
    assert r.code == 200, r.raw
    row = sip_rows(sip)[-1]
    assert "s3cret" not in row["request"] and "pwd=***" in row["request"]


def test_options_and_other_methods(sip):
    u = Udp(sip.sip_port)
    r = u.ask(method="OPTIONS", event=None, ctype=None, body="")
    assert r.code == 200
    assert "NOTIFY" in r.header("allow") and r.header("allow-events") == "ACTION-URI"
    for m in ("INFO", "MESSAGE", "SUBSCRIBE", "REGISTER", "INVITE"):
        r = u.ask(method=m, event=None, ctype=None, body="")
        assert r.code == 405, (m, r.raw)
        assert "NOTIFY" in r.header("allow")
    r = u.ask(method="CANCEL", event=None, ctype=None, body="")
    assert r.code == 481
    r = u.ask(extra=["Require: 100rel"])
    assert r.code == 420 and "100rel" in r.header("unsupported")
    r = Tcp(sip.sip_port).ask(method="OPTIONS", event=None, ctype=None, body="")
    assert r.code == 200
    assert sip.presses() == [] and sip_rows(sip) == []


# ---- trust ----

def test_untrusted_source_is_refused(sip):
    u = Udp(sip.sip_port, src="127.0.0.2")
    r = u.ask()
    assert r.code == 403, r.raw
    assert "sip.trust_ctrl" in r.header("warning")
    t = Tcp(sip.sip_port, src="127.0.0.2")
    assert t.ask().code == 403
    assert sip.presses() == []
    rows = sip_rows(sip)
    assert [(x["source"], x["status"], x["reason"]) for x in rows] == [("127.0.0.2", 403, "not-allowed")] * 2
    assert rows[0]["items"] == [{"item": "OK", "outcome": "not-run"}]
    assert sip.status()["sip_trusted"] == "127.0.0.1"


def test_http_allow_list_does_not_apply(make_sip):
    # On the HTTP allow list, not the SIP server: refused.
    a = make_sip({"features.action_uri_limit_ip": "127.0.0.1,127.0.0.2"})
    assert Udp(a.sip_port, src="127.0.0.2").ask().code == 403
    # The SIP server with a blank HTTP allow list (HTTP refuses everyone): runs.
    b = make_sip({"features.action_uri_limit_ip": ""})
    assert Udp(b.sip_port).ask().code == 200
    assert b.curl("/servlet?key=OK")[0] == 403


def test_server_elsewhere_refuses_loopback(make_sip):
    a = make_sip({"account.1.sip_server.1.address": "127.0.0.3"})
    assert a.status()["sip_trusted"] == "127.0.0.3"
    assert Udp(a.sip_port).ask().code == 403
    assert Udp(a.sip_port, src="127.0.0.3").ask().code == 200
    assert a.presses() == [OK]


def test_names_resolve_and_outbound_proxy_is_trusted(make_sip):
    a = make_sip({"account.1.sip_server.1.address": "localhost",
                  "account.1.outbound_proxy.1.address": "127.0.0.4"})
    trusted = wait_for(lambda: "127.0.0.1" in a.status()["sip_trusted"] and a.status()["sip_trusted"])
    assert set(trusted.split(",")) >= {"127.0.0.1", "127.0.0.4"}, trusted
    assert Udp(a.sip_port, src="127.0.0.4").ask().code == 200
    assert Udp(a.sip_port, src="127.0.0.2").ask().code == 403


def test_trust_ctrl_off_accepts_any_source(make_sip):
    a = make_sip({"sip.trust_ctrl": "0", "account.1.sip_server.1.address": ""})
    assert Udp(a.sip_port, src="127.0.0.2").ask().code == 200
    assert a.presses() == [OK]


def test_credentials_are_not_asked_of_sip(make_sip):
    # aurid.action_uri.auth = 1 (the default) is for HTTP: NOTIFYs have none.
    a = make_sip({"aurid.action_uri.auth": "1"})
    assert Udp(a.sip_port).ask().code == 200


def test_disabled_and_capability(make_sip):
    a = make_sip({"aurid.allow.keys": "0"})
    r = Udp(a.sip_port).ask()
    assert r.code == 403 and "capability" in r.header("warning")
    b = make_sip({"features.action_uri.enable": "0"})
    assert Udp(b.sip_port).ask().code == 403
    assert a.presses() == [] and b.presses() == []


def test_rate_limit_is_503_with_retry_after(make_sip):
    a = make_sip({"aurid.rate.per_second": "1", "aurid.rate.burst": "2"})
    u = Udp(a.sip_port)
    codes = [u.ask(body="key=1").code for _ in range(4)]
    assert codes[:2] == [200, 200] and 503 in codes[2:], codes
    r = u.ask()
    assert r.code == 503 and int(r.header("retry-after")) >= 1
    assert [x["reason"] for x in sip_rows(a)][-1] == "rate"


# ---- transactions ----

def test_retransmission_presses_once(sip):
    u = Udp(sip.sip_port)
    msg = u.request(body="key=OK", br="z9hG4bK-retransmit-1")
    u.send(msg)
    u.send(msg)                                # before the answer
    first = u.responses(3)
    assert [r.code for r in first] == [200]
    time.sleep(0.3)
    u.send(msg)                                # after it: the same answer again
    again = u.responses(3)
    assert [r.code for r in again] == [200]
    assert again[0].header("to") == first[0].header("to")   # the same response, To tag included
    time.sleep(0.3)
    assert sip.presses() == [OK]
    assert len(sip_rows(sip)) == 1
    # A new transaction (new branch, new CSeq) is a new press.
    assert u.ask(body="key=OK").code == 200
    assert sip.presses() == [OK, OK]


@pytest.mark.skipif(not have("sipp"), reason="sipp (sip-tester) is not installed (make check installs it)")
def test_sipp_notifies(sip, tmp_path):
    scen = tmp_path / "notify.xml"
    scen.write_text(SIPP_NOTIFY)
    r = subprocess.run(["sipp", "-sf", str(scen), "-m", "20", "-r", "50", "-l", "5", "-i", "127.0.0.1",
                        "-p", str(free_udp_tcp_port()), "-timeout", "20s", "-trace_err",
                        "-error_file", str(tmp_path / "err.log"), "-nostdin",
                        "127.0.0.1:%d" % sip.sip_port],
                       capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert wait_for(lambda: len(sip.presses()) == 20, timeout=10), len(sip.presses())
    assert len(sip_rows(sip)) == 20


SIPP_NOTIFY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ACTION-URI NOTIFY">
  <send retrans="500">
    <![CDATA[
NOTIFY sip:phone@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:pbx@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:phone@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 NOTIFY
Max-Forwards: 70
Event: ACTION-URI
Content-Type: message/sipfrag
Content-Length: [len]

key=OK
    ]]>
  </send>
  <recv response="200" timeout="10000"/>
</scenario>
"""


# ---- the consent prompt ----

class Notify(threading.Thread):
    """A NOTIFY whose answer is waited for on its own UDP socket, retransmitted
    as RFC 3261 says (T1 doubling up to T2) until a final response."""

    def __init__(self, port, body="key=OK", timeout=40):
        super().__init__()
        self.u = Udp(port)
        self.msg = self.u.request(body=body)
        self.timeout = timeout
        self.got = []
        self.sent = 0
        self.start()

    def run(self):
        t0 = time.time()
        interval = 0.5
        while time.time() - t0 < self.timeout:
            self.u.send(self.msg)
            self.sent += 1
            rs = self.u.responses(interval, until_final=True)
            for r in rs:
                self.got.append((time.time() - t0, r))
            if any(r.code >= 200 for r in rs):
                return
            interval = min(interval * 2, 4.0)

    def final(self):
        return [r for _, r in self.got if r.code >= 200]


def test_consent_prompt_holds_the_notify_then_ok_runs_it(make_sip):
    a = make_sip({"features.show_action_uri_option": "1", "aurid.consent.timeout": "20"})
    n = Notify(a.sip_port)
    # Held: retransmissions come and are absorbed, and after 3.5 s (RFC 4320)
    # the sender hears 100 Trying.
    assert wait_for(lambda: any(r.code == 100 for _, r in n.got), timeout=8), n.got
    trying_at = min(t for t, r in n.got if r.code == 100)
    assert trying_at >= 3.0, trying_at
    assert n.is_alive() and a.presses() == []
    assert n.sent >= 3
    a.aurictl("sim", "press", "OK")
    n.join(10)
    assert [r.code for r in n.final()] == [200]
    assert a.presses() == [OK]                 # one press for all the retransmissions
    rows = sip_rows(a)
    assert len(rows) == 1 and rows[0]["status"] == 200
    assert "127.0.0.1" in a.aurictl("consent", "list", "--json").stdout
    # Consent is per source: the next NOTIFY runs at once.
    assert Udp(a.sip_port).ask(timeout=3).code == 200


def test_consent_cancel_and_timeout(make_sip):
    a = make_sip({"features.show_action_uri_option": "1", "aurid.consent.timeout": "2"})
    t0 = time.time()
    r = Udp(a.sip_port).ask(timeout=10)
    assert r.code == 403 and 1.5 < time.time() - t0 < 6, (r, time.time() - t0)
    assert sip_rows(a)[-1]["reason"] == "consent-timeout"
    n = Notify(a.sip_port)
    time.sleep(0.5)
    a.aurictl("sim", "press", "X")
    n.join(10)
    assert [r.code for r in n.final()] == [403]
    assert sip_rows(a)[-1]["reason"] == "consent-denied"
    assert a.presses() == []


# ---- robustness ----

def test_garbage_does_no_harm(sip):
    pid = sip_pid(sip)
    rnd = random.Random(4)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(300):
        s.sendto(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400))), ("127.0.0.1", sip.sip_port))
    good = request(port=sip.sip_port)
    for _ in range(200):
        # Mutations of a real NOTIFY: truncated, bytes flipped, lines doubled.
        m = bytearray(good)
        kind = rnd.randrange(3)
        if kind == 0:
            m = m[:rnd.randrange(len(m))]
        elif kind == 1:
            for _ in range(rnd.randint(1, 8)):
                m[rnd.randrange(len(m))] = rnd.getrandbits(8)
        else:
            m = m.replace(b"\r\nCSeq", b"\r\nCSeq: 1 NOTIFY\r\nCSeq", 1)
        s.sendto(bytes(m), ("127.0.0.1", sip.sip_port))
    # Huge datagram, huge header, a lying Content-Length.
    s.sendto(b"NOTIFY sip:x SIP/2.0\r\n" + b"X-Junk: " + b"a" * 60000 + b"\r\n\r\n", ("127.0.0.1", sip.sip_port))
    s.sendto(request(port=sip.sip_port, clen=100000), ("127.0.0.1", sip.sip_port))
    s.sendto(request(port=sip.sip_port, extra=["X-H%d: v" % i for i in range(400)]), ("127.0.0.1", sip.sip_port))
    # Responses to nothing.
    s.sendto(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCall-ID: x\r\n"
             b"CSeq: 1 NOTIFY\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n",
             ("127.0.0.1", sip.sip_port))
    # TCP: random bytes, a header that never ends, a body that never comes.
    for payload in (bytes(rnd.getrandbits(8) for _ in range(5000)),
                    b"NOTIFY sip:x SIP/2.0\r\nX-Junk: " + b"b" * 200000,
                    request(port=sip.sip_port, transport="TCP", clen=5000)):
        try:
            c = socket.create_connection(("127.0.0.1", sip.sip_port), timeout=5)
            c.sendall(payload)
            c.settimeout(1)
            try:
                c.recv(4096)
            except OSError:
                pass
            c.close()
        except OSError:
            pass
    # Still the same process, still answering.
    time.sleep(0.5)
    assert sip_pid(sip) == pid
    assert Udp(sip.sip_port).ask(method="OPTIONS", event=None, ctype=None, body="").code == 200
    assert Udp(sip.sip_port).ask(body="key=OK").code == 200
    assert Tcp(sip.sip_port).ask(body="key=OK").code == 200
    # Whatever garbage parsed as a valid trusted NOTIFY may have pressed
    # OK; the two above certainly did.
    assert sip.presses()[-2:] == [OK, OK]


def test_via_maddr_gets_no_answer(sip):
    u = Udp(sip.sip_port)
    m = u.request().replace(b";rport", b";maddr=127.0.0.9;rport", 1)
    u.send(m)
    assert u.responses(1.0) == []
    assert sip.presses() == []


# ---- the process ----

def test_executor_restart_is_503_then_works(sip):
    [exec_pid] = sip.pids("aurid-exec")
    os.kill(exec_pid, signal.SIGKILL)
    codes = set()
    deadline = time.time() + 10
    while time.time() < deadline:
        r = Udp(sip.sip_port).ask(timeout=2, body="key=1")
        codes.add(r.code if r else None)
        if r and r.code == 200:
            break
        time.sleep(0.1)
    assert 200 in codes and codes <= {200, 503}, codes
    # The new executor was told the trusted server again.
    assert sip.status()["sip_trusted"] == "127.0.0.1"


def test_sip_killed_is_restarted(sip):
    pid = sip_pid(sip)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: sip.pids("aurid-sip") and sip.pids("aurid-sip") != [pid], timeout=5)
    assert wait_for(lambda: sip.status()["sip_connected"], timeout=5)

    def works():
        r = Udp(sip.sip_port).ask(timeout=1)
        return r is not None and r.code == 200
    assert wait_for(works, timeout=5, step=0.2)


def test_no_boringssl_in_aurid_sip(sip):
    with open("/proc/%d/maps" % sip_pid(sip)) as f:
        maps = f.read()
    assert "libre.so" in maps
    assert "libcrypto.so.3" in maps                # OpenSSL, through libre
    assert "libcrypto.so.0" not in maps and "/android/" not in maps
    out = subprocess.run(["ldd", os.path.join(BUILD, "aurid-sip")], capture_output=True, text=True).stdout
    assert "android" not in out and "libcrypto.so.0" not in out, out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")
def test_runs_as_its_own_user(sip):
    import pwd
    uid = pwd.getpwnam("aurid-sip").pw_uid
    with open("/proc/%d/status" % sip_pid(sip)) as f:
        line = [x for x in f if x.startswith("Uid:")][0]
    assert [int(x) for x in line.split()[1:]] == [uid] * 4


def test_config_check(tmp_path):
    cfg = tmp_path / "a.cfg"
    for bad, word in (("udp:127.0.0.1:506", "1024"), ("tls:127.0.0.1:5061", "aurid.sip.listen"),
                      ("udp:pbx.example:5060", "aurid.sip.listen")):
        cfg.write_text("aurid.sip.listen = %s\n" % bad)
        r = subprocess.run([os.path.join(BUILD, "aurid"), "-n", "-c", str(cfg)], capture_output=True, text=True)
        assert r.returncode == 1 and word in r.stderr, (bad, r.stderr)
    cfg.write_text("account.1.sip_server.1.transport = tls\n")
    r = subprocess.run([os.path.join(BUILD, "aurid"), "-n", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1 and "transport" in r.stderr
    cfg.write_text("aurid.sip.listen = udp:[::1]:5060, TCP:127.0.0.1:5060\n")
    r = subprocess.run([os.path.join(BUILD, "aurid"), "-n", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
