"""step(z) = 1 for z ≥ 0, else 0: the lecture's ReLU derivative (a helper, not an activation)."""

import mpmath
import sympy as sp

from ..activation import NetFunctionBase, activation


@activation(
    name="step", text="step", latex=r"\mathbf{1}", words=("heaviside",), helper=True,
    definition=lambda z: sp.Heaviside(z, 1), code=lambda z: sp.Piecewise((1, z >= 0), (0, True)),
    derivative=lambda a, z: sp.S.Zero, why="step'(z) = 0 (almost everywhere)",
    numeric=lambda z: 1.0 if z >= 0 else 0.0, mpmath=lambda z: mpmath.mpf(1) if z >= 0 else mpmath.mpf(0),
    array=lambda z: (z >= 0).astype(float), numpy="({0} >= 0)", kinks=True,
    latex_form=r"{name}{power}\left[{0} \geq 0\right]", form="indicator",
)  # fmt: skip
class Step(NetFunctionBase):
    """Unit step with ``step(0) = 1``: the lecture's ReLU derivative."""

    nargs = 1
