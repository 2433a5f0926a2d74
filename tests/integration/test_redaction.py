"""No password is echoed: the legacy pwd= value however its name is spelled,
and the password of a URI's userinfo (an absolute-form target
"http://user:pass@phone/...", a dial target "sip:1006:pass@pbx"), are
masked in the audit rows and in aurid's log, while the request still
works as asked."""

from harness import ADMIN_PASSWORD, raw_exchange

SECRET = "Zq9secretXy"


def raw_get(a, target, auth=None):
    head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % target
    if auth:
        head += "Authorization: Basic %s\r\n" % auth
    data = raw_exchange(a.port, (head + "\r\n").encode())
    return int(data.split(b" ", 2)[1]), data.decode(errors="replace")


def assert_nowhere(a, secret):
    rows = a.audit()
    for r in rows:
        assert secret not in r["request"], r
        assert all(secret not in i["item"] for i in r.get("items") or []), r
    assert secret not in a.read_log()
    return rows


def test_legacy_password_however_its_name_is_spelled(make_aurid):
    a = make_aurid({"aurid.admin.password": SECRET})
    for name in ("pwd", "%70wd", "%20pWd", "PWD%09"):
        status, _, body = a.curl("/servlet?p=login&q=login&username=admin&%s=%s&jumpto=status&key=OK"
                                 % (name, SECRET), user=None)
        assert status == 200, (name, body)
    wrong = a.curl("/servlet?p=login&q=login&username=admin&%%70wd=%s-no&jumpto=status&key=OK" % SECRET,
                   user=None)
    assert wrong[0] == 401
    rows = assert_nowhere(a, SECRET)
    assert [r["reason"] for r in rows] == ["ok"] * 4 + ["auth"]
    assert all("pwd=***" in r["request"] for r in rows), rows
    assert len(a.presses()) == 4


def test_absolute_form_target_with_userinfo(aurid):
    # aurid serves origin-form targets only: an absolute-form one is no page
    # of the phone (404), and its userinfo is echoed nowhere.  (The audit's
    # masking of such a target is unit-tested in test_action_grammar.)
    import base64
    auth = base64.b64encode(("admin:" + ADMIN_PASSWORD).encode()).decode()
    target = "http://admin:%s@127.0.0.1:%d/servlet?key=OK" % (SECRET, aurid.port)
    status, reply = raw_get(aurid, target, auth)
    assert status == 404, reply
    assert SECRET not in reply
    assert_nowhere(aurid, SECRET)
    assert aurid.presses() == []


def test_dial_target_with_a_password(aurid):
    status, _, body = aurid.curl("/servlet?key=number=sip:1006:%s@pbx.example" % SECRET)
    assert SECRET not in body
    rows = assert_nowhere(aurid, SECRET)
    row = rows[-1]
    assert "sip:1006:***@pbx.example" in row["request"], row
    assert [i["item"] for i in row["items"]] == ["number=sip:1006:***@pbx.example"], row
    assert status == row["status"]
