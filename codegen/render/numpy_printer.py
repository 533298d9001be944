"""Print SymPy expressions of a network as NumPy code for a training module.

``ModulePrinter`` subclasses SymPy's ``NumPyPrinter`` and dispatches on the
class name (``_print_NetFunctionBase`` for every activation and loss).  Every
activation's and loss's NumPy form is its record's ``numpy`` (or
``numpy_logits``) field (``derive.ops``); the
printer fills in the printed arguments and records what it used: the modules
(``imports``, as ``import`` lines) and the helper functions (``helpers``), so
the header of a generated module is derived from what was printed.

Losses are printed from the logits when the network makes that possible:
``BCE(ŷ, y)`` with ``ŷ = σ(z)`` becomes ``binary_cross_entropy_logits(z, y)``
and ``CE(ŷ1…ŷK, y1…yK)`` with ``ŷk = softmax_k(z1…zK)`` becomes
``cross_entropy_logits((z1, …), (y1, …))``: stable at |z| = 1000.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import _coeff_isneg
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from derive.ops import record_of

from .numpy_helpers import HELPERS

MODULE_ALIASES = {"numpy": "np"}


class ModulePrinter(NumPyPrinter):
    """NumPy code for a generated module; see the module docstring.

    ``definitions`` maps a node's Symbol to its defining expression, so a loss
    over ``ŷ = σ(z)`` can be printed from the logit ``z``.
    """

    def __init__(self, definitions: dict[sp.Symbol, sp.Expr] | None = None, settings=None, names=None):
        super().__init__(dict({"fully_qualified_modules": True}, **(settings or {})))
        self.definitions = dict(definitions or {})
        self.names = dict(names or {})  # a symbol printed by another name (a constant λ as LAM)
        self.helpers: set[str] = set()
        self.used_modules: set[str] = set()

    # ------------------------------------------------- imports and helpers
    def _module_format(self, fqn, register=True):
        module, _, name = fqn.rpartition(".")
        if module in MODULE_ALIASES:
            self.used_modules.add(module)
            return f"{MODULE_ALIASES[module]}.{name}"
        return super()._module_format(fqn, register)

    def _record(self, form: str) -> None:
        for name in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", form):
            if name in HELPERS:
                self.helpers.add(name)
        for alias in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\.", form):
            for module, short in MODULE_ALIASES.items():
                if alias == short:
                    self.used_modules.add(module)

    @property
    def imports(self) -> list[str]:
        """The import lines the printed code needs (helpers use NumPy too), sorted."""
        modules = set(self.used_modules) | ({"numpy"} if self.helpers else set())
        return sorted(f"import {m} as {MODULE_ALIASES[m]}" if m in MODULE_ALIASES else f"import {m}" for m in modules)

    def use(self, form: str) -> str:
        """Record a hand-written code fragment's helpers and modules; return it."""
        self._record(form)
        return form

    def _form(self, expr, field: str = "numpy", **fields) -> str:
        form = getattr(expr.record, field)
        if not form:
            raise ValueError(f"no NumPy form for {type(expr).__name__}")
        self._record(form)
        args = [self._print(a) for a in expr.args]
        return form.format(*args, rest=", ".join(args[1:]), k0=_k0(expr), **fields)

    def _print_Symbol(self, expr):
        return self.names.get(expr, None) or super()._print_Symbol(expr)

    def _print_Float(self, expr):
        return repr(float(expr))  # as the declaration gave it: 0.001, not 0.00100000000000000

    # ------------------------------------------------------------ arithmetic
    def _print_Add(self, expr, order=None):
        """Positive terms first, as a lecture writes ``yhat - y`` rather than ``-y + yhat``."""
        terms = self._as_ordered_terms(expr, order=order)
        terms = [t for t in terms if not _coeff_isneg(t)] + [t for t in terms if _coeff_isneg(t)]
        out = []
        for term in terms:
            sign, term = ("-", -term) if _coeff_isneg(term) else ("+", term)
            printed = self._print(term)
            if precedence(term) < PRECEDENCE["Add"]:
                printed = f"({printed})"
            out.append(f" {sign} {printed}" if out else (f"-{printed}" if sign == "-" else printed))
        return "".join(out)

    # ------------------------------------------------ activations and losses
    def _print_NetFunctionBase(self, expr) -> str:
        """An activation or a loss by its record's NumPy form; a loss from the logits where its matched
        activation's input is at hand (``BCE(ŷ, y)`` with ``ŷ = σ(z)``: stable at |z| = 1000)."""
        rec = expr.record
        if rec.kind != "loss":
            return self._form(expr)
        if rec.form != "pairs":
            logit = self.definitions.get(expr.args[0])
            if rec.numpy_logits and getattr(getattr(logit, "record", None), "name", None) == rec.matched:
                return self._form(expr, "numpy_logits", z=self._print(logit.args[0]))
            return self._form(expr)
        yhats, ys = _halves(expr)
        fields = {"ys": self._tuple(ys)}
        zs = _component_logits(yhats, self.definitions, rec.matched) if rec.numpy_logits else None
        if zs is not None:
            return self._form(expr, "numpy_logits", zs=self._tuple(zs), **fields)
        return self._form(expr, yhats=self._tuple(yhats), **fields)

    def _tuple(self, items) -> str:
        printed = [self._print(i) for i in items]
        return f"({printed[0]},)" if len(printed) == 1 else f"({', '.join(printed)})"


def _k0(expr) -> int:
    return int(expr.args[0]) - 1 if expr.record.form == "component" else 0


def _halves(expr):
    k = len(expr.args) // 2
    return expr.args[:k], expr.args[k:]


def _component_logits(yhats, definitions, matched: str):
    """``(z1, …, zK)`` when ``ŷk = softmax_k(z1…zK)`` (the loss's matched activation) for k = 1…K, in order;
    else None."""
    zs = None
    for k, yhat in enumerate(yhats, start=1):
        d = definitions.get(yhat)
        if not (
            getattr(d, "record", None) is record_of(matched) and int(d.args[0]) == k and len(d.args) - 1 == len(yhats)
        ):
            return None
        if zs is None:
            zs = d.args[1:]
        elif d.args[1:] != zs:
            return None
    return zs


def numpy_code(expr, definitions=None) -> str:
    """One expression as NumPy code (for tests and quick looks)."""
    return ModulePrinter(definitions).doprint(expr)
