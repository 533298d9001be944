"""The table of ops: one stanza per primitive of the layer-level matrix program.

Import order fills ``OPS``: linear (sum, product, transpose), element-wise
(⊙, powers), activations, losses, norms, text (embedding lookup, pooling,
concatenation).  ``pull_back`` walks an expression
with the table; printers install ``_print_<Op>`` from the stanzas that carry
their forms (``install_printers``).
"""

from . import activations, attention, elementwise, linear, losses, norms, text, time  # noqa: F401  (each adds its stanzas)
from .activations import ACTIVATIONS, HIDDEN, OUTPUTS, activation_why
from .base import OPS, PATH, Op, PullContext, op_of, pull_back, why
from .losses import CANCELLATIONS, LOSSES

PASS_THROUGH = ("sum", "scale")  # ops whose reason goes without saying inside another op's


def rule_text(key: str, form: str = "text") -> str:
    """The reason a step shows for rule ``key`` (``activation:g`` names the activation), as text or LaTeX;
    for a path of keys (``"sum>hadamard>broadcast"``), the reason of every op on it, outermost first, but
    a sum's or a scalar multiple's beside another op's."""
    keys = [k for k in dict.fromkeys(key.split(PATH)) if k]
    shown = [k for k in keys if k not in PASS_THROUGH] or keys[-1:]
    return "; ".join(_one_rule(k, form) for k in shown)


def _one_rule(key: str, form: str) -> str:
    if key.startswith("activation:"):
        return activation_why(key.split(":", 1)[1], form)
    return why(key, form)


def install_printers(printer_class, form: str) -> None:
    """Give ``printer_class`` a ``_print_<Op>`` for each stanza that has a ``form`` (text, latex, numpy)."""
    for op in OPS.values():
        render = getattr(op, form)
        if render is not None:
            setattr(printer_class, f"_print_{op.ir}", lambda self, expr, _render=render: _render(self, expr))


__all__ = [
    "ACTIVATIONS",
    "CANCELLATIONS",
    "HIDDEN",
    "LOSSES",
    "OPS",
    "OUTPUTS",
    "PATH",
    "Op",
    "PullContext",
    "activation_why",
    "install_printers",
    "op_of",
    "pull_back",
    "rule_text",
    "why",
]
