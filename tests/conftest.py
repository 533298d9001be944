import ast
import functools
import os
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from derive import catalogue  # after the repository is on the path

# XLA compiles the JAX modules the tests generate (hundreds of small programs) without its slower optimisation
# passes: the same results, a fifth less compile time (the JAX tests check what the modules compute, not speed)
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

# CI draws the same examples on every run (a failure there reproduces here with CI=true); a local run
# explores new ones and keeps what failed in .hypothesis/
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(items):
    """The JAX backend's tests run last: once JAX has started its threads, a fork (a spec file runs in a forked
    process, derive.spec) may deadlock, and JAX warns of every one."""
    items.sort(key=lambda item: item.path.name == "test_jax_backend.py")


# ------------------------------------------------------------- the whole suite on every core
@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """``pytest`` without arguments (the README's and CI's command) runs on every core: pytest-xdist, one
    worker process per core.  Named files or tests run in this process, unless ``-n`` says otherwise."""
    if getattr(config.option, "numprocesses", 0) is not None:
        return  # no pytest-xdist, or -n given
    if hasattr(config, "workerinput") or "PYTEST_XDIST_WORKER" in os.environ:
        return  # a worker, or a pytest a worker started: never workers of workers
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.collectonly:
        config.option.numprocesses = "auto"
        config.option.dist = "loadscope"
        config.stash[_SCHEDULE] = True
        # one BLAS thread in each worker (and in the commands they start): with one worker per core, a BLAS
        # thread per core in each makes them fight over the cores (training the NLP models took 41 s of CPU
        # time instead of 27 s, in the same wall time).  The workers are started after this, with this environment.
        from codegen.cli.demo_plan import BLAS_THREADS

        for variable in BLAS_THREADS:
            os.environ.setdefault(variable, "1")


_SCHEDULE = pytest.StashKey[bool]()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """The tests of a module that makes a fixture once for all of them (``scope="module"``: the NLP models
    trained, the README's commands run, a browser started) run on one worker, so that it is made once; every
    other test goes to whichever worker is free."""
    if not config.stash.get(_SCHEDULE, False):
        return None  # -n given: pytest-xdist's own --dist
    from xdist.scheduler import LoadScopeScheduling

    class ByTestOrModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if _makes_module_fixture(config.rootpath / path) else nodeid

    return ByTestOrModule(config, log)


@functools.cache
def _makes_module_fixture(path: Path) -> bool:
    """Whether the test file defines a fixture of a wider scope than one test (``@pytest.fixture(scope=...)``)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(
        isinstance(keyword.value, ast.Constant) and keyword.value.value in ("module", "package", "session")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("pytest.fixture", "fixture")
        for keyword in node.keywords
        if keyword.arg == "scope"
    )


# ------------------------------------------------- each catalogue network derived once per session
@pytest.fixture(scope="session", autouse=True)
def shared_catalogue():
    """Each catalogue network is built and derived once per test session (once per worker): ``load(name)``
    gives every test the same network and derivations (``derive.catalogue.shared``).  A test that changes
    either is marked ``unshared`` (it gets its own); the session ends in an error naming a shared network
    that a test changed, or one of its derivations, as the change would leak into the tests after it."""
    with catalogue.shared() as networks:
        yield networks
    changed = sorted(name for name, net in networks.items() if _changed(name, net))
    if changed:
        pytest.fail(
            f"a test changed the shared catalogue network or derivation of {', '.join(changed)}: mark it unshared"
        )


@pytest.fixture(autouse=True)
def _unshared(request):
    if request.node.get_closest_marker("unshared") is None:
        yield
        return
    with catalogue.shared(False):
        yield


def _changed(name: str, net) -> bool:
    """Whether the shared ``net`` or one of its derivations differs from a network built and derived afresh."""
    with catalogue.shared(False):
        fresh = catalogue.load(name)
    if fingerprint(net) != fingerprint(fresh):
        return True
    return any(fingerprint(d) != fingerprint(fresh.derive(**dict(key))) for key, d in net.derive.kept.items())


_PLACE = re.compile(r"(.+\.py):(\d+)")  # a declaration's place (derive.errors.caller_place)


def fingerprint(x, seen=None):
    """The state of ``x`` as nested tuples of plain values and SymPy expressions, for ``==``: the public
    attributes of objects (``_private`` ones are caches, such as a derivation's compiled functions)."""
    seen = {} if seen is None else seen
    if isinstance(x, str) and (place := _PLACE.fullmatch(x)):  # file:line, relative to the folder it was made in
        return f"{os.path.abspath(place[1])}:{place[2]}"
    if isinstance(x, (sp.Basic, str, bytes, int, float, complex, bool, type(None))):
        return x
    if isinstance(x, np.ndarray):
        return ("array", x.shape, x.tobytes())
    if isinstance(x, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)):
        return ("callable", getattr(x, "__qualname__", repr(x)))
    if id(x) in seen:  # shared or circular: where it was first seen
        return ("again", seen[id(x)][0])
    seen[id(x)] = (len(seen), x)  # x kept, so that its id is not another object's while this runs
    if isinstance(x, dict):
        return ("dict", *((fingerprint(k, seen), fingerprint(v, seen)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, *(fingerprint(v, seen) for v in x))
    if isinstance(x, (set, frozenset)):
        return ("set", frozenset(fingerprint(v, seen) for v in x))
    slots = [getattr(c, "__slots__", ()) for c in type(x).__mro__]
    names = list(getattr(x, "__dict__", ())) + [n for s in slots for n in ((s,) if isinstance(s, str) else s)]
    # public attributes; derive: the shared network's own (derive.catalogue), not the class's
    public = [n for n in names if n[0] != "_" and n != "derive" and hasattr(x, n)]
    return (type(x).__name__, *((n, fingerprint(getattr(x, n), seen)) for n in public))
