"""NumPy's functions on a declaration's quantities: ``np.tanh(W1 @ X + b1)``, ``np.maximum(Z, 0)``.

A NumPy user writes an activation as NumPy spells it.  SymPy's expressions get NumPy's
``__array_ufunc__`` hook (NEP 13), so a ufunc called in a declaration on a quantity is read as
the op it computes:

- an activation whose record's NumPy form is one ufunc call of its argument and numbers
  (``np.tanh({0})``, ``np.maximum({0}, 0)``, ``np.logaddexp(0, {0})``) is that activation, with
  the arguments of a symmetric ufunc in either order (``np.maximum(0, Z)``): the table is read
  from the records, so a new record with such a form is read with no change here;
- ``np.log`` (a loss written out), ``np.exp`` (of a scalar; of a layer quantity inside σ or softmax
  written out, ``1/(1 + np.exp(-Z))``, ``np.exp(Z) / np.exp(Z).sum(axis=0)``: derive.ir.lower),
  ``np.sqrt``, ``np.square``, ``np.power``, ``np.reciprocal`` and the arithmetic ufuncs
  (``np.multiply`` entry by entry: ⊙ on layer quantities) are what they compute;
- another ufunc on a quantity is refused in one line naming it and the place.

Everywhere else (the engine's own code, an array among the arguments) NumPy's default is kept:
the expressions are taken as objects, as without the hook.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import sympy as sp

from ..errors import DeclarationError, caller_place, typed
from ..ops import records
from .vocabulary import hadamard, power

_CALL = re.compile(r"^np\.(\w+)\((.*)\)$")
_SYMMETRIC = {"maximum", "minimum", "fmax", "fmin", "logaddexp", "add", "multiply"}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _activation_forms() -> dict[str, list[tuple[tuple, object]]]:
    """ufunc name → [(its arguments: "{0}" for the argument, else a number), record]: each one-argument
    activation whose NumPy form is a single ufunc call (tanh, relu, softplus)."""
    forms: dict[str, list[tuple[tuple, object]]] = {}
    for rec in records():
        m = _CALL.match(rec.numpy or "") if rec.kind == "activation" else None
        if m is None or not isinstance(getattr(np, m.group(1), None), np.ufunc):
            continue
        args = tuple(a.strip() for a in m.group(2).split(","))
        if args.count("{0}") == 1 and all(a == "{0}" or _number(a) is not None for a in args):
            forms.setdefault(m.group(1), []).append((tuple(a if a == "{0}" else _number(a) for a in args), rec))
    return forms


ACTIVATION_FORMS = _activation_forms()


def _is_layer(x) -> bool:
    """A layer declaration's quantity (non-commutative, not yet lowered), as ``**`` tells them apart."""
    return isinstance(x, sp.Expr) and not x.is_commutative and not isinstance(x, sp.MatrixExpr)


def _activation(name: str, inputs: tuple):
    """The record's function of the quantity when ``np.name(*inputs)`` is an activation's NumPy form."""
    orders = [inputs, inputs[::-1]] if name in _SYMMETRIC and len(inputs) == 2 else [inputs]
    for args, rec in ACTIVATION_FORMS.get(name, ()):
        for given in orders:
            if len(given) != len(args):
                continue
            quantity = next(x for a, x in zip(args, given) if a == "{0}")
            numbers = all(a == "{0}" or _is_number(x, a) for a, x in zip(args, given))
            if numbers and isinstance(quantity, sp.Expr) and not quantity.is_number:
                return rec.cls(quantity)
    return None


def _is_number(x, value: float) -> bool:
    """Whether the argument ``x`` is the number ``value`` (a Python, NumPy or SymPy number)."""
    if isinstance(x, sp.Basic) and not x.is_number:
        return False
    try:
        return float(x) == value
    except (TypeError, ValueError):
        return False


def _power(q, p):
    """q to the power p: entry by entry on a layer quantity (``power``), else SymPy's."""
    return power(q, p) if _is_layer(q) else q**p


def _multiply(a, b):
    """a times b: entry by entry (⊙) of two layer quantities, else SymPy's product."""
    return hadamard(a, b) if _is_layer(a) and _is_layer(b) else a * b


# what the other ufuncs compute, entry by entry on a layer quantity (power) as on a scalar
_ELEMENTWISE = {
    "log": sp.log,
    "exp": sp.exp,  # of a layer quantity, read inside σ or softmax written out (derive.ir.lower)
    "sqrt": lambda q: _power(q, sp.Rational(1, 2)),
    "square": lambda q: _power(q, 2),
    "reciprocal": lambda q: _power(q, -1),
    "power": _power,
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "negative": lambda q: -q,
    "positive": lambda q: q,
    "multiply": _multiply,
    "divide": lambda a, b: _multiply(a, _power(b, -1)),
    "true_divide": lambda a, b: _multiply(a, _power(b, -1)),
    "matmul": lambda a, b: a @ b,
}


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``sp.Expr.__array_ufunc__``: a ufunc typed in a declaration is the op it computes (module docstring)."""
    typed_here = method == "__call__" and not kwargs and not any(isinstance(x, np.ndarray) for x in inputs)
    if typed_here and typed(sys._getframe(1)):
        name = ufunc.__name__
        found = _activation(name, inputs)
        if found is None and name in _ELEMENTWISE:
            found = _ELEMENTWISE[name](*(sp.sympify(x) for x in inputs))
        if found is not None:
            return found
        if any(_is_layer(x) for x in inputs):
            known = sorted({*ACTIVATION_FORMS, *_ELEMENTWISE})
            raise DeclarationError(
                f"np.{name} is not an op chainrule can differentiate in a declaration (NumPy's it reads: "
                f"{', '.join('np.' + k for k in known)}; or chainrule's functions: sigmoid, relu, softmax …)",
                caller_place(),
            )
    # NumPy's default (the engine's code, an array among the arguments, a scalar's other ufuncs): objects
    return getattr(ufunc, method)(*(np.asarray(x) if isinstance(x, sp.Basic) else x for x in inputs), **kwargs)


sp.Expr.__array_ufunc__ = array_ufunc
