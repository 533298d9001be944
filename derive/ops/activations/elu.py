"""ELU(z) = z for z ≥ 0, α(e^z − 1) below, with α = 1 (Clevert, Unterthiner and Hochreiter 2016)."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..activation import NetFunctionBase, activation


@activation(
    name="elu", text="ELU", latex=r"\operatorname{ELU}", words=("Elu",),
    definition=lambda z: sp.Piecewise((z, z >= 0), (sp.exp(z) - 1, True)),
    why="ELU'(z) = 1 for z ≥ 0, e^z (= ELU(z) + 1) for z < 0",
    numeric=lambda z: z if z >= 0 else math.expm1(z), mpmath=lambda z: z if z >= 0 else mpmath.expm1(z),
    array=lambda z: np.where(z >= 0, z, np.expm1(np.minimum(z, 0))),
    numpy="np.where({0} >= 0, {0}, np.expm1(np.minimum({0}, 0)))",
    prime_numpy="np.where({0} >= 0, 1.0, np.exp(np.minimum({0}, 0)))",
    second_numpy="np.where({0} >= 0, 0.0, np.exp(np.minimum({0}, 0)))", prime_kinks=True,
    init=("he", "He: it feeds ELU"),
    prose="the exponential linear unit: z for z ≥ 0 and e^z − 1 below, smooth at 0 (α = 1) and bounded below by −1",
)  # fmt: skip
class ELU(NetFunctionBase):
    nargs = 1
