"""Worked numbers for a matrix program: the value of every equation at a stated small example.

The derivation is symbolic in its sizes, so it holds at any: the example
makes every dimension at most ``SMALL`` (a vocabulary at most ``VOCABULARY``),
takes ``M`` examples (the columns; positions of one text for attention) and,
for a recurrence, ``STEPS`` steps.  Its values are drawn from a seed with one
decimal: parameters and inputs in [−1, 1] but not 0, targets as the loss needs them
(0 or 1, one-hot columns, or any value), dropout masks with their keep
probability, word indices from 1 (0 is padding).  The equations themselves are
evaluated, by chainrule's reference interpreter (``derive.ir.numeric``;
``derive.ir.unroll`` runs a recurrence's step for t = 1 … T and back).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive.ir.images import tiles
from derive.ir.numeric import NumPyEvaluator, run
from derive.ir.unroll import run_sequence
from derive.ops.conv_nodes import AvgPool, Im2col, MaxPool
from derive.ops.record import record_of

Pool = (MaxPool, AvgPool)

SMALL = 2
VOCABULARY = 4
M = 3
STEPS = 2


@dataclass
class Example:
    """The sizes (``dims``: every dimension, m and the constants), the leaves' values (``steps``: those of each
    step of a recurrence) and every equation's (``values``; for a recurrence ``per_step`` and ``after``)."""

    dims: dict
    leaves: dict[str, np.ndarray]
    steps: list[dict[str, np.ndarray]] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    per_step: list[dict[str, np.ndarray]] = field(default_factory=list)
    after: dict[str, np.ndarray] = field(default_factory=dict)

    def every_value(self):
        """Every value the example shows: the leaves', each step's and every equation's."""
        for env in (self.leaves, *self.steps, self.values, *self.per_step, self.after):
            yield from env.values()


def sizes(vn) -> dict:
    """The example's sizes: each dimension (and m) as small as ``SMALL`` (``VOCABULARY``), the constants' values;
    the sides of images as small as lets every window tile them (``tiling``)."""
    vocabularies = set(vn.index_inputs.values())
    dims = tiling(vn, {d: min(n, VOCABULARY if d in vocabularies else SMALL) for d, n in vn.dim_sizes.items()})
    if vn.recurrence is not None:
        dims[vn.recurrence.T] = STEPS
    dims[vn.m] = M
    dims.update({vn.constants[c]: v for c, v in vn.constant_values.items()})
    return dims


def tiling(vn, small: dict) -> dict:
    """``small``, or, where a convolution's or a pooling's windows do not tile its images at those sizes
    (``derive.ir.images.tiles``: a 3×3 window at stride 2 with pad 1 needs an odd side), the same with the
    dimensions the images' sides are made of grown together, one at a time, up to their declared sizes (which
    tile): the smallest such example."""
    if tiles(vn, small):
        return small
    nodes = [n for a in vn.assignments for n in sp.preorder_traversal(a.value) if isinstance(n, (Im2col, Pool))]
    sides = {d for n in nodes for side in n.geometry[1:3] for d in sp.sympify(side).free_symbols} & set(vn.dim_sizes)
    for size in range(SMALL + 1, max(vn.dim_sizes[d] for d in sides) + 1):
        trial = {**small, **{d: min(size, vn.dim_sizes[d]) for d in sides}}
        if tiles(vn, trial):
            return trial
    return {**small, **{d: vn.dim_sizes[d] for d in sides}}


def example(vn, vd, seed: int = 0) -> Example:
    """The worked example of ``vn`` (derivation ``vd``) drawn from ``seed``."""
    rng = random.Random(seed)
    dims = sizes(vn)
    rec = vn.recurrence
    per_step = set(rec.per_step) if rec is not None else set()
    static, steps = {}, [{} for _ in range(dims[rec.T] if rec is not None else 0)]
    for name, kind in vn.kinds.items():
        if kind not in ("input", "target", "param", "mask"):
            continue
        for env in steps if name in per_step else [static]:
            env[name] = _draw(vn, name, kind, dims, rng)
    if rec is None:
        values = run(vd.forward + vd.backward, static, dims)
        return Example(dims, static, values=values)
    out = run_sequence(vd, static, steps, dims, NumPyEvaluator)
    after = {**out["after"], **{k: v for k, v in out.items() if k not in ("per_step", "after")}}
    return Example(dims, static, steps, per_step=out["per_step"], after=after)


def _draw(vn, name: str, kind: str, dims: dict, rng: random.Random) -> np.ndarray:
    rows, cols = (int(sp.sympify(s).subs(dims)) for s in vn.matrices[name].shape)
    if name in vn.index_inputs:  # word indices 1 … |V| − 1 (0 pads)
        top = int(sp.sympify(vn.index_inputs[name]).subs(dims)) - 1
        return np.array([[rng.randint(1, max(top, 1)) for _ in range(cols)] for _ in range(rows)])
    if kind == "mask":
        keep = float(sp.sympify(vn.masks[name]).subs(dims))
        return np.array([[float(rng.random() < keep) for _ in range(cols)] for _ in range(rows)])
    task = record_of(vn.loss).task if vn.loss else ""
    if kind == "target" and task == "multiclass":
        hot = [rng.randrange(rows) for _ in range(cols)]
        return np.array([[1.0 if hot[j] == i else 0.0 for j in range(cols)] for i in range(rows)])
    if kind == "target" and task == "binary":
        return np.array([[float(rng.random() < 0.5) for _ in range(cols)] for _ in range(rows)])
    return np.array([[_value(rng) for _ in range(cols)] for _ in range(rows)])


def _value(rng: random.Random) -> float:
    """−1, −0.9, …, −0.1, 0.1, …, 1: one decimal, never 0 (a 0 weight or input hides a term)."""
    return rng.choice((-1, 1)) * rng.randint(1, 10) / 10
