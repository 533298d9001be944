"""The helper functions a generated training module may call, by name.

The NumPy form of each activation and loss is in its ``derive.functions.RULES``
record; when that form calls one of these helpers, the printer records it and
the module gets exactly the helpers it uses (sorted by name).  Each is stable:
nothing overflows or becomes NaN at |z| = 1000.
"""

from __future__ import annotations

import inspect
import re

from derive.ops import attention_numpy, text_numpy

HELPERS: dict[str, str] = {
    "binary_cross_entropy": '''
def binary_cross_entropy(yhat, y):
    """−[y log ŷ + (1 − y) log(1 − ŷ)], with ŷ kept inside [eps, 1 − eps]."""
    eps = np.finfo(np.result_type(yhat, np.float32)).eps
    yhat = np.clip(yhat, eps, 1 - eps)
    return -(y * np.log(yhat) + (1 - y) * np.log1p(-yhat))
''',
    "binary_cross_entropy_logits": '''
def binary_cross_entropy_logits(z, y):
    """BCE of ŷ = σ(z) from the logit z: max(z, 0) − y·z + log(1 + e^(−|z|)); never overflows."""
    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
''',
    "cross_entropy": '''
def cross_entropy(yhats, ys):
    """−Σᵢ yᵢ log ŷᵢ over the rows ŷᵢ, yᵢ (ŷ kept above the smallest normal number)."""
    yhat, y = np.stack(yhats), np.stack(ys)
    tiny = np.finfo(np.result_type(yhat, np.float32)).tiny
    return -(y * np.log(np.maximum(yhat, tiny))).sum(axis=0)
''',
    "cross_entropy_logits": '''
def cross_entropy_logits(zs, ys):
    """−Σᵢ yᵢ log softmaxᵢ(z) = (Σᵢ yᵢ)·logsumexp(z) − Σᵢ yᵢ zᵢ, the log-sum-exp shifted by max z."""
    z, y = np.stack(zs), np.stack(ys)
    top = z.max(axis=0)
    logsumexp = top + np.log(np.exp(z - top).sum(axis=0))
    return y.sum(axis=0) * logsumexp - (y * z).sum(axis=0)
''',
    "sigmoid": '''
def sigmoid(z):
    """σ(z) = 1/(1 + e^(−z)), computed as ½(1 + tanh(z/2)): no overflow at any z."""
    return 0.5 * (1 + np.tanh(0.5 * z))
''',
    "softmax": '''
def softmax(z):
    """softmax over the rows of z (each column separately), after subtracting the column maximum."""
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)
''',
    "squared_error": '''
def squared_error(yhats, ys):
    """½ Σᵢ (ŷᵢ − yᵢ)² over the rows ŷᵢ, yᵢ."""
    return 0.5 * sum((yhat - y) ** 2 for yhat, y in zip(yhats, ys))
''',
}


# The text ops' NumPy forms are the op table's own functions (derive.ops.text_numpy), copied as they are.
for _function in (
    text_numpy.embed,
    text_numpy.pool_mean,
    text_numpy.max_position,
    text_numpy.pool_max,
    text_numpy.scatter_add,
    text_numpy.spread_mean,
    text_numpy.route_max,
):
    HELPERS[_function.__name__] = inspect.getsource(_function)
for _function in (attention_numpy.causal_mask, attention_numpy.softmax_rows):
    HELPERS[_function.__name__] = inspect.getsource(_function)


def helper_source(names) -> str:
    """The source of the named helpers and of the helpers they call, sorted by name, separated by blank lines."""
    todo, needed = list(names), set()
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", HELPERS[name]) if n in HELPERS]
    return "\n\n".join(HELPERS[name].strip() for name in sorted(needed))
