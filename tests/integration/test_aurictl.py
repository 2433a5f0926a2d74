"""aurictl against the running executor: the DESIGN.md section 9 verbs."""

import json
import os
import subprocess

from harness import BUILD


def test_status(aurid):
    r = aurid.aurictl("status", "--json")
    doc = json.loads(r.stdout.splitlines()[0])
    assert doc["hal"] == "sim" and doc["http_connected"] is True
    r = aurid.aurictl("status")
    assert "hal" in r.stdout


def test_trust_add_list_remove(aurid):
    assert aurid.curl("/servlet?key=OK", source="127.0.0.2")[0] == 403
    aurid.aurictl("trust", "add", "127.0.0.2")
    rows = [json.loads(x) for x in aurid.aurictl("trust", "list", "--json").stdout.splitlines()]
    assert {"127.0.0.1", "127.0.0.2"} <= {r["pattern"] for r in rows}
    assert {r["origin"] for r in rows if r["pattern"] == "127.0.0.2"} == {"admin"}
    assert aurid.curl("/servlet?key=OK", source="127.0.0.2")[0] == 200
    aurid.aurictl("trust", "remove", "127.0.0.2")
    assert aurid.curl("/servlet?key=OK", source="127.0.0.2")[0] == 403
    # Bad input: clear error, exit 1, nothing changed.
    r = aurid.aurictl("trust", "add", "300.1.1.1", check=False)
    assert r.returncode == 1 and r.stderr.strip()
    r = aurid.aurictl("trust", "remove", "127.0.0.1", check=False)
    assert r.returncode == 1   # provisioned by the config
    after = [json.loads(x)["pattern"] for x in aurid.aurictl("trust", "list", "--json").stdout.splitlines()]
    assert after == ["127.0.0.1"]
    reasons = [(r["transport"], r["request"], r["status"]) for r in aurid.audit() if r["transport"] == "admin"]
    assert ("admin", "trust add 127.0.0.2", 200) in reasons
    assert ("admin", "trust add 300.1.1.1", 400) in reasons


def test_user_add_and_passwd(aurid):
    r = aurid.aurictl("user", "add", "crm", "--role", "user", input="crm-secret-1\n")
    assert r.returncode == 0
    assert aurid.curl("/servlet?key=OK", user="crm", password="crm-secret-1")[0] == 200
    aurid.aurictl("user", "passwd", "crm", input="crm-secret-2\n")
    assert aurid.curl("/servlet?key=OK", user="crm", password="crm-secret-1")[0] == 401
    assert aurid.curl("/servlet?key=OK", user="crm", password="crm-secret-2")[0] == 200
    r = aurid.aurictl("user", "add", "crm", input="whatever-123\n", check=False)
    assert r.returncode == 1
    r = aurid.aurictl("user", "passwd", "ghost", input="whatever-123\n", check=False)
    assert r.returncode == 1
    r = aurid.aurictl("user", "add", "bad name!", input="whatever-123\n", check=False)
    assert r.returncode == 1
    for row in aurid.audit():
        assert "crm-secret" not in json.dumps(row)


def test_audit_filters(aurid):
    aurid.curl("/servlet?key=OK")
    aurid.curl("/servlet?key=OK", source="127.0.0.2")
    aurid.curl("/servlet?key=BAD")
    assert [r["reason"] for r in aurid.audit("--source", "127.0.0.2")] == ["not-allowed"]
    assert [r["reason"] for r in aurid.audit("--outcome", "bad-request")] == ["bad-request"]
    rows = aurid.audit("--limit", "2")
    assert [r["reason"] for r in rows] == ["not-allowed", "bad-request"]
    assert rows[0]["seq"] < rows[1]["seq"]
    assert aurid.audit("--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z") == []
    human = aurid.aurictl("audit").stdout
    assert "not-allowed" in human and "127.0.0.2" in human
    for r in rows:
        assert set(r) >= {"seq", "time", "transport", "source", "user", "request", "items", "status",
                          "reason", "latency_us"}


def test_usage_and_connection_errors(aurid, tmp_path):
    ctl = os.path.join(BUILD, "aurictl")
    assert subprocess.run([ctl, "-s", aurid.admin_sock, "frobnicate"], capture_output=True).returncode == 2
    assert subprocess.run([ctl, "-s", aurid.admin_sock], capture_output=True).returncode == 2
    r = subprocess.run([ctl, "-s", str(tmp_path / "nope.sock"), "status"], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip()


def test_config_check(tmp_path):
    aurid = os.path.join(BUILD, "aurid")
    good = tmp_path / "good.cfg"
    good.write_text("#!version:1.0.0.1\nfeatures.action_uri_limit_ip = 10.0.0.1\nsome.other.key = x\n")
    assert subprocess.run([aurid, "-n", "-c", str(good)], capture_output=True).returncode == 0
    bad = tmp_path / "bad.cfg"
    bad.write_text("# ok\naurid.hal = sim\naurid.consent.timeout = soon\n")
    r = subprocess.run([aurid, "-n", "-c", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and ":3:" in (r.stderr + r.stdout)
    r = subprocess.run([aurid, "-n", "-c", str(tmp_path / "missing.cfg")], capture_output=True, text=True)
    assert r.returncode == 1
