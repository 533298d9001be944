"""The lecture networks, built in, by name.

Each module here declares one network with the public API and has a
``build()`` returning it.  ``load_spec`` also reads a user's Python file that
defines ``network``.
"""

from __future__ import annotations

import importlib
import os

from ..errors import ChainruleError
from ..ir.network import VecNetwork
from ..names import did_you_mean
from ..spec import load_file
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
    """A catalogue network by name (``options``: its ``build``'s, e.g. the GRU's ``inputs="words"``)."""
    if name not in NAMES:
        hint = did_you_mean(name, NAMES)
        if hint:
            raise ChainruleError(f"unknown network '{name}'{hint}; `chainrule list` shows the catalogue")
        raise ChainruleError(f"unknown network '{name}' (catalogue: {', '.join(NAMES)}; or give a path to a .py file)")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.build(**options)


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
