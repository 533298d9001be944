"""A declaration as plain data: how a network declared in a spec file's process reaches chainrule's.

``dumps`` writes the network's own data as JSON: numbers, strings, lists,
dicts, the fields of derive's own objects (``Network``, ``Node``,
``Assignment``, …), and each SymPy expression as its class and its arguments
(``expr.func(*expr.args) == expr``, SymPy's invariant).  ``loads`` builds them
again and runs nothing: a class is taken only from SymPy's core, functions and
matrices or from derive, an expression only from arguments that are already
expressions, an object of derive only by ``object.__new__`` and its fields.
Unlike a pickle, data forged by a hostile spec cannot make chainrule call
anything else.
"""

from __future__ import annotations

import importlib
import json
import math
import sys

import sympy as sp
from sympy.core.symbol import Str

from ..errors import ChainruleError

SYMPY_MODULES = ("sympy.core.", "sympy.functions.", "sympy.matrices.")
FORMAT = 1


class Malformed(ValueError):
    """Data that ``dumps`` did not write."""


class CannotCarry(ChainruleError):
    """The declaration holds something that has no plain form here (a class of the spec's own, a function)."""


def dumps(value) -> str:
    """``value`` (a network, or any of its parts) as JSON text."""
    return json.dumps([FORMAT, _Encoder().encode(value)], ensure_ascii=True, separators=(",", ":"))


def loads(text: str | bytes):
    """The value ``dumps`` wrote; ``Malformed`` (a ValueError) for anything else."""
    try:
        version, data = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise Malformed(f"not a declaration ({type(exc).__name__})") from None
    if version != FORMAT:
        raise Malformed(f"format {version!r}, not {FORMAT}")
    try:
        return _Decoder().decode(data)
    except RecursionError:
        raise Malformed("nested too deeply") from None


def _where(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


def _derive_class(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "derive"


class _Encoder:
    def __init__(self):
        self.ids: dict = {}
        self.keep: list = []  # the objects numbered, alive while encoding (their ids stay unique)

    @staticmethod
    def key(value):
        """A SymPy object by its value (equal expressions are one, however SymPy's cache made them, so the text
        is the same in every run); anything else by identity."""
        return ("basic", value) if isinstance(value, sp.Basic) else id(value)

    def number(self, value) -> int | None:
        """A fresh number for ``value``; None (and the reference emitted by the caller) when seen before."""
        key = self.key(value)
        if key in self.ids:
            return None
        self.ids[key] = len(self.ids)
        self.keep.append(value)
        return self.ids[key]

    def encode(self, value):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value if type(value) is int else ["int", int(value)]
        if isinstance(value, float):
            return value if math.isfinite(value) else ["float", repr(value)]
        if isinstance(value, tuple):
            return ["tuple", [self.encode(v) for v in value]]
        carry = getattr(type(value), "__carry__", None)
        if carry is not None:  # a class that says what of it crosses (a network: its other convention built)
            value = carry(value)
        if self.key(value) in self.ids:
            return ["ref", self.ids[self.key(value)]]
        if isinstance(value, sp.Basic):
            return self.basic(value)
        n = self.number(value)
        if isinstance(value, list):
            return ["list", n, [self.encode(v) for v in value]]
        if isinstance(value, dict):
            return ["dict", n, [[self.encode(k), self.encode(v)] for k, v in value.items()]]
        if isinstance(value, (set, frozenset)):
            return ["set" if isinstance(value, set) else "frozenset", n, [self.encode(v) for v in value]]
        cls = type(value)
        if _derive_class(cls) and cls.__new__ is object.__new__ and hasattr(value, "__dict__"):
            fields = [[k, self.encode(v)] for k, v in vars(value).items()]
            return ["object", n, *_where(cls), fields]
        raise CannotCarry(
            f"the network holds an object of class {cls.__qualname__} (from {cls.__module__}), which chainrule cannot "
            "carry out of the spec's process; a network holds only what derive's API declares"
        )

    def basic(self, expr: sp.Basic):
        cls = type(expr)
        if isinstance(expr, sp.Dummy):
            out = ["dummy", expr.name, expr.dummy_index, _assumptions(expr)]
        elif isinstance(expr, sp.Symbol) and cls in (sp.Symbol,):
            out = ["symbol", expr.name, _assumptions(expr)]
        elif isinstance(expr, Str):
            out = ["str", expr.name]
        elif isinstance(expr, sp.Integer):
            out = ["integer", int(expr)]
        elif isinstance(expr, sp.Rational):
            out = ["rational", int(expr.p), int(expr.q)]
        elif isinstance(expr, sp.Float):
            out = ["sympy_float", [int(part) for part in expr._mpf_], int(expr._prec)]
        elif isinstance(expr.func, type) and issubclass(expr.func, sp.Basic) and _allowed(cls):
            out = ["basic", *_where(cls), [self.encode(a) for a in expr.args]]
        else:
            raise CannotCarry(
                f"the network holds the expression class {type(expr).__name__}, which chainrule cannot carry out of "
                "the spec's process (only SymPy's core, functions and matrices, and derive's)"
            )
        n = self.number(expr)
        return [out[0], n, *out[1:]]


def _assumptions(symbol: sp.Symbol) -> dict:
    given = getattr(symbol, "_assumptions_orig", None)
    return dict(given if given is not None else symbol.assumptions0)


def _allowed(cls: type) -> bool:
    return cls.__module__.startswith(SYMPY_MODULES) or _derive_class(cls)


class _Decoder:
    def __init__(self):
        self.table: dict[int, object] = {}

    def keep(self, n, value):
        if not isinstance(n, int) or n in self.table:
            raise Malformed("a number given twice")
        self.table[n] = value
        return value

    def decode(self, data):
        if data is None or isinstance(data, (bool, str, int, float)):
            return data
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            raise Malformed("an unknown item")
        tag, rest = data[0], data[1:]
        method = getattr(self, f"_{tag}", None)
        if method is None:
            raise Malformed(f"an unknown item '{tag:.20}'")
        try:
            return method(*rest)
        except TypeError:
            raise Malformed(f"a malformed item '{tag}'") from None

    def _int(self, value):
        return int(_checked(value, int))

    def _float(self, text):
        if text not in ("nan", "inf", "-inf"):
            raise Malformed("a malformed float")
        return float(text)

    def _tuple(self, items):
        return tuple(self.decode(v) for v in _checked(items, list))

    def _ref(self, n):
        if n not in self.table:
            raise Malformed("a reference to nothing")
        return self.table[n]

    def _list(self, n, items):
        out = self.keep(n, [])
        out.extend(self.decode(v) for v in _checked(items, list))
        return out

    def _dict(self, n, pairs):
        out = self.keep(n, {})
        for pair in _checked(pairs, list):
            key, value = _checked(pair, list)
            out[self.decode(key)] = self.decode(value)
        return out

    def _set(self, n, items):
        out = self.keep(n, set())
        out.update(self.decode(v) for v in _checked(items, list))
        return out

    def _frozenset(self, n, items):
        return self.keep(n, frozenset(self.decode(v) for v in _checked(items, list)))

    def _object(self, n, module, qualname, fields):
        cls = _class(module, qualname)
        if issubclass(cls, sp.Basic) or not _derive_class(cls) or cls.__new__ is not object.__new__:
            raise Malformed(f"{qualname:.40} is not an object of derive's")
        out = self.keep(n, object.__new__(cls))
        for pair in _checked(fields, list):
            key, value = _checked(pair, list)
            out.__dict__[_checked(key, str)] = self.decode(value)
        return out

    # SymPy: atoms from their plain parts, everything else from expressions already built
    def _symbol(self, n, name, assumptions):
        return self.keep(n, sp.Symbol(_checked(name, str), **_flags(assumptions)))

    def _dummy(self, n, name, index, assumptions):
        _checked(index, int)
        sp.Dummy._count = max(sp.Dummy._count, index)  # a Dummy made here later is never one of these
        return self.keep(n, sp.Dummy(_checked(name, str), dummy_index=index, **_flags(assumptions)))

    def _str(self, n, name):
        return self.keep(n, Str(_checked(name, str)))

    def _integer(self, n, value):
        return self.keep(n, sp.Integer(_checked(value, int)))

    def _rational(self, n, p, q):
        if _checked(q, int) <= 0:
            raise Malformed("a malformed rational")
        return self.keep(n, sp.Rational(_checked(p, int), q))

    def _sympy_float(self, n, mpf, precision):
        sign, mantissa, exponent, bits = (_checked(v, int) for v in _checked(mpf, list))
        return self.keep(n, sp.Float._new((sign, mantissa, exponent, bits), _checked(precision, int)))

    def _basic(self, n, module, qualname, args):
        cls = _class(module, qualname)
        if not (issubclass(cls, sp.Basic) and _allowed(cls)):
            raise Malformed(f"{qualname:.40} is not an expression")
        values = [self.decode(a) for a in _checked(args, list)]
        if not all(isinstance(v, sp.Basic) for v in values):
            raise Malformed(f"an argument of {qualname:.40} is not an expression")
        return self.keep(n, cls(*values))


def _checked(value, kind):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise Malformed(f"expected {kind.__name__}")
    return value


def _flags(assumptions) -> dict:
    if not (
        isinstance(assumptions, dict)
        and all(isinstance(k, str) and isinstance(v, bool) for k, v in assumptions.items())
    ):
        raise Malformed("malformed assumptions")
    return assumptions


def _class(module: str, qualname: str) -> type:
    """A class of SymPy's or derive's, by module and qualified name (imported only from those packages)."""
    _checked(module, str)
    _checked(qualname, str)
    if not (module.startswith(SYMPY_MODULES) or module.split(".")[0] == "derive"):
        raise Malformed(f"module {module:.60} is not SymPy's or derive's")
    found = sys.modules.get(module) or importlib.import_module(module)
    for part in qualname.split("."):
        if part.startswith("_"):
            raise Malformed("a private name")
        found = getattr(found, part, None)
    if not isinstance(found, type):
        raise Malformed(f"{qualname:.40} is not a class")
    return found
