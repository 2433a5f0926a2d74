"""Reboot, AutoP and Reset: refused while their capability is off, run by the
supervisor (as root, from its own config) when on."""

import os

from harness import wait_for


def test_off_by_default(make_aurid, tmp_path):
    marker = tmp_path / "rebooted"
    a = make_aurid({"aurid.system.reboot_cmd": "touch %s" % marker,
                    "aurid.system.reset_cmd": "touch %s" % marker})
    for item in ("Reboot", "AutoP", "Reset"):
        status, _, body = a.curl("/servlet?key=%s" % item)
        assert status == 403 and "capability" in body, (item, body)
    assert [r["reason"] for r in a.audit()] == ["capability"] * 3
    assert not marker.exists()


def test_commands_run_when_on(make_aurid, tmp_path):
    os.chmod(tmp_path, 0o777)
    reboot, autop, reset = (tmp_path / n for n in ("rebooted", "provisioned", "reset"))
    a = make_aurid({"aurid.allow.system": "1", "aurid.allow.reset": "1",
                    "aurid.system.reboot_cmd": "echo $(id -u) > %s" % reboot,
                    "aurid.system.autop_cmd": "touch %s" % autop,
                    "aurid.system.reset_cmd": "touch %s" % reset})
    assert a.curl("/servlet?key=Reboot")[2] == "ok Reboot\n"
    assert wait_for(reboot.exists, timeout=5)
    # Run by the supervisor: as root when aurid runs as root, never as a child's user.
    assert wait_for(lambda: reboot.read_text().strip() != "", timeout=2)
    assert int(reboot.read_text()) == os.geteuid()
    assert a.curl("/servlet?key=AutoP")[2] == "ok AutoP\n"
    assert wait_for(autop.exists, timeout=5)
    assert a.curl("/servlet?key=Reset")[2] == "ok Reset\n"
    assert wait_for(reset.exists, timeout=5)
    assert wait_for(lambda: "system: reset command" in a.read_log() and "exited with status 0" in a.read_log())


def test_no_command_is_unsupported(make_aurid):
    a = make_aurid({"aurid.allow.system": "1"})
    assert a.curl("/servlet?key=Reboot")[2] == "unsupported Reboot\n"


def test_system_on_reset_off(make_aurid, tmp_path):
    marker = tmp_path / "reset"
    a = make_aurid({"aurid.allow.system": "1", "aurid.system.reset_cmd": "touch %s" % marker})
    assert a.curl("/servlet?key=Reset")[0] == 403
    assert not marker.exists()
