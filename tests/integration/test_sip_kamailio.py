"""aurid-sip with a real SIP server: Kamailio as registrar and proxy on
loopback.  aurid-sip registers; a NOTIFY that Kamailio originates for the
registered user is relayed to it and executed; the same NOTIFY sent directly
from elsewhere is refused with trust-server-only on."""

import os
import signal

import pytest

import kamailio
from harness import key_code, wait_for
from sipclient import Tcp, Udp, free_udp_tcp_port

pytestmark = pytest.mark.skipif(not kamailio.available(),
                                reason="kamailio/kamcmd are not installed (make check installs them)")

OK = key_code("KEY_OK")


@pytest.fixture
def kam():
    k = kamailio.Kamailio()
    try:
        k.start()
        yield k
    finally:
        log = k.read_log()
        k.cleanup()
        assert "CRITICAL" not in log, log[-3000:]


@pytest.fixture
def make_phone(make_aurid):
    def make(k, transport="udp", extra=None):
        port = free_udp_tcp_port()
        cfg = {
            "aurid.sip.listen": "udp:127.0.0.1:%d,tcp:127.0.0.1:%d" % (port, port),
            "sip.trust_ctrl": "1",
            "account.1.enable": "1",
            "account.1.user_name": "phone",
            "account.1.password": "secret",
            "account.1.sip_server.1.address": "127.0.0.1",
            "account.1.sip_server.1.port": str(k.port),
            "account.1.sip_server.1.transport": transport,
            "account.1.expires": "60",
        }
        cfg.update(extra or {})
        a = make_aurid(cfg)
        a.sip_port = port
        return a
    return make


def registered(a):
    return a.status()["sip_registration"] == "registered"


def test_registers_over_udp_and_relayed_notify_runs(kam, make_phone):
    a = make_phone(kam, "udp")
    assert wait_for(lambda: registered(a), timeout=10), a.status()
    st = a.status()
    assert st["sip_registrar"] == "sip:127.0.0.1:%d" % kam.port
    assert st["sip_registration_detail"].startswith("200")
    [(contact, _)] = kam.contacts("phone")
    assert contact == "sip:phone@127.0.0.1:%d" % a.sip_port
    # Kamailio originates a NOTIFY for the user; it is routed to the contact.
    assert kam.notify("phone", "key=OK") == 200
    assert a.presses() == [OK]
    row = a.audit()[-1]
    assert row["transport"] == "sip" and row["source"] == "127.0.0.1" and row["status"] == 200
    # The same NOTIFY sent directly from another address: not the server.
    r = Udp(a.sip_port, src="127.0.0.2").ask(body="key=OK")
    assert r.code == 403
    assert a.presses() == [OK]
    assert a.audit()[-1]["reason"] == "not-allowed"


def test_registers_over_tcp_and_only_that_flow_is_trusted(kam, make_phone):
    a = make_phone(kam, "tcp")
    assert wait_for(lambda: registered(a), timeout=10), a.status()
    assert a.status()["sip_registrar"] == "sip:127.0.0.1:%d;transport=tcp" % kam.port
    [(contact, received)] = kam.contacts("phone")
    assert "transport=tcp" in contact and received and "transport=tcp" in received
    assert kam.notify("phone", "key=1;OK") == 200
    assert a.presses() == [key_code("KEY_NUMERIC_1"), OK]
    # From the server's own address, but not over the registered connection:
    # not trusted when registered over TCP.
    assert Udp(a.sip_port).ask().code == 403
    t = Tcp(a.sip_port)
    assert t.ask().code == 403
    t.close()
    assert Udp(a.sip_port, src="127.0.0.2").ask().code == 403
    assert len(a.presses()) == 2
    assert kam.notify("phone", "key=OK") == 200
    assert len(a.presses()) == 3


def test_server_by_name(kam, make_phone):
    # "localhost" is resolved (::1 and 127.0.0.1; aurid-sip listens on IPv4)
    # and reached through a loose route; the AoR keeps the name.
    a = make_phone(kam, "udp", {"account.1.sip_server.1.address": "localhost"})
    assert wait_for(lambda: registered(a), timeout=10), a.status()
    assert a.status()["sip_registrar"] == "sip:localhost:%d" % kam.port
    assert "127.0.0.1" in a.status()["sip_trusted"].split(",")
    assert kam.notify("phone", "key=OK") == 200
    assert a.presses() == [OK]


def test_killed_sip_is_restarted_and_registers_again(kam, make_phone):
    a = make_phone(kam, "tcp")
    assert wait_for(lambda: registered(a), timeout=10)
    [pid] = a.pids("aurid-sip")
    [(_, first)] = kam.contacts("phone")
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: a.pids("aurid-sip") and a.pids("aurid-sip") != [pid], timeout=5)
    # The new aurid-sip registers again, over a new connection.
    assert wait_for(lambda: registered(a) and any(r != first for _, r in kam.contacts("phone")), timeout=10), \
        (a.status(), kam.contacts("phone"))
    assert wait_for(lambda: kam.notify("phone", "key=OK") == 200, timeout=5, step=0.3)
    assert OK in a.presses()


def test_wrong_password_fails_visibly(kam, make_phone):
    a = make_phone(kam, "udp", {"account.1.password": "wrong"})
    assert wait_for(lambda: a.status()["sip_registration"] == "failed", timeout=10), a.status()
    assert "401" in a.status()["sip_registration_detail"] or "403" in a.status()["sip_registration_detail"]
    assert kam.contacts("phone") == []


def test_server_down_over_tcp_fails_visibly(make_aurid):
    port = free_udp_tcp_port()
    dead = free_udp_tcp_port()
    a = make_aurid({
        "aurid.sip.listen": "udp:127.0.0.1:%d,tcp:127.0.0.1:%d" % (port, port),
        "account.1.enable": "1", "account.1.user_name": "phone", "account.1.password": "x",
        "account.1.sip_server.1.address": "127.0.0.1", "account.1.sip_server.1.port": str(dead),
        "account.1.sip_server.1.transport": "tcp",
    })
    assert wait_for(lambda: a.status()["sip_registration"] == "failed", timeout=10), a.status()
    assert "refused" in a.status()["sip_registration_detail"].lower()
