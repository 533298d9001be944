"""The lecture networks, built in, by name.

Each module here declares one network with the public API and has a
``build()`` returning it.  ``load_spec`` also reads a user's Python file that
defines ``network``.
"""

from __future__ import annotations

import importlib
import os
import runpy
import traceback

from ..errors import ChainruleError
from ..network import Network
from ..vectorised import VecNetwork

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
)


def names() -> list[str]:
    """Catalogue names, in lecture order."""
    return list(NAMES)


def load(name: str) -> Network | VecNetwork:
    """A catalogue network by name."""
    if name not in NAMES:
        raise ChainruleError(f"unknown network '{name}' (catalogue: {', '.join(NAMES)}; or give a path to a .py file)")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.build()


def describe(name: str) -> str:
    """The first line of a catalogue network's docstring."""
    module = importlib.import_module(f"{__name__}.{name}")
    return (module.__doc__ or "").strip().splitlines()[0]


def load_spec(spec: str) -> Network | VecNetwork:
    """A catalogue name, or a path to a Python file that defines ``network``."""
    if spec in NAMES:
        return load(spec)
    if not (spec.endswith(".py") or os.sep in spec or "/" in spec):
        return load(spec)
    if not os.path.isfile(spec):
        raise ChainruleError(f"no such spec file '{spec}'")
    try:
        namespace = runpy.run_path(spec, run_name="__chainrule_spec__")
    except ChainruleError:
        raise
    except SyntaxError as exc:
        raise ChainruleError(f"syntax error in the spec: {exc.msg}", f"{spec}:{exc.lineno}") from None
    except Exception as exc:  # noqa: BLE001 (the spec is user code: report where it failed, in one line)
        line = _spec_line(exc, spec)
        raise ChainruleError(
            f"the spec raised {type(exc).__name__}: {exc}", f"{spec}:{line}" if line else spec
        ) from None
    network = namespace.get("network")
    if network is None and callable(namespace.get("build")):
        network = namespace["build"]()
    if not isinstance(network, (Network, VecNetwork)):
        raise ChainruleError("the spec defines no 'network' (a derive.Network or derive.VecNetwork)", spec)
    return network


def _spec_line(exc: BaseException, spec: str) -> int | None:
    target = os.path.abspath(spec)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return line
