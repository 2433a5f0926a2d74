"""HTTP Digest authentication (RFC 7616): curl --digest, and a hand-made
client for replay, stale nonces, both algorithms and a response for another URI."""

import hashlib
import http.client
import os
import re
import time

from harness import ADMIN_PASSWORD


def challenge(a, path="/servlet?key=OK"):
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    assert r.status == 401
    heads = r.msg.get_all("WWW-Authenticate")
    c.close()
    return heads


def nonce_of(heads, alg):
    for h in heads:
        if h.startswith("Digest") and ("algorithm=%s" % alg) in h:
            return re.search(r'nonce="([^"]+)"', h).group(1), "stale=true" in h
    raise AssertionError("no %s challenge in %r" % (alg, heads))


def authorization(alg, user, password, nonce, nc, uri, method="GET", cnonce="0a4f113b"):
    h = hashlib.sha256 if alg == "SHA-256" else hashlib.md5
    ha1 = h(("%s:aurid:%s" % (user, password)).encode()).hexdigest()
    ha2 = h(("%s:%s" % (method, uri)).encode()).hexdigest()
    ncs = "%08x" % nc
    resp = h(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, ncs, cnonce, ha2)).encode()).hexdigest()
    return ('Digest username="%s", realm="aurid", nonce="%s", uri="%s", algorithm=%s, qop=auth, '
            'nc=%s, cnonce="%s", response="%s"' % (user, nonce, uri, alg, ncs, cnonce, resp))


def get(a, path, auth):
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
    c.request("GET", path, headers={"Authorization": auth})
    r = c.getresponse()
    body = r.read().decode()
    heads = r.msg.get_all("WWW-Authenticate") or []
    c.close()
    return r.status, body, heads


def test_curl_digest(aurid):
    status, _, body = aurid.curl("/servlet?key=OK", extra=["--digest"])
    assert status == 200, body
    status, _, _ = aurid.curl("/servlet?key=OK", password="wrong-one", extra=["--digest"])
    assert status == 401
    assert len(aurid.presses()) == 1
    rows = aurid.audit()
    assert rows[-1]["reason"] == "auth" and [r for r in rows if r["reason"] == "ok"][0]["user"] == "admin"


def test_every_401_offers_digest_and_basic(aurid):
    heads = challenge(aurid)
    assert any(h.startswith("Digest") and "algorithm=SHA-256" in h for h in heads)
    assert any(h.startswith("Digest") and "algorithm=MD5" in h for h in heads)
    assert any(h.startswith("Basic") for h in heads)


def test_both_algorithms_and_replay(aurid):
    for alg in ("SHA-256", "MD5"):
        nonce, _ = nonce_of(challenge(aurid), alg)
        uri = "/servlet?key=1"
        ok = authorization(alg, "admin", ADMIN_PASSWORD, nonce, 1, uri)
        st = get(aurid, uri, ok)
        assert st[0] == 200, (alg, st, aurid.read_log()[-800:])
        # The same nonce count again is a replay.
        assert get(aurid, uri, ok)[0] == 401
        # The next count is fine.
        assert get(aurid, uri, authorization(alg, "admin", ADMIN_PASSWORD, nonce, 2, uri))[0] == 200
    assert len(aurid.presses()) == 4
    reasons = [r["reason"] for r in aurid.audit()]
    assert reasons.count("ok") == 4


def test_wrong_password_and_foreign_uri_and_forged_nonce(aurid):
    nonce, _ = nonce_of(challenge(aurid), "SHA-256")
    assert get(aurid, "/servlet?key=1", authorization("SHA-256", "admin", "nope-nope", nonce, 1,
                                                       "/servlet?key=1"))[0] == 401
    # A response computed for another URI does not authorise this one.
    assert get(aurid, "/servlet?key=OK", authorization("SHA-256", "admin", ADMIN_PASSWORD, nonce, 2,
                                                        "/servlet?key=1"))[0] == 401
    # A nonce the phone never issued.
    forged = "0" * 16 + nonce[16:]   # another time, the same MAC
    assert get(aurid, "/servlet?key=1", authorization("SHA-256", "admin", ADMIN_PASSWORD, forged, 1,
                                                       "/servlet?key=1"))[0] == 401
    assert aurid.presses() == []


def test_stale_nonce(make_aurid):
    a = make_aurid({"aurid.digest.nonce_lifetime": "1"})
    nonce, _ = nonce_of(challenge(a), "SHA-256")
    time.sleep(2.2)
    status, body, heads = get(a, "/servlet?key=1", authorization("SHA-256", "admin", ADMIN_PASSWORD, nonce, 1,
                                                                  "/servlet?key=1"))
    assert status == 401 and "stale" in body
    fresh, stale = nonce_of(heads, "SHA-256")
    assert stale and fresh != nonce
    assert get(a, "/servlet?key=1", authorization("SHA-256", "admin", ADMIN_PASSWORD, fresh, 1,
                                                   "/servlet?key=1"))[0] == 200
    assert a.audit()[-2]["reason"] == "auth"
