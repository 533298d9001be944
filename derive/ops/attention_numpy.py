"""The NumPy forms of the attention ops (``derive.ops.attention``): the reference evaluator runs them, and a
generated module gets their source as its helpers (``codegen.numpy_helpers``), so both compute alike.

Rows are positions: S is T×T, row i holds position i's scores against every position j; each form acts on
the last two axes, so a stack of them (one T×T matrix per sequence, m×T×T) takes it sequence by sequence.
"""

import numpy as np


def causal_mask(S):
    """S with −∞ above the diagonal: position i attends to the positions j ≤ i only."""
    return np.where(np.tri(*S.shape[-2:], dtype=bool), S, -np.inf)


def softmax_rows(S):
    """softmax along each row of S, after subtracting the row's maximum (−∞ entries give 0, never NaN)."""
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def tril(G):
    """G with 0 above the diagonal: what the causal mask passes back."""
    return np.tril(G)


def rowsum(Q):
    """Each row's sum of Q, a column."""
    return Q.sum(axis=-1, keepdims=True)
