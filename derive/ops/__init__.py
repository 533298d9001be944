"""The table of ops: one record per function (activations, losses) and one stanza per matrix op.

* ``RECORDS``: every activation and loss, keyed by its SymPy class (``derive.ops.record``);
  one file each under ``activations/`` and ``losses/``;
* ``OPS``: every primitive of the layer-level matrix program, keyed by its class: linear
  (sum, product, transpose), element-wise (⊙, powers), ``Apply`` (an activation on a
  matrix), ``LossSum``, norms, text (embedding lookup, pooling, concatenation), attention, time, images
  (im2col and its reshapes, max and average pooling).

``pull_back`` walks an expression with the table; printers install ``_print_<Op>`` from the
stanzas that carry their forms (``install_printers``).  ``ACTIVATIONS``, ``LOSSES``,
``CANCELLATIONS``, ``HIDDEN`` and ``OUTPUTS`` are views of the records, by name.
"""

from . import activations, apply, attention, conv, diag, elementwise, linear, loss_sum, losses, norms, text, time  # noqa: F401  (each adds its records or stanzas)
from .activation import ActivationRecord
from .apply import APPLY, Apply, adjoint, matrix_derivative
from .base import OPS, PATH, Op, PullContext, op_of, pull_back, why
from .loss import LossRecord
from .loss_sum import LossSum
from .record import RECORDS, FunctionRecord, NetFunctionBase, find, record_of, records

ACTIVATIONS: dict[str, ActivationRecord] = {r.name: r for r in records("activation")}
LOSSES: dict[str, LossRecord] = {r.name: r for r in records("loss")}
# the output activation and loss pairs whose output delta collapses to A − Y, with the reason
CANCELLATIONS: dict[tuple[str, str], str] = {(r.matched, r.name): r.cancel_why for r in LOSSES.values() if r.matched}
OUTPUTS = tuple(dict.fromkeys(r.matched for r in LOSSES.values() if r.matched))  # the outputs a loss matches
HIDDEN = tuple(n for n, r in ACTIVATIONS.items() if r.elementwise and n != "identity")


def install_printers(printer_class, form: str) -> None:
    """Give ``printer_class`` a ``_print_<Op>`` for each stanza that has a ``form`` (text, latex, numpy)."""
    for op in OPS.values():
        render = getattr(op, form)
        if render is not None:
            setattr(printer_class, f"_print_{op.ir.__name__}", lambda self, expr, _render=render: _render(self, expr))


__all__ = [
    "ACTIVATIONS",
    "APPLY",
    "CANCELLATIONS",
    "HIDDEN",
    "LOSSES",
    "OPS",
    "OUTPUTS",
    "PATH",
    "RECORDS",
    "ActivationRecord",
    "Apply",
    "FunctionRecord",
    "LossRecord",
    "LossSum",
    "NetFunctionBase",
    "Op",
    "PullContext",
    "adjoint",
    "find",
    "install_printers",
    "matrix_derivative",
    "op_of",
    "pull_back",
    "record_of",
    "records",
    "why",
]
