"""Vectorised claims, checked numerically at random shapes and values.

The truth is the vectorised derivation (``derive.ir.network``) of a
``VecNetwork``, e.g. the one-hidden-layer network of deeplearning.ai course 1, week 3
(catalogue ``one_hidden_layer``)::

    Z1 = W1 X + b1,  A1 = g1(Z1),  Z2 = W2 A1 + b2,  A2 = σ(Z2),  J = (1/m) Σ L
    dZ2 = A2 − Y;  dW2 = (1/m) dZ2 A1ᵀ;  db2 = (1/m) Σ_columns dZ2 (n2×1);
    dZ1 = W2ᵀ dZ2 ⊙ g1'(Z1);  dW1 = (1/m) dZ1 Xᵀ;  db1 = (1/m) Σ_columns dZ1 (n1×1)

(``dZ`` per example, as the lecture writes it; ``dW``, ``db`` are ∂J/∂W,
∂J/∂b).  A claim is evaluated with NumPy on its claim tree (never as
Python), with the true values of every name it uses, at several random
shapes (every width but the output's drawn afresh, pairwise distinct with
m, so a missing transpose cannot hide) and random values.  It holds when it
has the true shape and values everywhere: a wrong shape (``(n,)`` for
``(n, 1)``, or a rank-1 array broadcast to ``(n, n)``) is wrong.

Split by job: ``vec_target`` (the network, its names and true values), ``vec_read``
(reading a claim), ``vec_evaluate`` (evaluating a claim tree),
``vec_trials`` (the random-shape trials), ``vec_proof`` (the symbolic proof at
one small shape), ``vec_repairs`` and ``vec_hints`` (naming the slip).
"""

from __future__ import annotations

from .claims import names_in
from .vec_hints import vector_hint
from .vec_proof import prove
from .vec_read import read, target_name
from .vec_target import VecTarget, resolve
from .vec_trials import run_trials
from .verdict import Verdict

NOT_SYMBOLIC = "not attempted (vectorised claims are checked numerically)"


def verify_vector(net: VecTarget, wrt: str | None, claim: str, *, latex: bool = False, where=None) -> Verdict:
    """Check a vectorised claim for ``wrt`` (``dW1``, ``db2``, ``dZ1``, ``A1`` …) numerically."""
    lhs, rhs = read(net, claim, latex, where)
    name = target_name(net, wrt, lhs, where)
    for n in sorted(names_in(rhs)):
        resolve(net, n, where)
    trials = run_trials(net, name, rhs)
    bad = [t for t in trials if not t.agrees]
    truth = net.truth_text(name)
    if not bad:
        notes = sorted({t.note for t in trials if t.note})
        details = {"note": notes[0]} if notes else {}
        numeric = f"agrees at {len(trials)} random shapes and values"
        return Verdict(name, claim, True, prove(net, name, rhs), numeric, truth, details=details)
    trials.sort(key=lambda t: (sum(t.shape.values()), t.seed))  # the smallest counterexample first
    hint = vector_hint(net, name, rhs, trials)
    numeric = f"differs at {len(bad)} of {len(trials)} random shapes and values"
    first = next(t for t in trials if not t.agrees)
    return Verdict(name, claim, False, NOT_SYMBOLIC, numeric, truth, first.counterexample(), hint)
