"""The lecture networks, built in, by name.

Each module here declares one network with the public API and has a
``build()`` returning it.  ``load_spec`` also reads a user's Python file that
defines ``network``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import os
import runpy
import signal
import sys
import threading
import time
import traceback
import warnings

from ..errors import ChainruleError
from ..ir.network import VecNetwork
from ..unit.chain import UnreachableParameterWarning
from ..unit.network import Network
from ..verify.equivalence import TimedOut, time_limit

NAMES = (
    "computation_graph",
    "single_unit",
    "logistic_regression",
    "two_layer_sigmoid",
    "two_layer_relu",
    "xor",
    "softmax_layer",
    "two_layer_softmax",
    "sentiment_features",
    "sentiment_features_2layer",
    "embedding_classifier",
    "ffnn_lm",
    "one_hidden_layer",
    "residual_mlp",
    "l2_mlp",
    "tied_autoencoder",
    "l1_mlp",
    "dropout_mlp",
    "batchnorm_mlp",
    "layernorm_mlp",
    "deep_sigmoid",
    "deep_relu",
    "label_smoothing",
    "self_attention",
    "elman_rnn",
    "lstm_cell",
    "rnn_lm",
    "transformer_block",
)


def names() -> list[str]:
    """Catalogue names, in lecture order."""
    return list(NAMES)


def load(name: str) -> Network | VecNetwork:
    """A catalogue network by name (inside ``shared()``, the one network every caller gets)."""
    if name not in NAMES:
        raise ChainruleError(f"unknown network '{name}' (catalogue: {', '.join(NAMES)}; or give a path to a .py file)")
    if _shared is not None:
        if name not in _shared:
            _shared[name] = _derived_once(_build(name))
        return _shared[name]
    return _build(name)


def _build(name: str) -> Network | VecNetwork:
    return importlib.import_module(f"{__name__}.{name}").build()


_shared: dict[str, Network | VecNetwork] | None = None  # by name, inside ``shared()``


@contextlib.contextmanager
def shared(on: bool = True):
    """Inside this block ``load(name)`` gives every caller one network per name, and its ``derive()`` is worked
    out once (for each argument) and handed to every caller: for a run that derives the catalogue in several
    places (``chainrule demo``, a test session).  The networks and derivations are read-only then, as every
    caller treats them.  Blocks nest: an inner one shares the outer one's networks; ``shared(False)`` builds
    afresh inside.  Yields the shared networks by name (None when off)."""
    global _shared
    outer = _shared
    _shared = ({} if outer is None else outer) if on else None
    try:
        yield _shared
    finally:
        _shared = outer


def _derived_once(net: Network | VecNetwork) -> Network | VecNetwork:
    """``net`` whose ``derive(...)`` keeps its derivation for each argument; a kept one warns again as it did."""
    derive = net.derive
    signature = inspect.signature(derive)
    kept = {}

    @functools.wraps(derive)
    def derive_once(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = tuple(bound.arguments.items())
        if key not in kept:
            kept[key] = derive(*args, **kwargs)
        else:
            for message in getattr(kept[key], "warnings", ()):
                warnings.warn(message, UnreachableParameterWarning, stacklevel=2)
        return kept[key]

    derive_once.kept = kept  # the derivations made, by argument
    net.derive = derive_once
    return net


def describe(name: str) -> str:
    """The first line of a catalogue network's docstring."""
    module = importlib.import_module(f"{__name__}.{name}")
    return (module.__doc__ or "").strip().splitlines()[0]


SPEC_SECONDS = 30.0  # the time a spec file may take to declare its network
SPEC_SECONDS_VARIABLE = "CHAINRULE_SPEC_SECONDS"  # overrides it (the tests use a short limit)


def spec_seconds() -> float:
    try:
        return float(os.environ.get(SPEC_SECONDS_VARIABLE, SPEC_SECONDS))
    except ValueError:
        return SPEC_SECONDS


def load_spec(spec: str) -> Network | VecNetwork:
    """A catalogue name, or a path to a Python file that defines ``network`` (or ``build()``).

    The file runs with a time limit (``spec_seconds``), no standard input, and its standard output
    and error captured: a spec that raises, calls ``sys.exit``, prints, reads input or never ends is
    bad input, reported in one line with the place."""
    if spec in NAMES:
        return load(spec)
    if not (spec.endswith(".py") or os.sep in spec or "/" in spec):
        return load(spec)
    if not os.path.isfile(spec):
        raise ChainruleError(f"no such spec file '{spec}'")
    seconds = spec_seconds()
    printed = io.StringIO()
    old_stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("")
        with _deadline(seconds, spec), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            namespace = runpy.run_path(spec, run_name="__chainrule_spec__")
            network = namespace.get("network")
            if network is None and callable(namespace.get("build")):
                network = namespace["build"]()
    except ChainruleError:
        raise
    except TimedOut as exc:
        line = _spec_line(exc, spec)
        raise ChainruleError(
            f"the spec did not finish within {seconds:g} s (a loop that never ends?)",
            f"{spec}:{line}" if line else spec,
        ) from None
    except SyntaxError as exc:
        raise ChainruleError(f"syntax error in the spec: {exc.msg}", f"{spec}:{exc.lineno}") from None
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        line = _spec_line(exc, spec)
        raise ChainruleError(
            f"the spec called sys.exit({exc.code!r}); a spec declares a network and returns",
            f"{spec}:{line}" if line else spec,
        ) from None
    except BaseException as exc:  # noqa: BLE001 (the spec is user code: report where it failed, in one line)
        line = _spec_line(exc, spec)
        message = " ".join(str(exc).split())
        raise ChainruleError(
            f"the spec raised {type(exc).__name__}: {message:.300}", f"{spec}:{line}" if line else spec
        ) from None
    finally:
        sys.stdin = old_stdin
    if printed.getvalue().strip():
        first = printed.getvalue().strip().splitlines()[0]
        raise ChainruleError(f"the spec printed {first[:60]!r}; a spec declares a network and prints nothing", spec)
    if not isinstance(network, (Network, VecNetwork)):
        raise ChainruleError("the spec defines no 'network' (a derive.Network or derive.VecNetwork)", spec)
    return network


@contextlib.contextmanager
def _deadline(seconds: float, spec: str):
    """Raise ``TimedOut`` in the spec's own code after ``seconds``: an alarm on the main thread, elsewhere
    a trace function on the spec file's frames (it stops a Python loop in any thread)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with time_limit(seconds):
            yield
        return
    end = time.monotonic() + seconds
    files = {spec, os.path.abspath(spec)}

    def local(frame, event, arg):
        if time.monotonic() > end:
            raise TimedOut()
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    old = sys.gettrace()
    sys.settrace(calls)
    try:
        yield
    finally:
        sys.settrace(old)


def _spec_line(exc: BaseException, spec: str) -> int | None:
    target = os.path.abspath(spec)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return line
