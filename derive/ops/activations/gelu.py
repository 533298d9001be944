"""GELU(z) ≈ ½ z (1 + tanh(√(2/π)(z + 0.044715 z³))), the tanh form of Hendrycks and Gimpel (2016), as in BERT/GPT-2."""

import math

import mpmath
import numpy as np
import sympy as sp

from ..activation import NetFunctionBase, activation

C, K = math.sqrt(2 / math.pi), 0.044715
GELU = '''
def gelu(z):
    """GELU(z) = ½ z (1 + tanh(√(2/π)(z + 0.044715 z³))): tanh saturates, nothing overflows."""
    return 0.5 * z * (1 + np.tanh(0.7978845608028654 * (z + 0.044715 * z**3)))
'''
GELU_GRAD = '''
def gelu_grad(z):
    """GELU'(z) = ½(1 + tanh u) + ½ z (1 − tanh² u) √(2/π)(1 + 3·0.044715 z²), u = √(2/π)(z + 0.044715 z³)."""
    t = np.tanh(0.7978845608028654 * (z + 0.044715 * z**3))
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * z**2)
'''
GELU_GRAD2 = '''
def gelu_grad2(z):
    """GELU''(z) = (1 − tanh² u)(u' − z tanh(u) u'² + 3·√(2/π)·0.044715 z²), u' = √(2/π)(1 + 3·0.044715 z²)."""
    t = np.tanh(0.7978845608028654 * (z + 0.044715 * z**3))
    du = 0.7978845608028654 * (1 + 3 * 0.044715 * z**2)
    return (1 - t * t) * (du - z * t * du * du + 3 * 0.7978845608028654 * 0.044715 * z**2)
'''


@activation(
    name="gelu", text="GELU", latex=r"\operatorname{GELU}", words=("Gelu",),
    definition=lambda z: z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (z + sp.Rational(44715, 10**6) * z**3))),
    why="GELU'(z) = ½(1 + tanh u) + ½ z (1 − tanh² u) √(2/π)(1 + 3·0.044715 z²), u = √(2/π)(z + 0.044715 z³)",
    numeric=lambda z: 0.5 * z * (1 + math.tanh(C * (z + K * z**3))),
    mpmath=lambda z: z / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (z + mpmath.mpf("0.044715") * z**3))),
    array=lambda z: 0.5 * z * (1 + np.tanh(C * (z + K * z**3))), numpy="gelu({0})", helpers={"gelu": GELU},
    prime_numpy="gelu_grad({0})", prime_helpers={"gelu_grad": GELU_GRAD},
    second_numpy="gelu_grad2({0})", second_helpers={"gelu_grad2": GELU_GRAD2}, init=("he", "He: it feeds GELU"),
    prose="the Gaussian error linear unit in its tanh form, a smooth ReLU used by transformers",
)  # fmt: skip
class GELU(NetFunctionBase):
    nargs = 1
