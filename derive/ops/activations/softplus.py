"""softplus(z) = log(1 + e^z), a smooth ReLU whose derivative is σ(z) (Goodfellow et al., Deep Learning §6.3.3)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..activation import Inplace, NetFunctionBase, activation
from .sigmoid import Sigmoid

SIGMOID_INTO = (
    "np.multiply({q}, 0.5, out={s})",
    "np.tanh({s}, out={s})",
    "{s} *= 0.5",
    "{s} += 0.5",
)  # σ = ½(1 + tanh(z/2))


@activation(
    name="softplus", text="softplus", latex=r"\operatorname{softplus}", words=("SoftPlus", "Softplus"),
    definition=lambda z: sp.log(1 + sp.exp(z)), derivative=lambda a, z: Sigmoid(z), why="softplus'(z) = σ(z)",
    numeric=lambda z: max(z, 0.0) + math.log1p(math.exp(-abs(z))), mpmath=lambda z: mpmath.log(1 + mpmath.exp(z)),
    array=lambda z: np.logaddexp(0.0, z), numpy="np.logaddexp(0, {0})", init=("he", "He: it feeds softplus"),
    inplace=Inplace(
        forward=("{a} = np.logaddexp(0, {z}, out={out})",),
        grad_clobber=tuple(line.replace("{s}", "{q}") for line in SIGMOID_INTO),
        grad_scratch=SIGMOID_INTO,
    ),
    prose="softplus, log(1 + e^z): a smooth ReLU whose derivative is the logistic σ(z)",
)  # fmt: skip
class Softplus(NetFunctionBase):
    nargs = 1
