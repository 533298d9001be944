"""The functions a network applies, as a declaration calls them: ``sigmoid(z)``, ``softmax(z1, z2)``, losses.

Each is a SymPy class with one record (``derive.ops``: one file per activation under
``derive/ops/activations/``, per loss under ``derive/ops/losses/``); ``RULES`` is that
table, keyed by class.  This module gives the public names and what reads the
records as a whole: ``numeric_function`` (an expression as a float function) and
``lecture_functions`` (SymPy's own spellings read as the lecture's functions).

Conventions, as the lectures state them:

* ``ReLU'(z) = 1`` for ``z >= 0`` and ``0`` otherwise (so ``ReLU'(0) = 1``);
  written ``step(z)``.
* ``squared_error(ŷ, y) = ½ (ŷ − y)²``: the ½ makes ``∂L/∂ŷ = ŷ − y``.
  ``mse`` is the same function (per example; the batch mean is taken by the
  vectorised cost ``J = (1/m) Σ L``).
* ``binary_cross_entropy(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)]``.
* ``cross_entropy(ŷ, y) = −Σᵢ yᵢ log ŷᵢ``; with ``y`` one-hot.
"""

from __future__ import annotations

import inspect

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .ops import RECORDS, NetFunctionBase, records
from .ops.activations.identity import Identity
from .ops.activations.relu import ReLU
from .ops.activations.sigmoid import Sigmoid
from .ops.activations.softmax import Softmax
from .ops.activations.step import Step
from .ops.activations.tanh import Tanh
from .ops.losses.binary_cross_entropy import BinaryCrossEntropy
from .ops.losses.cross_entropy import CrossEntropy
from .ops.losses.squared_error import SquaredError

RULES = RECORDS  # every function's record, keyed by its class

__all__ = [
    "RULES",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Identity",
    "NetFunctionBase",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "SquaredError",
    "Step",
    "Tanh",
    "activation_function",
    "binary_cross_entropy",
    "cross_entropy",
    "lecture_functions",
    "mse",
    "numeric_function",
    "softmax",
    "squared_error",
]

NUMERIC = {cls.__name__: rec.numeric for cls, rec in RECORDS.items()}


class _NumericPrinter(PythonCodePrinter):
    """Calls the float implementations of ``NUMERIC`` by name (what chainrule evaluates with)."""

    def _print_NetFunctionBase(self, expr):
        return f"{type(expr).__name__}({', '.join(self._print(a) for a in expr.args)})"


# lambdify's docstring prints the whole expression; these functions are chainrule's own, read by no one
_NO_DOCSTRING = {"docstring_limit": 0} if "docstring_limit" in inspect.signature(sp.lambdify).parameters else {}


def numeric_function(args, expr):
    """``expr`` as a Python function of ``args`` over floats, with each record's ``numeric`` implementation."""
    printer = _NumericPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})
    return sp.lambdify(args, expr, modules=[NUMERIC, "math"], printer=printer, **_NO_DOCSTRING)


# ---------------------------------------------------------- the public names
def activation_function(record):
    """The public function of a one-argument activation record: ``softplus(z)`` is ``Softplus(z)``."""

    def apply(z):
        return record.cls(sp.sympify(z))

    apply.__name__ = apply.__qualname__ = record.name
    apply.__doc__ = f"{record.prose or record.name}."
    apply.record = record
    return apply


def softmax(*zs):
    """The softmax components ``(s1, …, sK)`` of ``z1, …, zK`` (a list or separate args);
    of one matrix quantity of a layer declaration (``softmax(Z3)``), softmax over each column."""
    if len(zs) == 1 and not isinstance(zs[0], (list, tuple)) and not sp.sympify(zs[0]).is_commutative:
        return Softmax(sp.sympify(zs[0]))
    zs = _flatten(zs)
    if len(zs) < 2:
        raise ValueError("softmax needs at least two inputs (or one matrix quantity of a layer declaration)")
    return tuple(Softmax(sp.Integer(k), *zs) for k in range(1, len(zs) + 1))


softmax.record = Softmax.record


def binary_cross_entropy(yhat, y) -> sp.Expr:
    """−[y log ŷ + (1 − y) log(1 − ŷ)]."""
    return BinaryCrossEntropy(yhat, y)


def cross_entropy(yhat, y) -> sp.Expr:
    """−Σᵢ yᵢ log ŷᵢ over matching sequences ŷ and y (y one-hot)."""
    yhat, y = _flatten([yhat]), _flatten([y])
    if len(yhat) != len(y):
        raise ValueError(f"cross_entropy needs as many targets as outputs ({len(yhat)} outputs, {len(y)} targets)")
    return CrossEntropy(*yhat, *y)


def squared_error(yhat, y) -> sp.Expr:
    """½ Σᵢ (ŷᵢ − yᵢ)², for one output or matching sequences."""
    yhat, y = _flatten([yhat]), _flatten([y])
    if len(yhat) != len(y):
        raise ValueError(f"squared_error needs as many targets as outputs ({len(yhat)} outputs, {len(y)} targets)")
    return SquaredError(*yhat, *y)


mse = squared_error
binary_cross_entropy.record = BinaryCrossEntropy.record
cross_entropy.record = CrossEntropy.record
squared_error.record = SquaredError.record

# sigmoid, tanh, relu, step, identity and every other one-argument activation, by its record's name
PUBLIC = {
    r.name: activation_function(r)
    for r in records()
    if r.kind in ("activation", "helper") and r.elementwise and r.partial_rule is None and "'" not in r.name
}
PUBLIC.update(softmax=softmax, binary_cross_entropy=binary_cross_entropy, cross_entropy=cross_entropy, mse=mse)
PUBLIC["squared_error"] = squared_error
globals().update({k: v for k, v in PUBLIC.items() if k not in globals()})
__all__ += sorted(k for k in PUBLIC if k not in __all__)  # noqa: PLE0605  (a new activation is one file)


def _flatten(items) -> list:
    out = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(sp.sympify(item))
    return out


# Functions SymPy already differentiates that a declaration may use.
BUILTIN_ALLOWED = (sp.exp, sp.log)


def lecture_functions(expr: sp.Expr) -> sp.Expr:
    """SymPy's own spellings of the lecture's functions, as those functions.

    ``sympy.tanh(z)`` → ``tanh(z)``; ``Max(0, z)`` → ``relu(z)``; ``1/(1 + exp(−z))``
    and ``exp(z)/(1 + exp(z))`` → ``sigmoid(z)``; anything else is left for the
    declaration to accept or refuse.
    """
    for argument, function in _SPELLINGS:  # each over the whole expression, in the table's order
        expr = expr.replace(
            lambda e, argument=argument: argument(e) is not None, lambda e, f=function, a=argument: f(a(e))
        )
    return expr


def lecture_function(e):
    """The lecture's function the one node ``e`` spells (``lecture_functions`` node by node), else None: a
    layer declaration's lowering reads ``sp.tanh(Z)``, ``Max(0, Z)`` and ``1/(1 + np.exp(-Z))`` with it."""
    return next((function(z) for argument, function in _SPELLINGS if (z := argument(e)) is not None), None)


def _is_relu(e) -> bool:
    return isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args


def _sigmoid_argument(e):
    """``z`` when ``e`` is ``1/(1 + exp(−z))``, else None."""
    if e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2 and sp.S.One in e.base.args:
        other = next(a for a in e.base.args if a != 1)
        if isinstance(other, sp.exp):
            return -other.args[0]
    return None


def _sigmoid_ratio(e):
    """``z`` when ``e`` is ``exp(z)/(1 + exp(z))``, else None."""
    if e.is_Mul and len(e.args) == 2:
        num = next((a for a in e.args if isinstance(a, sp.exp)), None)
        den = next((a for a in e.args if a is not num), None)
        if num is not None and den is not None and _sigmoid_argument(den) == -num.args[0]:
            return num.args[0]
    return None


def _relu_argument(e):
    """``z`` when ``e`` is ``Max(0, z)``, else None."""
    return next(a for a in e.args if a != 0) if _is_relu(e) else None


# SymPy's spellings of the lecture's functions: (the argument z of the function a node spells, else None; the
# function). The ratio exp(z)/(1 + exp(z)) comes before 1/(1 + exp(−z)), which is a part of it.
_SPELLINGS = (
    (lambda e: e.args[0] if isinstance(e, sp.tanh) else None, Tanh),
    (_relu_argument, ReLU),
    (_sigmoid_ratio, Sigmoid),
    (_sigmoid_argument, Sigmoid),
)
