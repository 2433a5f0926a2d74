"""DNS rebinding and foreign origins (issue 9 item 4), with real clients.

A page on a name the attacker re-points at the phone makes the browser send
that name as Host; a page on another site sends its Origin.  aurid-exec
refuses both (403, audit reasons `host` and `origin`) before it asks for
credentials, and presses nothing.  What names the phone: the address the
client reached, aurid.http.server_names, and `localhost` on loopback."""

import base64
import os
import socket
import subprocess

import pytest

from harness import ADMIN_PASSWORD, BUILD, free_port, key_code

BASIC = "Basic " + base64.b64encode(("admin:" + ADMIN_PASSWORD).encode()).decode()


def raw_get(port, head, host="127.0.0.1", timeout=5):
    """Sends one request head as given; returns (status, body)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(head.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                h, _, body = data.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in h.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    head_text, _, body = data.partition(b"\r\n\r\n")
    return int(head_text.split()[1]), body.decode(errors="replace")


def rows(a):
    return [(r["reason"], r["status"]) for r in a.audit()]


def test_foreign_host_presses_nothing_and_is_audited(aurid):
    status, hdrs, body = aurid.curl("/servlet?key=OK", headers=["Host: evil.example"])
    assert status == 403, body
    assert "Host 'evil.example'" in body and "aurid.http.server_names" in body, body
    # The port does not make a foreign name ours, nor a name that merely starts with our address.
    for host in ("evil.example:%d" % aurid.port, "127.0.0.1.evil.example", "0.0.0.0:%d" % aurid.port):
        assert aurid.curl("/servlet?key=OK", headers=["Host: " + host])[0] == 403, host
    assert aurid.presses() == []
    audit = aurid.audit()
    assert [(r["reason"], r["status"]) for r in audit] == [("host", 403)] * 4
    assert audit[0]["request"] == "GET /servlet?key=OK" and audit[0]["source"] == "127.0.0.1"
    assert audit[0]["items"] == [{"item": "OK", "outcome": "not-run"}]
    assert str(audit[0]["seq"]) == hdrs["x-request-id"]
    # The same client with the phone's address is served.
    status, _, body = aurid.curl("/servlet?key=OK", headers=["Host: 127.0.0.1:%d" % aurid.port])
    assert status == 200 and body == "ok OK\n", body
    assert aurid.presses() == [key_code("KEY_OK")]


def test_foreign_host_gets_no_login_prompt_and_cannot_lock_the_user_out(make_aurid):
    a = make_aurid({"aurid.lockout.failures": "2"})
    # No credentials: a rebound page would get a 401 prompt for its own name; it gets 403.
    status, hdrs, _ = a.curl("/servlet?key=OK", user=None, headers=["Host: evil.example"])
    assert status == 403 and "www-authenticate" not in hdrs, hdrs
    # Wrong passwords from a rebound page (it may set Authorization: same-origin to itself).
    for _ in range(5):
        assert a.curl("/servlet?key=OK", password="guess", headers=["Host: evil.example"])[0] == 403
    # The user's own browser, from the same address, is not locked out.
    status, _, body = a.curl("/servlet?key=OK")
    assert status == 200, body
    assert a.presses() == [key_code("KEY_OK")]
    assert rows(a) == [("host", 403)] * 6 + [("ok", 200)]


def test_screenshot_with_foreign_host_refused(aurid):
    status, hdrs, body = aurid.curl("/screencapture", headers=["Host: evil.example"])
    assert status == 403 and "content-type" in hdrs and hdrs["content-type"].startswith("text/plain"), hdrs
    assert "evil.example" in body
    status, _, _ = aurid.curl("/servlet?command=screenshot", headers=["Host: rebind.example:%d" % aurid.port])
    assert status == 403
    assert rows(aurid) == [("host", 403), ("host", 403)]
    # The phone's own address still gets the picture.
    status, hdrs, _ = aurid.curl("/screencapture")
    assert status == 200 and hdrs["content-type"] == "image/bmp", hdrs


def test_configured_server_names(make_aurid):
    a = make_aurid({"aurid.http.server_names": "phone.example, 203.0.113.7"})
    for host in ("phone.example", "PHONE.Example.:8080", "203.0.113.7:8080", "localhost:%d" % a.port):
        status, _, body = a.curl("/servlet?key=OK", headers=["Host: " + host])
        assert status == 200, (host, body)
    for host in ("phone.example.evil", "evil.phone.example", "203.0.113.8"):
        status, _, body = a.curl("/servlet?key=OK", headers=["Host: " + host])
        assert status == 403, (host, body)
    assert len(a.presses()) == 4
    assert rows(a) == [("ok", 200)] * 4 + [("host", 403)] * 3


def test_bad_server_names_refused_by_config_check(make_aurid):
    a = make_aurid({"aurid.http.server_names": "phone.example, phone.example:8080"}, start=False)
    r = subprocess.run([os.path.join(BUILD, "aurid"), "-n", "-c", a.cfg_path], capture_output=True, text=True)
    assert r.returncode == 1, r
    msg = r.stderr + r.stdout
    assert "aurid.http.server_names" in msg and "'phone.example:8080'" in msg, msg


def test_foreign_origin_refused(aurid):
    base = ["Host: 127.0.0.1:%d" % aurid.port]
    for origin in ("http://evil.example", "null", "http://127.0.0.2:%d" % aurid.port):
        status, _, body = aurid.curl("/servlet?key=OK", headers=base + ["Origin: " + origin])
        assert status == 403 and "not served by this phone" in body, (origin, body)
    assert aurid.presses() == []
    # The phone's own pages (same host, any port or scheme) are not foreign.
    for origin in ("http://127.0.0.1:%d" % aurid.port, "https://127.0.0.1"):
        status, _, body = aurid.curl("/servlet?key=OK", headers=base + ["Origin: " + origin])
        assert status == 200, (origin, body)
    assert len(aurid.presses()) == 2
    assert rows(aurid) == [("origin", 403)] * 3 + [("ok", 200)] * 2


def test_missing_host(aurid):
    # HTTP/1.1 requires Host (RFC 9112 3.2): 400, audited.
    status, body = raw_get(aurid.port, "GET /servlet?key=OK HTTP/1.1\r\nAuthorization: %s\r\n"
                           "Connection: close\r\n\r\n" % BASIC)
    assert status == 400 and "Host" in body, body
    assert aurid.presses() == []
    # HTTP/1.0 may omit it; an old scripted client does.  No browser sends a request without Host.
    status, body = raw_get(aurid.port, "GET /servlet?key=OK HTTP/1.0\r\nAuthorization: %s\r\n\r\n" % BASIC)
    assert status == 200 and body == "ok OK\n", body
    # But a foreign Host is refused on HTTP/1.0 too.
    status, body = raw_get(aurid.port, "GET /servlet?key=OK HTTP/1.0\r\nHost: evil.example\r\n"
                           "Authorization: %s\r\n\r\n" % BASIC)
    assert status == 403, body
    assert aurid.presses() == [key_code("KEY_OK")]
    assert rows(aurid) == [("bad-request", 400), ("ok", 200), ("host", 403)]


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_host_literal(make_aurid):
    a = make_aurid({"features.action_uri_limit_ip": "127.0.0.1,::1"}, start=False)
    port = free_port()
    a.cfg["aurid.http.listen"] = "127.0.0.1:%d,[::1]:%d" % (a.port, port)
    a.write_config()
    a.start()
    head = "GET /servlet?key=OK HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nConnection: close\r\n\r\n"
    status, body = raw_get(port, head % ("[::1]:%d" % port, BASIC), host="::1")
    assert status == 200, body
    status, body = raw_get(port, head % ("[0:0:0:0:0:0:0:1]", BASIC), host="::1")
    assert status == 200, body
    # Reached on ::1, a Host naming 127.0.0.1 is not the address the client reached.
    status, body = raw_get(port, head % ("127.0.0.1:%d" % port, BASIC), host="::1")
    assert status == 403, body
    assert len(a.presses()) == 2
    assert rows(a) == [("ok", 200), ("ok", 200), ("host", 403)]
