"""The record of an activation, and how one is declared: a class, its record, one file.

An activation ``a = g(z)`` is a ``NetFunctionBase`` of one argument (softmax: a component
of several) whose record says everything else.  Its derivative is written as the
lecture writes it, in the unit's own output where it can (σ' = a(1 − a),
tanh' = 1 − a²), else in its input (ReLU' = step(z)); on whole matrices the same
expression reads A ⊙ (1 − A), 1 − A², 1[Z ≥ 0].  Where a lecture writes the
derivative as a function of its own (GELU'(z)), the record leaves ``derivative``
out and gives that function's NumPy form: a class ``<Name>Prime`` is made for it.
Such a record also gives the NumPy form of g'' (``second_numpy``), which
Hessian-vector products need (R{g'(Z)} = g''(Z) ⊙ R{Z}, ``derive.ir.rop``): a class
``<Name>Prime2`` is made for it, the derivative's own ``prime``.

Declaring one (``derive/ops/activations/softplus.py``)::

    @activation(name="softplus", text="softplus", latex=r"\\operatorname{softplus}",
                definition=lambda z: sp.log(1 + sp.exp(z)), derivative=lambda a, z: Sigmoid(z), …)
    class Softplus(NetFunctionBase):
        nargs = 1
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .record import FunctionRecord, Inplace, NetFunctionBase, attach

__all__ = ["ActivationRecord", "Inplace", "NetFunctionBase", "activation", "sigmoid_float"]


@dataclass(frozen=True, eq=False)
class ActivationRecord(FunctionRecord):
    """An activation (or a helper function such as ReLU's derivative, ``helper=True``)."""

    # g'(z) as the lecture writes it, in the output a and the input z; None: g' is a function of its own
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr] | None = None
    prime_numpy: str = ""  # with derivative None: the NumPy form of g'({z}) (calls prime_helpers)
    prime_helpers: dict[str, str] | None = None
    second_numpy: str = ""  # with derivative None: the NumPy form of g''({z}) (calls second_helpers)
    second_helpers: dict[str, str] | None = None
    array: Callable | None = None  # NumPy, float64 arrays (the reference interpreter, verify)
    matrix_why: str = ""  # on whole matrices: "σ'(Z) = A ⊙ (1 − A)"; default: printed from the derivative
    matrix_why_latex: str = ""
    init: tuple[str, str] | None = None  # a weight feeding it: scheme (he | xavier | small), why; None: small
    inplace: Inplace | None = None  # generated code without allocation; else printed as an expression
    probability: str = ""  # what its output is: "binary" (σ: P(y = 1)), "distribution" (softmax), ""
    helper: bool = False  # not applied by a declaration: a derivative (step, GELU')
    partial_rule: Callable[[sp.Expr, int], sp.Expr] | None = None  # several arguments (softmax)
    column_vjp: Callable | None = None  # not element-wise on matrices: (G, A, Z) -> the adjoint of Z
    min_rows: int = 1  # the rows a matrix it applies to needs (softmax over a column: 2)
    # LaTeX: what g' does to a gradient through many hidden layers (a deep chain's handout section); "": no section
    depth_why: str = ""

    @property
    def kind(self) -> str:
        return "helper" if self.helper else "activation"

    @property
    def initialisation(self) -> tuple[str, str]:
        """(scheme, why) of a weight feeding it: he | xavier | small (N(0, 0.01²))."""
        return self.init or ("small", f"{self.name} output: N(0, 0.01²)")

    @property
    def elementwise(self) -> bool:
        return self.column_vjp is None

    def partial(self, f, i: int) -> sp.Expr:
        if self.partial_rule is not None:
            return self.partial_rule(f, i)
        z = f.args[0]
        if self.derivative is None:
            return PRIMES[type(f)](z)
        return self.derivative(f, z)

    @functools.cached_property
    def uses(self) -> str:
        """What g' is written in: "A" (the output), "Z" (the input), "AZ" (both) or "" (a constant)."""
        if self.derivative is None:
            return "Z"
        a, z = sp.Dummy("a"), sp.Dummy("z")
        free = self.derivative(a, z).free_symbols
        return ("A" if a in free else "") + ("Z" if z in free else "")

    @functools.cached_property
    def is_identity(self) -> bool:
        """g(z) = z: applying it names the same matrix (a linear layer)."""
        z = sp.Dummy("z")
        return self.elementwise and self.partial_rule is None and self.definition(z) == z

    def array_derivative(self, z):
        """g'(z) entry by entry for a float64 array ``z`` (NumPy), from the record's derivative."""
        return _array_derivative(self)(z)

    @property
    def prime(self) -> type | None:
        """The class of g' where g' is a function of its own (GELU'; of GELU' itself: GELU''), else None."""
        return PRIMES.get(self.cls)


PRIMES: dict[type, type] = {}  # a function's class -> the class of its derivative, where it has one of its own


def activation(**fields):
    """Attach an ``ActivationRecord`` made of ``fields`` to the decorated ``NetFunctionBase`` class."""

    def decorate(cls):
        record = ActivationRecord(**fields)
        cls = attach(record)(cls)
        if record.derivative is None and record.partial_rule is None and record.elementwise and not record.helper:
            PRIMES[cls] = _prime_class(cls, record)
        return cls

    return decorate


def _prime_class(cls, rec: ActivationRecord, order: int = 1) -> type:
    """``<Name>Prime``: g' as a function of its own, with a helper record made from ``rec`` (``order`` 2:
    ``<Name>Prime2``, g'', from ``second_numpy``); g' gets g'' as its own ``prime`` where ``rec`` gives it.
    The derivative is worked out (and compiled) when first used: SymPy's diff and lambdify would be most of
    ``import derive``."""
    z = sp.Dummy("z")

    @functools.cache
    def d() -> sp.Expr:
        return sp.diff(rec.definition(z), z, order)

    @functools.cache
    def compiled(module: str):
        return sp.lambdify(z, d(), module)

    marks = "'" * order
    prime = type(
        f"{cls.__name__}Prime{order if order > 1 else ''}",
        (NetFunctionBase,),
        {"nargs": 1, "__module__": cls.__module__},
    )
    helper = ActivationRecord(
        name=f"{rec.name}{marks}",
        text=f"{rec.text}{marks}",
        latex=f"{rec.latex}{marks}",
        why=rec.why,
        definition=lambda u: sp.Lambda(z, d())(u),
        derivative=lambda a, u: sp.diff(d(), z).subs(z, u),
        numeric=lambda u: float(compiled("math")(u)),
        mpmath=lambda u: compiled("mpmath")(u),
        array=lambda u: compiled("numpy")(u),
        numpy=rec.prime_numpy if order == 1 else rec.second_numpy,
        helpers=(rec.prime_helpers if order == 1 else rec.second_helpers) or {},
        helper=True,
        kinks=rec.kinks,
    )
    attach(helper)(prime)
    if order == 1 and rec.second_numpy:
        PRIMES[prime] = _prime_class(cls, rec, 2)
    return prime


@functools.cache
def _array_derivative(record: ActivationRecord):
    from .record import RECORDS

    a, z = sp.Dummy("a"), sp.Dummy("z")
    d = record.partial(record.cls(z), 1) if record.partial_rule is None else None
    if d is None:
        raise NotImplementedError(f"{record.name}' is not taken entry by entry")
    d = d.subs(record.cls(z), a)
    arrays = {cls.__name__: r.array for cls, r in RECORDS.items() if getattr(r, "array", None) is not None}
    f = sp.lambdify((a, z), d, modules=[arrays, "numpy"])
    return lambda x: np.broadcast_to(f(record.array(x), x), np.shape(x)).astype(float)


def sigmoid_float(z: float) -> float:
    """σ(z) in floats, without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
