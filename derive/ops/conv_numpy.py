"""The NumPy forms of the image ops (``derive.ops.conv``): the reference evaluator runs them, and a generated
module gets their source as its helpers (``codegen.render.numpy_helpers``), so both compute alike.

An image quantity is (C·H·W)×m, one image per column: entry (c·H·W + h·W + w, n) is pixel (h, w) of
channel c of image n, so ``X.reshape(C, H, W, m)`` is a view of every image with the examples last
(cs231n's x is ``X.reshape(C, H, W, m).transpose(3, 0, 1, 2)``).  Examples last makes the im2col form a
plain product with no transposes: the patch matrix is ``(C·HH·WW) × (H'·W'·m)``, its product with the
filters ``F × (H'·W'·m)``, and that is the output (F·H'·W')×m in memory as it is.

Each function needs only NumPy (``np``); sizes are Python integers.
"""

import numpy as np


def window_span(n, k, stride, pad, n_out):
    """The output positions i0 … i1 − 1 at which offset k of a window reads a pixel of the image (not of the
    padding), and the first such pixel r0 = stride·i0 + k − pad: the padding is never built, only skipped."""
    i0 = max(0, -((k - pad) // stride))
    i1 = min(n_out, (n - 1 + pad - k) // stride + 1)
    return i0, max(i0, i1), stride * i0 + k - pad


def im2col(X, C, H, W, HH, WW, stride, pad):
    """X_col, (C·HH·WW·H'·W')×m: entry ((c, k, l), (i, j)) of column n is x̃[n, c, s·i + k, s·j + l], the pixel
    (k, l) of the patch under output position (i, j), x̃ the image padded with zeros; ``X_col.reshape(C·HH·WW,
    -1)`` is the patch matrix, one column per patch (cs231n's x_cols, examples last)."""
    m = X.shape[1]
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    x = X.reshape(C, H, W, m)
    cols = (np.zeros if pad else np.empty)((C, HH, WW, Ho, Wo, m), dtype=X.dtype)
    for k in range(HH):
        i0, i1, r0 = window_span(H, k, stride, pad, Ho)
        for l in range(WW):
            j0, j1, c0 = window_span(W, l, stride, pad, Wo)
            rows, columns = slice(r0, r0 + stride * (i1 - i0), stride), slice(c0, c0 + stride * (j1 - j0), stride)
            cols[:, k, l, i0:i1, j0:j1] = x[:, rows, columns]
    return cols.reshape(-1, m)


def col2im(G, C, H, W, HH, WW, stride, pad):
    """The adjoint of im2col, (C·H·W)×m: each entry of G added into the pixel of x̃ it was copied from (a
    scatter-add over overlapping patches); what falls on the padding is dropped (the crop)."""
    m = G.shape[1]
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    cols = G.reshape(C, HH, WW, Ho, Wo, m)
    x = np.zeros((C, H, W, m), dtype=G.dtype)
    for k in range(HH):
        i0, i1, r0 = window_span(H, k, stride, pad, Ho)
        for l in range(WW):
            j0, j1, c0 = window_span(W, l, stride, pad, Wo)
            rows, columns = slice(r0, r0 + stride * (i1 - i0), stride), slice(c0, c0 + stride * (j1 - j0), stride)
            x[:, rows, columns] += cols[:, k, l, i0:i1, j0:j1]
    return x.reshape(C * H * W, m)


def max_pool(Q, C, H, W, size, stride):
    """The largest entry of each size×size window, windows ``stride`` apart: (C·H'·W')×m."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    x = Q.reshape(C, H, W, m)
    out = x[:, : stride * Ho : stride, : stride * Wo : stride].copy()
    for k in range(size):
        for l in range(size):
            np.maximum(out, x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride], out=out)
    return out.reshape(-1, m)


def window_argmax(Q, C, H, W, size, stride):
    """For each window, the position k·size + l of its largest entry: the first in row-major order where
    entries tie (np.argmax's choice, and PyTorch's), C×H'×W'×m."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    x = Q.reshape(C, H, W, m)
    best = x[:, : stride * Ho : stride, : stride * Wo : stride].copy()
    where = np.zeros(best.shape, dtype=np.intp)
    for k in range(size):
        for l in range(size):
            window = x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride]
            better = window > best  # strictly: a tie keeps the earlier position
            np.copyto(best, window, where=better)
            where[better] = k * size + l
    return where


def unpool_max(G, Q, C, H, W, size, stride):
    """The adjoint of max_pool, Q's shape: each entry of G routed to its window's arg-max (window_argmax), added
    up where windows overlap; 0 everywhere else."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    where = window_argmax(Q, C, H, W, size, stride)
    g = G.reshape(C, Ho, Wo, m)
    out = np.zeros((C, H, W, m), dtype=G.dtype)
    for k in range(size):
        for l in range(size):
            out[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride] += np.where(where == k * size + l, g, 0)
    return out.reshape(C * H * W, m)


def avg_pool(Q, C, H, W, size, stride):
    """The mean of each size×size window, windows ``stride`` apart: (C·H'·W')×m."""
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    x = Q.reshape(C, H, W, m)
    out = np.zeros((C, Ho, Wo, m), dtype=Q.dtype)
    for k in range(size):
        for l in range(size):
            out += x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride]
    return (out / (size * size)).reshape(-1, m)


def unpool_avg(G, C, H, W, size, stride):
    """The adjoint of avg_pool, (C·H·W)×m: each entry of G spread evenly, G/size², over its window, added up
    where windows overlap."""
    m = G.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    g = G.reshape(C, Ho, Wo, m) / (size * size)
    out = np.zeros((C, H, W, m), dtype=G.dtype)
    for k in range(size):
        for l in range(size):
            out[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride] += g
    return out.reshape(C * H * W, m)


def pool_gap(Q, C, H, W, size, stride):
    """The smallest margin of a max pooling's choice: over every window, its largest entry minus the next
    smaller one (inf for 1×1 windows).  Finite differences with steps below it keep every choice.  Entries
    exactly equal to the largest are no kink: random values never tie, so equal entries are constants (ReLU's
    zeros), and the gradient is the same whichever of them is chosen."""
    if size == 1:
        return float("inf")
    m = Q.shape[1]
    Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
    x = Q.reshape(C, H, W, m)
    windows = np.stack(
        [x[:, k : k + stride * Ho : stride, l : l + stride * Wo : stride] for k in range(size) for l in range(size)]
    )
    top = windows.max(axis=0)
    below = np.where(windows < top, top - windows, np.inf).min(axis=0)
    return float(np.min(below))
