import os
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# CI draws the same examples on every run (a failure there reproduces here with CI=true); a local run
# explores new ones and keeps what failed in .hypothesis/
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(items):
    """The JAX backend's tests run last: once JAX has started its threads, a fork (a spec file runs in a forked
    process, derive.spec) may deadlock, and JAX warns of every one."""
    items.sort(key=lambda item: item.path.name == "test_jax_backend.py")
