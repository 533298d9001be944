"""The helper functions a generated training module may call, by name.

The NumPy form of each activation and loss is in its record (``derive.ops``),
with the helper functions it calls; when that form calls one of these helpers,
the printer records it and the module gets exactly the helpers it uses (sorted
by name).  Each is stable:
nothing overflows or becomes NaN at |z| = 1000.
"""

from __future__ import annotations

import inspect
import re

from derive.ops import attention_numpy, conv_numpy, records, text_numpy

# every function record's helpers (sigmoid, softmax, the losses and their stable forms from the logits)
HELPERS: dict[str, str] = {}
for _record in records():
    HELPERS.update(_record.helpers)


# The text ops' NumPy forms are the op table's own functions (derive.ops.text_numpy), copied as they are.
for _function in (
    text_numpy.embed,
    text_numpy.pool_mean,
    text_numpy.max_position,
    text_numpy.pool_max,
    text_numpy.scatter_add,
    text_numpy.spread_mean,
    text_numpy.route_max,
    text_numpy.dots,
    text_numpy.dots_mix,
    text_numpy.dots_outer,
):
    HELPERS[_function.__name__] = inspect.getsource(_function)
for _function in (attention_numpy.causal_mask,):
    HELPERS[_function.__name__] = inspect.getsource(_function)
# The image ops' NumPy forms (derive.ops.conv_numpy), likewise: the same code checks the derivation and trains.
for _function in (
    conv_numpy.window_span,
    conv_numpy.im2col,
    conv_numpy.col2im,
    conv_numpy.max_pool,
    conv_numpy.window_argmax,
    conv_numpy.unpool_max,
    conv_numpy.avg_pool,
    conv_numpy.unpool_avg,
):
    HELPERS[_function.__name__] = inspect.getsource(_function)


# The layout of a sequence model's module (``codegen.render.numpy_matrix``, ``positions``): m sequences of T
# positions, time first as the recurrences take them; the equations' columns are the T·m positions, sequence after
# sequence.  Written with array methods only, so they run on NumPy and JAX arrays alike.
HELPERS["to_columns"] = '''
def to_columns(Q):
    """Q, time first (T×m, or T×rows×m: position t of sequence i is Q[t, ..., i]), as the equations' columns:
    rows×(T·m), sequence after sequence (column i·T + t is position t of sequence i)."""
    Q = Q[:, None, :] if Q.ndim == 2 else Q
    return Q.transpose(1, 2, 0).reshape(Q.shape[1], -1)
'''
HELPERS["from_columns"] = '''
def from_columns(Q, T):
    """The equations' columns (rows×(T·m), sequence after sequence) back to time first: T×rows×m."""
    return Q.reshape(Q.shape[0], -1, T).transpose(2, 0, 1)
'''
HELPERS["per_sequence"] = '''
def per_sequence(Q, T):
    """Q's rows (a row per position, sequence after sequence) as one T-row matrix per sequence: m×T×columns."""
    return Q.reshape(-1, T, Q.shape[-1])
'''


def helper_source(names, table: dict[str, str] = HELPERS) -> str:
    """The source of the named helpers and of the helpers they call (in ``table``: NumPy's, or JAX's), sorted by
    name, separated by blank lines."""
    todo, needed = list(names), set()
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", table[name]) if n in table]
    return "\n\n".join(table[name].strip() for name in sorted(needed))
