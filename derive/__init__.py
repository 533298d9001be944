"""chainrule's symbolic model: declare a network, derive every gradient by the chain rule."""

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
from .ir.vocabulary import (
    concat,
    embed,
    frobenius_sq,
    hadamard,
    l1_norm,
    mean_columns,
    mean_rows,
    pool_max,
    pool_mean,
    power,
    sum_columns,
    sum_rows,
    transpose,
)
from .layers import identity, mlp
from .unit.chain import Derivation, Evaluation, UnreachableParameterWarning
from .unit.network import Network
from .vectorised import Equation, VecDerivation, VecNetwork

__all__ = [
    "RULES",
    "ChainruleError",
    "DeclarationError",
    "Derivation",
    "Equation",
    "Evaluation",
    "Network",
    "UnreachableParameterWarning",
    "VecDerivation",
    "VecNetwork",
    "binary_cross_entropy",
    "concat",
    "cross_entropy",
    "embed",
    "frobenius_sq",
    "hadamard",
    "identity",
    "l1_norm",
    "mean_columns",
    "mean_rows",
    "mlp",
    "mse",
    "pool_max",
    "pool_mean",
    "power",
    "relu",
    "sigmoid",
    "softmax",
    "squared_error",
    "step",
    "sum_columns",
    "sum_rows",
    "tanh",
    "transpose",
]
