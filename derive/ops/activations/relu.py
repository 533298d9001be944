"""ReLU(z) = max(0, z), with ReLU'(0) = 1 as the lecture states (J&M ch. 7; cs231n)."""

import mpmath
import numpy as np
import sympy as sp

from ..activation import Inplace, NetFunctionBase, activation
from .step import Step


@activation(
    name="relu", text="ReLU", latex=r"\operatorname{ReLU}", words=("ReLU", "Relu", "rectifier"),
    definition=lambda z: sp.Max(0, z), code=lambda z: sp.Piecewise((z, z >= 0), (0, True)),
    derivative=lambda a, z: Step(z), why="ReLU'(z) = 1 for z ≥ 0, 0 for z < 0",
    matrix_why="ReLU'(Z) = 1 where Z ≥ 0, else 0", matrix_why_latex=r"$\operatorname{ReLU}'(Z) = \mathbf{1}[Z \geq 0]$",
    numeric=lambda z: max(z, 0.0), mpmath=lambda z: z if z > 0 else mpmath.mpf(0), array=lambda z: np.maximum(z, 0.0),
    numpy="np.maximum({0}, 0)", init=("he", "He: it feeds ReLU"), kinks=True,
    inplace=Inplace(
        forward=("{a} = np.maximum({z}, 0, out={out})",),
        grad_clobber=("np.greater_equal({q}, 0, out={q})",),
        grad_scratch=("np.greater_equal({q}, 0, out={s})",),
    ),
    depth_why=(
        r"For ReLU, $\operatorname{ReLU}'(z) = 1$ on every active unit, so the factors do not shrink the gradient;"
        r" with He initialisation (variance $2/n_{l-1}$) the gradient keeps its size from layer to layer."
    ),
    prose="the rectified linear unit max(0, z); its derivative is 1 for z ≥ 0 (the lecture's convention at 0) and 0 below",
)  # fmt: skip
class ReLU(NetFunctionBase):
    nargs = 1
