"""A compromised aurid-http, played by the AURID_TEST_FORGE hook of a test
build: whatever it claims -- another transport, SIP's registered-flow flag,
a legacy login, another user, another target for a Digest response -- the
executor believes none of it.  A claim the http channel may never carry
closes the channel; a forged credential is a wrong credential.  Nothing is
pressed in any case."""

import re

import pytest

from harness import hooks_built, wait_for

pytestmark = pytest.mark.skipif(not hooks_built(), reason="needs a build with AURID_TEST_HOOKS=ON")

CLOSED = {
    "transport=sip": "a transport other than http or https on the http channel",
    "sip-flow": "SIP flags on the http channel",
    "legacy": "a legacy login claimed by the front-end",
}


@pytest.mark.parametrize("forge", sorted(CLOSED))
def test_claim_the_channel_cannot_carry_closes_it(make_aurid, monkeypatch, forge):
    monkeypatch.setenv("AURID_TEST_FORGE", forge)
    a = make_aurid()
    status, _, body = a.curl("/servlet?key=OK")
    assert status != 200, body
    want = r"aurid-exec.*: http sent %s: closing its channel" % re.escape(CLOSED[forge])
    assert wait_for(lambda: re.search(want, a.read_log()), timeout=5), a.read_log()
    assert "AURID_TEST_FORGE=%s" % forge in a.read_log()
    assert a.presses() == []
    # Nothing ran, so nothing was recorded as run, under any transport.
    assert [r for r in a.audit() if r["status"] == 200] == []


def test_another_user_is_a_wrong_password(make_aurid, monkeypatch):
    monkeypatch.setenv("AURID_TEST_FORGE", "user=nobody")
    a = make_aurid()
    status, _, _ = a.curl("/servlet?key=OK")
    assert status == 401
    assert a.presses() == []
    row = a.audit()[-1]
    assert row["reason"] == "auth" and row["status"] == 401 and row.get("user") is None


def test_digest_response_binds_the_target_the_executor_runs(make_aurid, monkeypatch):
    # The client signs GET /servlet?key=OK; the front-end sends a key
    # press of its own choosing with that response.
    monkeypatch.setenv("AURID_TEST_FORGE", "target=/servlet?key=F_HOLD")
    a = make_aurid()
    status, _, _ = a.curl("/servlet?key=OK", extra=["--digest"])
    assert status == 401
    assert a.presses() == []
    rows = a.audit()
    assert rows and all(r["reason"] == "auth" for r in rows), rows
    # The audit records the target the executor judged, not the client's.
    assert "key=F_HOLD" in rows[-1]["request"], rows[-1]


def test_the_same_requests_run_without_the_forgery(make_aurid):
    # The control: the requests above are good ones when nobody lies.
    a = make_aurid()
    assert a.curl("/servlet?key=OK")[0] == 200
    assert a.curl("/servlet?key=OK", extra=["--digest"])[0] == 200
    assert len(a.presses()) == 2


# ---- a compromised aurid-sip ----

def make_sip(make_aurid, extra=None):
    from sipclient import free_udp_tcp_port
    port = free_udp_tcp_port()
    cfg = {"aurid.sip.listen": "udp:127.0.0.1:%d" % port,
           "account.1.sip_server.1.address": "127.0.0.3", "sip.trust_ctrl": "1"}
    cfg.update(extra or {})
    a = make_aurid(cfg)
    a.sip_port = port
    return a


def test_sip_claiming_a_web_transport_closes_its_channel(make_aurid, monkeypatch):
    from sipclient import Udp
    monkeypatch.setenv("AURID_TEST_FORGE", "transport=http")
    a = make_sip(make_aurid)
    r = Udp(a.sip_port, src="127.0.0.3").ask()
    assert r.code != 200, r.raw
    want = r"http or https on the sip channel|a transport other than sip on the sip channel"
    assert wait_for(lambda: re.search(r"sip sent (%s): closing its channel" % want, a.read_log()), timeout=5), \
        a.read_log()
    assert a.presses() == []


def test_sip_server_literal_is_checked_by_the_executor(make_aurid, monkeypatch):
    from sipclient import Udp
    # aurid-sip reports 127.0.0.1 as a trusted server; the configured server
    # is the literal 127.0.0.3, which the executor checks itself.
    monkeypatch.setenv("AURID_TEST_FORGE", "trusted=127.0.0.1")
    a = make_sip(make_aurid)
    assert wait_for(lambda: "127.0.0.1" in a.status()["sip_trusted"], timeout=5), a.status()
    assert Udp(a.sip_port, src="127.0.0.1").ask().code == 403
    assert a.presses() == []
    assert Udp(a.sip_port, src="127.0.0.3").ask().code == 200
    assert len(a.presses()) == 1
    rows = [r for r in a.audit() if r["transport"] == "sip"]
    assert [(r["source"], r["reason"]) for r in rows] == [("127.0.0.1", "not-allowed"), ("127.0.0.3", "ok")]
