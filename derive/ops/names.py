"""Activation and loss names for layer declarations: ``relu`` (the function) or ``"relu"`` (its name)."""

from __future__ import annotations

from .. import functions as F
from ..errors import ChainruleError
from . import ACTIVATIONS, LOSSES


def identity(z):
    """The identity activation, ``g(z) = z`` (a linear output layer)."""
    return z


# public function objects and classes -> canonical names
_ACTIVATION_NAMES = {
    F.sigmoid: "sigmoid", F.Sigmoid: "sigmoid",
    F.tanh: "tanh", F.Tanh: "tanh",
    F.relu: "relu", F.ReLU: "relu",
    F.softmax: "softmax", F.Softmax: "softmax",
    identity: "identity",
}  # fmt: skip
_LOSS_NAMES = {
    F.binary_cross_entropy: "binary_cross_entropy", F.BinaryCrossEntropy: "binary_cross_entropy",
    F.cross_entropy: "cross_entropy", F.CrossEntropy: "cross_entropy",
    F.mse: "mse", F.squared_error: "mse", F.SquaredError: "mse",
}  # fmt: skip
_LOSS_ALIASES = {"bce": "binary_cross_entropy", "ce": "cross_entropy", "squared_error": "mse"}


def _label(value) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


def activation_name(value, allowed=tuple(ACTIVATIONS), role: str = "activation", where: str | None = None) -> str:
    """The canonical name of an activation given as a function or a string; else ChainruleError."""
    name = value.lower() if isinstance(value, str) else _ACTIVATION_NAMES.get(value)
    if name in ACTIVATIONS and name not in allowed:
        raise ChainruleError(f"{name} cannot be the {role} (expected one of: {', '.join(allowed)})", where)
    if name not in allowed:
        raise ChainruleError(f"unknown {role} '{_label(value)}' (expected one of: {', '.join(allowed)})", where)
    return name


def loss_name(value, where: str | None = None) -> str:
    """The canonical name of a loss given as a function or a string; else ChainruleError."""
    if isinstance(value, str):
        name = _LOSS_ALIASES.get(value.lower(), value.lower())
    else:
        name = _LOSS_NAMES.get(value)
    if name not in LOSSES:
        raise ChainruleError(f"unknown loss '{_label(value)}' (expected one of: {', '.join(LOSSES)})", where)
    return name
