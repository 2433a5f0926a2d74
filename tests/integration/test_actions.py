"""HTTP action requests end to end: curl -> aurid-http -> aurid-exec -> sim keypad."""

from harness import ADMIN_PASSWORD, key_code, wait_for


def test_ok_press_is_injected_and_audited(aurid):
    status, hdrs, body = aurid.curl("/servlet?key=OK")
    assert status == 200, body
    assert body == "ok OK\n"
    assert aurid.presses() == [key_code("KEY_OK")]
    rows = aurid.audit()
    assert len(rows) == 1
    row = rows[0]
    assert str(row["seq"]) == hdrs["x-request-id"]
    assert row["transport"] == "http" and row["source"] == "127.0.0.1" and row["user"] == "admin"
    assert row["status"] == 200 and row["reason"] == "ok"
    assert row["items"] == [{"item": "OK", "outcome": "ok"}]
    assert row["request"] == "GET /servlet?key=OK"
    assert row["time"].endswith("Z") and row["latency_us"] >= 0


def test_chain_in_order_with_pacing(aurid):
    status, _, body = aurid.curl("/servlet?key=F1;DOWN;DOWN;OK")
    assert status == 200, body
    assert body.splitlines() == ["ok F1", "ok DOWN", "ok DOWN", "ok OK"]
    assert aurid.presses() == [key_code(k) for k in ("KEY_F1", "KEY_DOWN", "KEY_DOWN", "KEY_OK")]
    t = aurid.press_times()
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert all(g >= 0.045 for g in gaps), gaps


def test_digit_run_is_single_presses(aurid):
    status, _, body = aurid.curl("/servlet?key=123")
    assert status == 200, body
    assert aurid.presses() == [key_code("KEY_NUMERIC_%d" % d) for d in (1, 2, 3)]


def test_aliases_case_and_encoding(aurid):
    status, _, body = aurid.curl("/servlet?Key=cancel;%23;pound;ok")
    assert status == 200, body
    assert aurid.presses() == [key_code(k) for k in
                               ("KEY_CANCEL", "KEY_NUMERIC_POUND", "KEY_NUMERIC_POUND", "KEY_OK")]


def test_all_action_paths(aurid):
    for path in ("/servlet", "/cgi-bin/ConfigManApp.com", "/cgi-bin/cgiServer.exx"):
        status, _, body = aurid.curl(path + "?key=OK&")
        assert status == 200, (path, body)
    assert len(aurid.presses()) == 3


def test_source_not_on_list_is_refused(aurid):
    status, hdrs, body = aurid.curl("/servlet?key=OK", source="127.0.0.2")
    assert status == 403
    assert "allow list" in body
    assert aurid.presses() == []
    row = aurid.audit()[-1]
    assert row["source"] == "127.0.0.2" and row["reason"] == "not-allowed" and row["status"] == 403
    assert str(row["seq"]) == hdrs["x-request-id"]
    assert row["items"] == [{"item": "OK", "outcome": "not-run"}]


def test_blank_list_refuses_everyone(make_aurid):
    a = make_aurid({"features.action_uri_limit_ip": ""})
    for src in ("127.0.0.1", "127.0.0.2"):
        status, _, _ = a.curl("/servlet?key=OK", source=src)
        assert status == 403
    assert a.presses() == []
    assert [r["reason"] for r in a.audit()] == ["not-allowed", "not-allowed"]


def test_allow_list_forms(make_aurid):
    a = make_aurid({"features.action_uri_limit_ip": "10.0.0.1, 127.0.0.*, fd00::/8"})
    assert a.curl("/servlet?key=OK", source="127.0.0.3")[0] == 200
    a2 = make_aurid({"features.action_uri_limit_ip": "127.0.0.0/31"})
    assert a2.curl("/servlet?key=OK", source="127.0.0.1")[0] == 200
    assert a2.curl("/servlet?key=OK", source="127.0.0.2")[0] == 403
    a3 = make_aurid({"features.action_uri_limit_ip": "any"})
    assert a3.curl("/servlet?key=OK", source="127.0.0.9")[0] == 200


def test_missing_and_wrong_credentials(aurid):
    status, hdrs, _ = aurid.curl("/servlet?key=OK", user=None)
    assert status == 401
    assert hdrs["www-authenticate"].startswith("Basic realm=")
    status, hdrs, _ = aurid.curl("/servlet?key=OK", password="wrong")
    assert status == 401 and "www-authenticate" in hdrs
    status, _, _ = aurid.curl("/servlet?key=OK", user="nobody", password="whatever")
    assert status == 401
    assert aurid.presses() == []
    assert [r["reason"] for r in aurid.audit()] == ["auth", "auth", "auth"]


def test_credentials_in_url_and_legacy_prefix(aurid):
    # user:pass@host, as the Yealink guides document it (curl sends Basic).
    status, _, body = aurid.curl("/servlet?key=OK", user=None, userinfo="admin:" + ADMIN_PASSWORD)
    assert status == 200, body
    legacy = "/servlet?p=login&q=login&username=admin&pwd=%s&jumpto=status&key=OK" % ADMIN_PASSWORD
    status, _, body = aurid.curl(legacy, user=None)
    assert status == 200, body
    bad = "/servlet?p=login&q=login&username=admin&pwd=nope&jumpto=status&key=OK"
    assert aurid.curl(bad, user=None)[0] == 401
    assert len(aurid.presses()) == 2
    rows = aurid.audit()
    assert [r["reason"] for r in rows] == ["ok", "ok", "auth"]
    # The audit keeps the request as received, but never a password.
    assert ADMIN_PASSWORD not in rows[1]["request"] and "pwd=***" in rows[1]["request"]
    assert "nope" not in rows[2]["request"]


def test_grammar_error_presses_nothing(aurid):
    status, hdrs, body = aurid.curl("/servlet?key=OK;NOSUCHKEY")
    assert status == 400
    assert "NOSUCHKEY" in body
    assert aurid.presses() == []
    row = aurid.audit()[-1]
    assert row["reason"] == "bad-request" and row["status"] == 400
    assert str(row["seq"]) == hdrs["x-request-id"]


def test_oversized_requests_are_refused_and_audited(aurid):
    status, _, _ = aurid.curl("/servlet?key=" + "1" * 5000)
    assert status == 414
    status, _, _ = aurid.curl("/servlet?key=OK", headers=["X-Filler: " + "a" * 9000])
    assert status == 431
    status, _, _ = aurid.curl("/servlet?key=" + ";".join(["OK"] * 65))
    assert status == 400    # too many items: a grammar limit, not a size one
    assert aurid.presses() == []
    rows = aurid.audit()
    assert len(rows) == 3
    assert all(r["reason"] == "bad-request" for r in rows)
    assert [r["status"] for r in rows] == [414, 431, 400]


def test_unknown_path_and_method(aurid):
    assert aurid.curl("/nothing?key=OK")[0] == 404
    status, hdrs, _ = aurid.curl("/servlet?key=OK", method="POST")
    assert status == 405 and "GET" in hdrs["allow"]
    assert aurid.presses() == []


def test_json_answer(aurid):
    import json
    status, hdrs, body = aurid.curl("/servlet?key=OK;number=123", headers=["Accept: application/json"])
    assert status == 200
    assert hdrs["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["items"] == [{"item": "OK", "outcome": "ok"}, {"item": "number=123", "outcome": "unsupported"}]
    assert str(doc["request_id"]) == hdrs["x-request-id"]


def test_call_and_read_items_are_unsupported_without_telephony(aurid):
    status, _, body = aurid.curl("/servlet?key=number=1234&outgoing_uri=1006@10.2.1.48")
    assert status == 200
    assert body == "unsupported number=1234\n"
    status, _, body = aurid.curl("/servlet?key=ANSWER;HOLD:12")
    assert body.splitlines() == ["unsupported ANSWER", "unsupported HOLD:12"]
    assert aurid.presses() == []
    # The audit row says why.
    assert aurid.audit()[-1]["items"][0] == {"item": "ANSWER", "outcome": "unsupported",
                                             "detail": "no call engine (aurid.telephony = none)"}


def test_capability_off(make_aurid):
    a = make_aurid({"aurid.allow.keys": "0"})
    status, _, body = a.curl("/servlet?key=OK")
    assert status == 403 and "capability" in body
    status, _, body = a.curl("/servlet?key=Reboot")
    assert status == 403   # system is off by default
    assert a.presses() == []
    assert [r["reason"] for r in a.audit()] == ["capability", "capability"]


def test_master_switch(make_aurid):
    a = make_aurid({"features.action_uri.enable": "0"})
    status, _, body = a.curl("/servlet?key=OK")
    assert status == 403 and "disabled" in body
    assert a.audit()[-1]["reason"] == "disabled"
    assert a.presses() == []


def test_cross_site_subresource_refused_navigation_allowed(aurid):
    cross = ["Sec-Fetch-Site: cross-site"]
    # An <img>, then a page's <iframe> (a navigation, but not a top-level one).
    status, _, body = aurid.curl("/servlet?key=OK", headers=cross + ["Sec-Fetch-Mode: no-cors",
                                                                     "Sec-Fetch-Dest: image"])
    assert status == 403 and "top-level navigation" in body, body
    status, _, _ = aurid.curl("/servlet?key=OK", headers=cross + ["Sec-Fetch-Mode: navigate",
                                                                  "Sec-Fetch-Dest: iframe"])
    assert status == 403
    assert aurid.presses() == []
    # A link the user follows.
    status, _, _ = aurid.curl("/servlet?key=OK", headers=cross + ["Sec-Fetch-Mode: navigate",
                                                                  "Sec-Fetch-Dest: document"])
    assert status == 200
    assert len(aurid.presses()) == 1
    assert [r["reason"] for r in aurid.audit()] == ["cross-site", "cross-site", "ok"]


def test_rate_limit(make_aurid):
    a = make_aurid({"aurid.rate.per_second": "1", "aurid.rate.burst": "2"})
    codes = [a.curl("/servlet?key=OK")[0] for _ in range(3)]
    assert codes[:2] == [200, 200]
    assert codes[2] == 429
    status, hdrs, _ = a.curl("/servlet?key=OK")
    if status == 429:
        assert int(hdrs["retry-after"]) >= 1
    assert a.audit()[2]["reason"] == "rate"
    assert len(a.presses()) == sum(1 for c in codes if c == 200) + (1 if status == 200 else 0)


def test_lockout_not_extended_by_polling(make_aurid):
    a = make_aurid({"aurid.lockout.failures": "3", "aurid.lockout.seconds": "2"})
    for _ in range(3):
        assert a.curl("/servlet?key=OK", password="bad")[0] == 401
    status, hdrs, body = a.curl("/servlet?key=OK")
    assert status == 401 and "locked" in body and int(hdrs["retry-after"]) >= 1
    # Polling with bad credentials during the lock must not extend it.
    for _ in range(5):
        a.curl("/servlet?key=OK", password="bad")
    assert wait_for(lambda: a.curl("/servlet?key=OK")[0] == 200, timeout=4, step=0.3)
    assert len(a.presses()) == 1

