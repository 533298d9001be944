"""softmax_k(z) = e^(z_k)/Σ_j e^(z_j), of a column of scores (J&M ch. 5 and 7; cs231n).

Unit by unit it is one component ``Softmax(k, z1, …, zK)``, ∂s_k/∂z_j = s_k(δ_kj − s_j);
on a matrix it acts on each column, whose Jacobian diag(a) − a aᵀ pulls G back to
A ⊙ (G − Σ_rows(A ⊙ G)).
"""

import math

import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..activation import Inplace, NetFunctionBase, activation

SOFTMAX = '''
def softmax(z):
    """softmax over the rows of z (each column separately), after subtracting the column maximum."""
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)
'''


def _partial(f, i):
    """∂sₖ/∂zⱼ = sₖ(δₖⱼ − sⱼ); argument 0 is the component index."""
    if i == 0:
        return sp.S.Zero
    k, zs = f.args[0], f.args[1:]
    return f * ((1 if int(k) == i else 0) - Softmax(sp.Integer(i), *zs))


def _float(k, *zs):
    top = max(zs)
    exps = [math.exp(z - top) for z in zs]
    return exps[int(k) - 1] / math.fsum(exps)


def _mpmath(k, *zs):
    top = max(zs)
    exps = [mpmath.exp(z - top) for z in zs]
    return exps[int(k) - 1] / mpmath.fsum(exps)


def _array(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@activation(
    name="softmax", text="softmax", latex=r"\operatorname{softmax}",
    definition=lambda k, *zs: sp.exp(zs[int(k) - 1]) / sp.Add(*map(sp.exp, zs)),
    code=lambda k, *zs: 1 / sp.Add(*(sp.exp(z - zs[int(k) - 1]) for z in zs)),
    partial_rule=_partial, why="∂softmaxₖ/∂zⱼ = softmaxₖ (δₖⱼ − softmaxⱼ)",
    column_vjp=lambda G, A, Z: sp.HadamardProduct(A, G - OneMatrix(A.shape[0], A.shape[0]) * sp.HadamardProduct(A, G)),
    matrix_why="softmax Jacobian per column is diag(a) − a aᵀ: G pulls back to A ⊙ (G − Σ_rows(A ⊙ G))",
    matrix_why_latex=r"the softmax Jacobian of a column is $\operatorname{diag}(a) - a a^{\top}$",
    numeric=_float, mpmath=_mpmath, array=_array,
    numpy="softmax(np.stack([{rest}]))[{k0}]", numpy_matrix="softmax({0})", helpers={"softmax": SOFTMAX},
    latex_form=r"{name}_{{{0}}}{power}{{\left({rest} \right)}}", probability="distribution", min_rows=2, form="component",
    inplace=Inplace(  # shifted by the column maximum: no overflow
        forward=("{a} = np.subtract({z}, {z}.max(axis=0), out={out})", "np.exp({a}, out={a})", "{a} /= {a}.sum(axis=0)"),
    ),
    prose="softmax, which turns a column of K scores into a probability distribution over the K classes",
)  # fmt: skip
class Softmax(NetFunctionBase):
    """Component ``k`` (1-based, first argument) of softmax over the rest."""

    @classmethod
    def eval(cls, k, *zs):
        if not zs and not k.is_commutative:
            return  # softmax(Z) of a layer declaration: each column of the matrix quantity Z
        if not (k.is_Integer and 1 <= int(k) <= len(zs)):
            raise ValueError(f"softmax component {k} is out of range 1..{len(zs)}")
