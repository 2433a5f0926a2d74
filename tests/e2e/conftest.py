"""The e2e tests use the integration harness and its fixtures (make_aurid, aurid)."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("aurid_integration_conftest", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)   # also puts tests/integration on sys.path (harness)

make_aurid = _mod.make_aurid
aurid = _mod.aurid
