"""SiLU(z) = z σ(z), the sigmoid-weighted linear unit or swish (Elfwing et al. 2018; Ramachandran et al. 2017)."""

import mpmath
import numpy as np
import sympy as sp

from ..activation import NetFunctionBase, activation, sigmoid_float

SILU = '''
def silu(z):
    """SiLU(z) = z σ(z), with σ from tanh: no overflow at any z."""
    return z * sigmoid(z)
'''
SILU_GRAD = '''
def silu_grad(z):
    """SiLU'(z) = σ(z)(1 + z(1 − σ(z)))."""
    s = sigmoid(z)
    return s * (1 + z * (1 - s))
'''
SILU_GRAD2 = '''
def silu_grad2(z):
    """SiLU''(z) = σ(z)(1 − σ(z))(2 + z(1 − 2σ(z)))."""
    s = sigmoid(z)
    return s * (1 - s) * (2 + z * (1 - 2 * s))
'''


@activation(
    name="silu", text="SiLU", latex=r"\operatorname{SiLU}", words=("swish", "Swish", "Silu"),
    definition=lambda z: z / (1 + sp.exp(-z)), why="SiLU'(z) = σ(z)(1 + z(1 − σ(z)))",
    numeric=lambda z: z * sigmoid_float(z), mpmath=lambda z: z / (1 + mpmath.exp(-z)),
    array=lambda z: z * np.exp(-np.logaddexp(0.0, -z)), numpy="silu({0})", helpers={"silu": SILU},
    prime_numpy="silu_grad({0})", prime_helpers={"silu_grad": SILU_GRAD},
    second_numpy="silu_grad2({0})", second_helpers={"silu_grad2": SILU_GRAD2}, init=("he", "He: it feeds SiLU"),
    prose="the sigmoid-weighted linear unit z σ(z) (swish), a smooth ReLU that dips below 0",
)  # fmt: skip
class SiLU(NetFunctionBase):
    nargs = 1
