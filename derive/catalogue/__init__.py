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
import os
import warnings

from ..errors import ChainruleError
from ..ir.network import VecNetwork
from ..names import did_you_mean
from ..spec import load_file
from ..unit.chain import UnreachableParameterWarning
from ..unit.network import Network

NAMES = (
    "computation_graph",
    "single_unit",
    "logistic_regression",
    "newton_logistic",
    "two_layer_sigmoid",
    "two_layer_relu",
    "xor",
    "softmax_layer",
    "two_layer_softmax",
    "sentiment_features",
    "sentiment_features_2layer",
    "embedding_classifier",
    "ffnn_lm",
    "word2vec_softmax",
    "word2vec_negative",
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
    "conv_net",
    "elman_rnn",
    "lstm_cell",
    "gru",
    "gru_d2l",
    "rnn_lm",
    "transformer_block",
)


def names() -> list[str]:
    """Catalogue names, in lecture order."""
    return list(NAMES)


def load(name: str, **options) -> Network | VecNetwork:
    """A catalogue network by name (``options``: its ``build``'s, e.g. the GRU's ``inputs="words"``); inside
    ``shared()``, the one network every caller gets (of those built without options)."""
    if name not in NAMES:
        hint = did_you_mean(name, NAMES)
        if hint:
            raise ChainruleError(f"unknown network '{name}'{hint}; `chainrule list` shows the catalogue")
        raise ChainruleError(f"unknown network '{name}' (catalogue: {', '.join(NAMES)}; or give a path to a .py file)")
    if _shared is not None and not options:
        if name not in _shared:
            _shared[name] = _derived_once(_build(name))
        return _shared[name]
    return _build(name, **options)


def _build(name: str, **options) -> Network | VecNetwork:
    return importlib.import_module(f"{__name__}.{name}").build(**options)


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


def load_spec(spec: str | os.PathLike) -> Network | VecNetwork:
    """A catalogue name, or a path to a Python file that defines ``network`` (or ``build()``).

    A catalogue network is built here; a spec file runs in a process of its own, with a time limit,
    no standard input and its output captured (``derive.spec``): a spec that raises, exits, prints,
    reads input or never ends is bad input, reported in one line with the place."""
    spec = os.fspath(spec)
    if spec in NAMES:
        return load(spec)
    if not (spec.endswith(".py") or os.sep in spec or "/" in spec):
        return load(spec)
    if not os.path.isfile(spec):
        raise ChainruleError(f"no such spec file '{spec}'")
    return load_file(spec)
