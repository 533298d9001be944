"""LeakyReLU(z) = z for z ≥ 0, 0.01 z below (Maas et al. 2013; cs231n): ReLU that lets a little gradient through."""

import numpy as np
import sympy as sp

from ..activation import Inplace, NetFunctionBase, activation

SLOPE_INTO = ("np.greater_equal({q}, 0, out={s})", "{s} *= 0.99", "{s} += 0.01")  # 1 where z ≥ 0, else 0.01


@activation(
    name="leaky_relu", text="LeakyReLU", latex=r"\operatorname{LeakyReLU}", words=("LeakyRelu", "leaky"),
    definition=lambda z: sp.Piecewise((z, z >= 0), (z / 100, True)), kinks=True,
    why="LeakyReLU'(z) = 1 for z ≥ 0, 0.01 for z < 0",
    numeric=lambda z: z if z >= 0 else 0.01 * z, mpmath=lambda z: z if z >= 0 else z / 100,
    array=lambda z: np.where(z >= 0, z, 0.01 * z), numpy="np.maximum({0}, 0.01 * {0})",
    prime_numpy="np.where({0} >= 0, 1.0, 0.01)", init=("he", "He: it feeds LeakyReLU"),
    inplace=Inplace(
        forward=("{a} = np.maximum({z}, 0.01 * {z}, out={out})",),
        grad_clobber=tuple(line.replace("{s}", "{q}") for line in SLOPE_INTO),
        grad_scratch=SLOPE_INTO,
    ),
    prose="the leaky rectifier: z for z ≥ 0 and 0.01 z below, so a unit below 0 still passes gradient",
)  # fmt: skip
class LeakyReLU(NetFunctionBase):
    nargs = 1
