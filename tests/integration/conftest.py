import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import Aurid  # noqa: E402


@pytest.fixture
def make_aurid():
    """Factory: make_aurid({config overrides}) -> a started Aurid, stopped after the test."""
    started = []

    def make(extra=None, start=True):
        a = Aurid(extra, start=start)
        started.append(a)
        return a

    yield make
    for a in started:
        rc = a.stop()
        log = a.read_log()
        a.cleanup()
        # aurid must stop cleanly on SIGTERM and no child may have crashed.
        assert rc in (0, None), "aurid exited %s:\n%s" % (rc, log)
        assert "AddressSanitizer" not in log and "runtime error" not in log, log
        # Nor been killed by its sandbox, unless the test asked for it.
        assert getattr(a, "allow_sigsys", False) or "(Bad system call)" not in log, log


@pytest.fixture
def aurid(make_aurid):
    return make_aurid()
