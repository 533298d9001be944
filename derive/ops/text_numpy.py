"""The NumPy forms of the text ops (``derive.ops.text``): the reference evaluator runs them, and a
generated module gets their source as its helpers (``codegen.render.numpy_helpers``), so both compute alike.

Word indices ``W`` are n×m integers (n positions, one column per text); id 0 is
padding.  A block is d consecutive rows: block t of a column holds position t.
Each function needs only NumPy (``np``).
"""

import numpy as np


def embed(E, W):
    """[E[:, W₁]; …; E[:, Wₙ]] for every column of W: the n word vectors stacked, (n·d)×m; 0 at padding."""
    n, m = W.shape
    out = E.T[W]  # n×m×d: a row gather, contiguous
    out[W == 0] = 0
    return out.transpose(0, 2, 1).reshape(n * E.shape[0], m)


def pool_mean(Q, W):
    """The mean of the n blocks of Q over the positions holding a word (d×m; 0 for a text with none)."""
    n, m = W.shape
    present = W != 0
    total = np.einsum("tdm,tm->dm", Q.reshape(n, -1, m), present.astype(Q.dtype))
    return total / np.maximum(present.sum(axis=0), 1).astype(Q.dtype)  # counts in Q's dtype: float32 stays float32


def max_position(Q, W):
    """For each row of a block and each column, the position t of the largest entry among the words (d×m)."""
    n, m = W.shape
    return np.where((W != 0)[:, None, :], Q.reshape(n, -1, m), -np.inf).argmax(axis=0)


def pool_max(Q, W):
    """The element-wise maximum of the n blocks of Q over the positions holding a word (d×m; 0 for none)."""
    n, m = W.shape
    out = np.take_along_axis(Q.reshape(n, -1, m), max_position(Q, W)[None], axis=0)[0]
    return out * (W != 0).any(axis=0)


def concat(*parts):
    """The rows of the parts stacked."""
    return np.concatenate(parts, axis=0)


def scatter_add(G, W, V):
    """d×V: column v is the sum of G's blocks at the positions where W holds word v (padding adds nothing).

    The transpose of embed: only the columns of the words in W are non-zero,
    written by np.add.at into those columns, never by a d×V product.  It adds entry by entry
    into the flat V×d array (one index per entry: NumPy's fast one-dimensional path, about
    3× faster than np.add.at row by row).
    """
    n, m = W.shape
    d = G.shape[0] // n
    present = W != 0
    rows = G.reshape(n, d, m).transpose(0, 2, 1)[present]  # a d-vector per word in W
    at = (W[present][:, None] * d + np.arange(d)).ravel()  # where its entries go in the flat V×d array
    out = np.zeros(V * d, dtype=G.dtype)
    np.add.at(out, at, rows.ravel())
    return out.reshape(V, d).T


def spread_mean(G, W):
    """(n·d)×m: G divided by the number of words, in every block holding a word; 0 at padding."""
    n, m = W.shape
    present = W != 0
    share = (present / np.maximum(present.sum(axis=0), 1)).astype(G.dtype)
    return (share[:, None, :] * G[None]).reshape(n * G.shape[0], m)


def route_max(G, Q, W):
    """Q's shape: every entry of G in the block of its row's arg-max (pool_max's choice), 0 elsewhere."""
    n, m = W.shape
    out = np.zeros((n, G.shape[0], m), dtype=G.dtype)
    np.put_along_axis(out, max_position(Q, W)[None], (G * (W != 0).any(axis=0))[None], axis=0)
    return out.reshape(Q.shape)


def row_block(G, start, stop):
    """Rows start … stop − 1 of G."""
    return G[start:stop]


def dots(Q, v):
    """n×m: row j holds, for every column, block j of Q (a d-vector) dotted with v's column: Qᵀ v column by column."""
    d, m = v.shape
    return np.einsum("jdm,dm->jm", Q.reshape(-1, d, m), v)


def dots_mix(G, Q):
    """d×m: column i is Σ_j G[j, i] times block j of Q's column i: Q G column by column (the adjoint of v in Qᵀ v)."""
    n, m = G.shape
    return np.einsum("jm,jdm->dm", G, Q.reshape(n, -1, m))


def dots_outer(G, v):
    """(n·d)×m: block j of column i is G[j, i] v[:, i]: v Gᵀ column by column (the adjoint of Q in Qᵀ v)."""
    return (G[:, None, :] * v[None]).reshape(-1, v.shape[1])
