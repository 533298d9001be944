"""The shape trials: a vectorised claim evaluated at random shapes and values, against the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .vec_evaluate import ShapeError, evaluate
from .vec_target import VecTarget
from .verdict import Counterexample

TRIALS = 6
TOLERANCE = 1e-9


@dataclass
class Trial:
    shape: dict  # dimension name -> size
    seed: int
    claimed: object
    true: np.ndarray
    problem: str | None  # a shape error, or None
    note: str = ""  # how the claim was read (a rank-1 gradient of a column parameter)

    @property
    def agrees(self) -> bool:
        return self.problem is None and same(self.claimed, self.true)

    def counterexample(self) -> Counterexample:
        point = {**{str(k): v for k, v in self.shape.items()}, "seed": self.seed}
        if self.problem:
            return Counterexample(point, f"error ({self.problem})", f"shape {self.true.shape}")
        claimed = np.asarray(self.claimed, dtype=float)
        if claimed.shape != self.true.shape:
            return Counterexample(point, f"shape {claimed.shape}", f"shape {self.true.shape}")
        idx = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(claimed - self.true)), self.true.shape))
        return Counterexample(point, float(claimed[idx]), float(self.true[idx]), f"entry {list(idx)}")


def same(claimed, true: np.ndarray) -> bool:
    claimed = np.asarray(claimed, dtype=float)
    if claimed.shape != true.shape:
        return False
    return bool(np.all(np.isfinite(claimed))) and bool(np.allclose(claimed, true, rtol=TOLERANCE, atol=1e-12))


def run_trials(net: VecTarget, name: str, tree, trials: int = TRIALS) -> list[Trial]:
    out = []
    for seed in range(trials):
        env, dims = net.at(seed)
        shape = {str(k): v for k, v in sorted(dims.items(), key=lambda kv: str(kv[0]))}
        with np.errstate(all="ignore"):
            try:
                claimed, problem = evaluate(net, tree, env), None
            except ShapeError as exc:
                claimed, problem = None, str(exc)
        if name in net.scalars and problem is None and np.ndim(claimed) == 0:
            claimed = np.full((1, 1), claimed, dtype=float)  # the cost J is a number
        note = ""
        if problem is None and rank_one(net, name, claimed, env[name]):
            claimed, note = np.asarray(claimed)[:, None], rank_one_note(net, name)
        out.append(Trial(shape, seed, claimed, env[name], problem, note))
    return out


def rank_one(net: VecTarget, name: str, claimed, true) -> bool:
    """A gradient of a column parameter (a bias, γ, β: n × 1) claimed as a rank-1 array of n entries,
    as cs231n writes row parameters (shape (D,)): read as the column, with a note."""
    return (
        name.startswith("d")
        and name[1:] in net.params
        and np.ndim(true) == 2
        and true.shape[1] == 1
        and np.ndim(claimed) == 1
        and np.shape(claimed)[0] == true.shape[0]
    )


def rank_one_note(net: VecTarget, name: str) -> str:
    p = name[1:]
    n = net.net.matrices[p].shape[0]
    return (
        f"{name} is a rank-1 array of shape ({n},) here, as cs231n writes row parameters; {p} is an ({n}, 1) "
        f"column, so reshape {name} (or sum with keepdims=True) before {p} − α {name}, or {p} broadcasts to ({n}, {n})"
    )
