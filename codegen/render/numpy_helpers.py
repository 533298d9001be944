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


def helper_source(names) -> str:
    """The source of the named helpers and of the helpers they call, sorted by name, separated by blank lines."""
    todo, needed = list(names), set()
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", HELPERS[name]) if n in HELPERS]
    return "\n\n".join(HELPERS[name].strip() for name in sorted(needed))
