"""chainrule's symbolic model: declare a network, derive every gradient by the chain rule."""

from .chain import Derivation, Evaluation, UnreachableParameterWarning
from .errors import ChainruleError, DeclarationError
from .functions import (
    RULES,
    binary_cross_entropy,
    cross_entropy,
    mse,
    relu,
    sigmoid,
    softmax,
    squared_error,
    step,
    tanh,
)
from .network import Network

__all__ = [
    "RULES",
    "ChainruleError",
    "DeclarationError",
    "Derivation",
    "Evaluation",
    "Network",
    "UnreachableParameterWarning",
    "binary_cross_entropy",
    "cross_entropy",
    "mse",
    "relu",
    "sigmoid",
    "softmax",
    "squared_error",
    "step",
    "tanh",
]
