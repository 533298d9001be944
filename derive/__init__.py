"""chainrule's symbolic model: declare a network, derive every gradient by the chain rule."""

from .errors import ChainruleError, DeclarationError
from .functions import PUBLIC, RULES
from .ir.layers import mlp
from .ir.network import Equation, VecDerivation, VecNetwork
from .ir.ufuncs import array_ufunc as _array_ufunc  # noqa: F401  (installs np.tanh(Z) etc. on declarations)
from .ir.vocabulary import (
    avg_pool,
    causal_mask,
    concat,
    conv2d,
    dots,
    embed,
    frobenius_sq,
    hadamard,
    l1_norm,
    max_pool,
    mean_columns,
    mean_rows,
    pool_max,
    pool_mean,
    power,
    rowsum,
    softmax_rows,
    sum_columns,
    sum_rows,
    transpose,
)
from .training import with_training
from .unit.chain import Derivation, Evaluation, UnreachableParameterWarning
from .unit.network import Network

# every activation (sigmoid, tanh, relu, softplus, gelu, …), softmax and the losses, by their records' names
globals().update(PUBLIC)

__all__ = [  # noqa: PLE0604  (every activation by its record's name: a new activation is one file)
    *sorted(PUBLIC),
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
    "avg_pool",
    "causal_mask",
    "concat",
    "conv2d",
    "dots",
    "embed",
    "frobenius_sq",
    "hadamard",
    "l1_norm",
    "max_pool",
    "mean_columns",
    "mean_rows",
    "mlp",
    "pool_max",
    "pool_mean",
    "power",
    "rowsum",
    "softmax_rows",
    "sum_columns",
    "sum_rows",
    "transpose",
    "with_training",
]
