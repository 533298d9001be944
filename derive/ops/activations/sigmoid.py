"""σ(z) = 1/(1 + e^(−z)), the logistic function (J&M ch. 5 and 7; deeplearning.ai course 1)."""

import mpmath
import numpy as np
import sympy as sp

from ..activation import Inplace, NetFunctionBase, activation, sigmoid_float

SIGMOID = '''
def sigmoid(z):
    """σ(z) = 1/(1 + e^(−z)), computed as ½(1 + tanh(z/2)): no overflow at any z."""
    return 0.5 * (1 + np.tanh(0.5 * z))
'''


@activation(
    name="sigmoid", text="σ", latex=r"\sigma", words=("σ", "sigma", "logistic"),
    definition=lambda z: 1 / (1 + sp.exp(-z)), code=lambda z: (1 + sp.tanh(z / 2)) / 2,
    derivative=lambda a, z: a * (1 - a), why="σ'(z) = σ(z)(1 − σ(z))", matrix_why_latex=r"$\sigma'(Z) = A \odot (1 - A)$",
    numeric=sigmoid_float, mpmath=lambda z: 1 / (1 + mpmath.exp(-z)), array=lambda z: np.exp(-np.logaddexp(0.0, -z)),
    numpy="sigmoid({0})", helpers={"sigmoid": SIGMOID}, init=("xavier", "Xavier: it feeds σ"), probability="binary",
    inplace=Inplace(  # σ(z) = ½(1 + tanh(z/2)): in place, and no overflow at any z
        forward=("{a} = np.multiply({z}, 0.5, out={out})", "np.tanh({a}, out={a})", "{a} *= 0.5", "{a} += 0.5"),
        grad_clobber=("{dz} = np.multiply({da}, {q}, out={out})", "np.subtract(1, {q}, out={q})", "{dz} *= {q}"),
        grad_scratch=("np.subtract(1, {q}, out={s})", "{s} *= {q}"),
        clobber_writes_first=True,
    ),
    depth_why=(
        r"For the sigmoid, $\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) \leq \frac{1}{4}$, reached only at $z = 0$:"
        r" with weights of order one (Xavier), each layer divides the gradient by about four or more, and the"
        r" first layers learn far more slowly than the last. That is the vanishing gradient."
    ),
    prose="the logistic function σ(z) = 1/(1 + e^{−z}), which maps a score to a probability",
)  # fmt: skip
class Sigmoid(NetFunctionBase):
    nargs = 1
