"""Activations and losses as SymPy functions, with their local partials as data.

Every function a network may apply is one class here, and everything chainrule
knows about it is one ``Rule`` record in ``RULES``: the local partial (written
in terms of the function's own output where the lecture does), the reason
shown when the derivative is rewritten, how it reads in text and LaTeX, and a
float implementation used to evaluate declarations.  The emitters in
``codegen`` print from the same records.

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

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy.printing.pycode import PythonCodePrinter


class NetFunction(sp.Function):
    """A function whose derivative, definition, code and LaTeX come from its ``RULES`` record.

    It is a SymPy function like ``sympy.tanh``: ``float(sigmoid(z).subs(z, 0.5))``,
    ``N(…)``, ``.rewrite(sympy.exp)``, ``sympy.latex(…)`` and ``sympy.lambdify(z, sigmoid(z))``
    (NumPy, math, mpmath …) all work, each hook reading the record: ``definition``
    (evaluation, rewrites), ``code`` (the stable form code printers print), ``latex``.
    A printer with its own ``_print_Sigmoid`` (chainrule's own) keeps it.
    """

    def fdiff(self, argindex=1):
        return RULES[type(self)].partial(self, argindex - 1)

    # ------------------------------------------------------- SymPy's hooks
    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        return RULES[type(self)].definition(*self.args).evalf(prec_to_dps(prec))

    def _eval_rewrite(self, rule, args, **hints):
        rec = RULES[type(self)]
        if rule is sp.exp:
            return rec.definition(*args).rewrite(sp.exp)
        for form in (rec.definition, rec.code):
            if form is not None and (out := form(*args)).has(rule):
                return out
        return None

    def _latex(self, printer, exp=None):
        own = _own_print(printer, self)
        if own is not None:
            return own if exp is None else rf"\left({own}\right)^{{{exp}}}"
        rec = RULES[type(self)]
        args = [printer._print(a) for a in self.args]
        yhats, ys = args[: len(args) // 2], args[len(args) // 2 :]
        fields = {"args": ", ".join(args), "rest": ", ".join(args[1:]), "yhats": ", ".join(yhats), "ys": ", ".join(ys)}
        return rec.latex_form.format(*args, name=rec.latex, power="" if exp is None else f"^{{{exp}}}", **fields)

    def _code(self, printer, **kwargs):
        own = _own_print(printer, self)
        if own is not None:
            return own
        form = RULES[type(self)].code(*self.args)
        text = printer._print(form, **kwargs)
        return text if form.is_Atom or isinstance(form, sp.Function) else f"({text})"  # printed where a call was

    # the code printers of sympy.lambdify, by their print methods
    _pythoncode = _numpycode = _lambdacode = _mpmathcode = _cmathcode = _numexprcode = _tensorflowcode = _code


def _own_print(printer, expr):
    """What a printer with its own ``_print_<Function>`` method prints for ``expr``, else None."""
    for cls in type(expr).__mro__:
        method = getattr(printer, f"_print_{cls.__name__}", None)
        if method is not None:
            return method(expr)
        if cls is NetFunction:
            break
    return None


class Sigmoid(NetFunction):
    nargs = 1


class Tanh(NetFunction):
    nargs = 1


class ReLU(NetFunction):
    nargs = 1


class Step(NetFunction):
    """Unit step with ``step(0) = 1``: the lecture's ReLU derivative."""

    nargs = 1


class Softmax(NetFunction):
    """Component ``k`` (1-based, first argument) of softmax over the rest."""

    @classmethod
    def eval(cls, k, *zs):
        if not (k.is_Integer and 1 <= int(k) <= len(zs)):
            raise ValueError(f"softmax component {k} is out of range 1..{len(zs)}")


class BinaryCrossEntropy(NetFunction):
    nargs = 2


class CrossEntropy(NetFunction):
    """Arguments ``ŷ1..ŷK, y1..yK``."""


class SquaredError(NetFunction):
    """Arguments ``ŷ1..ŷK, y1..yK``; ``½ Σ (ŷᵢ − yᵢ)²``."""


# ---------------------------------------------------------------- the table
@dataclass(frozen=True)
class Rule:
    """Everything chainrule knows about one function."""

    name: str  # text name, as printed: σ, tanh, ReLU …
    latex: str  # LaTeX name
    partial: Callable[[sp.Expr, int], sp.Expr]  # (applied function, argument index) -> ∂f/∂arg
    why: str  # the derivative as the lecture states it
    numeric: Callable[..., float]  # float implementation for evaluation
    kind: str  # "activation", "loss" or "helper"
    numpy: str = ""  # stable NumPy form, a format over the printed args ({0}, {1}, {rest}, {k0}; tuples {yhats}, {ys})
    numpy_logits: str = ""  # losses: the form from the logits ({z}; tuple {zs}), stable at |z| = 1000
    definition: Callable[..., sp.Expr] | None = None  # in SymPy's own functions, as the lecture defines it
    code: Callable[..., sp.Expr] | None = None  # the same, stable, for code printers (lambdify); else definition
    latex_form: str = r"{name}{power}{{\left({args} \right)}}"  # for sympy.latex ({0}…, {args}, {rest}, {yhats}, {ys})

    def __post_init__(self):
        if self.code is None:
            object.__setattr__(self, "code", self.definition)


def unary(d: Callable[[sp.Expr, sp.Expr], sp.Expr]):
    """A rule for a one-argument function given as ``d(output, z)``."""
    return lambda f, i: d(f, f.args[0])


# Rules as data: one line per function.
# fmt: off
RULES: dict[type, Rule] = {
    # activations: derivative written in the unit's own output a = f(z)
    Sigmoid: Rule("σ", r"\sigma", unary(lambda a, z: a * (1 - a)), "σ'(z) = σ(z)(1 − σ(z))", lambda z: _sigmoid(z), "activation", numpy="sigmoid({0})", definition=lambda z: 1 / (1 + sp.exp(-z)), code=lambda z: (1 + sp.tanh(z / 2)) / 2),
    Tanh: Rule("tanh", r"\tanh", unary(lambda a, z: 1 - a**2), "tanh'(z) = 1 − tanh²(z)", math.tanh, "activation", numpy="np.tanh({0})", definition=sp.tanh),
    ReLU: Rule("ReLU", r"\operatorname{ReLU}", unary(lambda a, z: Step(z)), "ReLU'(z) = 1 for z ≥ 0, 0 for z < 0", lambda z: max(z, 0.0), "activation", numpy="np.maximum({0}, 0)", definition=lambda z: sp.Max(0, z), code=lambda z: sp.Piecewise((z, z >= 0), (0, True))),
    Step: Rule("step", r"\mathbf{1}", unary(lambda a, z: sp.S.Zero), "step'(z) = 0 (almost everywhere)", lambda z: 1.0 if z >= 0 else 0.0, "helper", numpy="({0} >= 0)", definition=lambda z: sp.Heaviside(z, 1), code=lambda z: sp.Piecewise((1, z >= 0), (0, True)), latex_form=r"{name}{power}\left[{0} \geq 0\right]"),
    Softmax: Rule("softmax", r"\operatorname{softmax}", lambda f, i: softmax_partial(f, i), "∂softmaxₖ/∂zⱼ = softmaxₖ (δₖⱼ − softmaxⱼ)", lambda k, *zs: _softmax(int(k), zs), "activation", numpy="softmax(np.stack([{rest}]))[{k0}]", definition=lambda k, *zs: sp.exp(zs[int(k) - 1]) / sp.Add(*map(sp.exp, zs)), code=lambda k, *zs: 1 / sp.Add(*(sp.exp(z - zs[int(k) - 1]) for z in zs)), latex_form=r"{name}_{{{0}}}{power}{{\left({rest} \right)}}"),
    # losses, per example
    BinaryCrossEntropy: Rule("BCE", r"L_{\mathrm{CE}}", lambda f, i: bce_partial(f, i), "∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)", lambda yhat, y: _bce(yhat, y), "loss", numpy="binary_cross_entropy({0}, {1})", numpy_logits="binary_cross_entropy_logits({z}, {1})", definition=lambda yhat, y: -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))),
    CrossEntropy: Rule("CE", r"L_{\mathrm{CE}}", lambda f, i: ce_partial(f, i), "∂L/∂ŷᵢ = −yᵢ/ŷᵢ", lambda *a: _ce(a), "loss", numpy="cross_entropy({yhats}, {ys})", numpy_logits="cross_entropy_logits({zs}, {ys})", definition=lambda *a: -sp.Add(*(y * sp.log(p) for p, y in _pairs(a))), latex_form=r"{name}{power}{{\left({yhats};\ {ys} \right)}}"),
    SquaredError: Rule("SE", r"L_{\mathrm{SE}}", lambda f, i: se_partial(f, i), "∂L/∂ŷᵢ = ŷᵢ − yᵢ  (L = ½ Σ (ŷᵢ − yᵢ)²)", lambda *a: _se(a), "loss", numpy="squared_error({yhats}, {ys})", definition=lambda *a: sp.Add(*((p - y) ** 2 for p, y in _pairs(a))) / 2, latex_form=r"{name}{power}{{\left({yhats};\ {ys} \right)}}"),
}
# fmt: on


# ----------------------------------------------------- tricky rules, by name
def softmax_partial(f: Softmax, i: int) -> sp.Expr:
    """∂sₖ/∂zⱼ = sₖ(δₖⱼ − sⱼ); argument 0 is the component index."""
    if i == 0:
        return sp.S.Zero
    k, zs = f.args[0], f.args[1:]
    s_j = Softmax(sp.Integer(i), *zs)
    return f * ((1 if int(k) == i else 0) - s_j)


def bce_partial(f: BinaryCrossEntropy, i: int) -> sp.Expr:
    yhat, y = f.args
    if i == 0:
        return -y / yhat + (1 - y) / (1 - yhat)
    return sp.log(1 - yhat) - sp.log(yhat)


def ce_partial(f: CrossEntropy, i: int) -> sp.Expr:
    k = len(f.args) // 2
    yhats, ys = f.args[:k], f.args[k:]
    if i < k:
        return -ys[i] / yhats[i]
    return -sp.log(yhats[i - k])


def se_partial(f: SquaredError, i: int) -> sp.Expr:
    k = len(f.args) // 2
    yhats, ys = f.args[:k], f.args[k:]
    if i < k:
        return yhats[i] - ys[i]
    return ys[i - k] - yhats[i - k]


def _pairs(args):
    """``(ŷᵢ, yᵢ)`` of a loss's arguments ``ŷ1..ŷK, y1..yK``."""
    k = len(args) // 2
    return zip(args[:k], args[k:])


# ------------------------------------------------------ float implementations
def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softmax(k: int, zs: Sequence[float]) -> float:
    top = max(zs)
    exps = [math.exp(z - top) for z in zs]
    return exps[k - 1] / math.fsum(exps)


def _bce(yhat: float, y: float) -> float:
    return -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))


def _ce(args: Sequence[float]) -> float:
    k = len(args) // 2
    return -math.fsum(y * math.log(p) for p, y in zip(args[:k], args[k:]) if y != 0)


def _se(args: Sequence[float]) -> float:
    k = len(args) // 2
    return 0.5 * math.fsum((p - y) ** 2 for p, y in zip(args[:k], args[k:]))


NUMERIC = {cls.__name__: rule.numeric for cls, rule in RULES.items()}


class _NumericPrinter(PythonCodePrinter):
    """Calls the float implementations of ``NUMERIC`` by name (what chainrule evaluates with)."""

    def _print_NetFunction(self, expr):
        return f"{type(expr).__name__}({', '.join(self._print(a) for a in expr.args)})"


def numeric_function(args, expr):
    """``expr`` as a Python function of ``args`` over floats, with each rule's ``numeric`` implementation.
    Each is made once (verify asks for the same truth, claim after claim, and making one prints it)."""
    return _numeric_function(tuple(args), expr)


@functools.lru_cache(maxsize=4096)
def _numeric_function(args: tuple, expr):
    printer = _NumericPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True})
    return sp.lambdify(args, expr, modules=[NUMERIC, "math"], printer=printer)


numeric_function.cache_clear = _numeric_function.cache_clear  # forget every function made (the next is compiled)


# ---------------------------------------------------------- the public names
def sigmoid(z) -> sp.Expr:
    """σ(z) = 1/(1 + e^(−z))."""
    return Sigmoid(z)


def tanh(z) -> sp.Expr:
    return Tanh(z)


def relu(z) -> sp.Expr:
    """max(0, z); its derivative is 1 for z ≥ 0 (the lecture's convention)."""
    return ReLU(z)


def step(z) -> sp.Expr:
    return Step(z)


def softmax(*zs) -> tuple[sp.Expr, ...]:
    """The softmax components ``(s1, …, sK)`` of ``z1, …, zK`` (a list or separate args)."""
    zs = _flatten(zs)
    if len(zs) < 2:
        raise ValueError("softmax needs at least two inputs")
    return tuple(Softmax(sp.Integer(k), *zs) for k in range(1, len(zs) + 1))


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
    expr = expr.replace(sp.tanh, Tanh)
    expr = expr.replace(_is_relu, lambda e: ReLU(next(a for a in e.args if a != 0)))
    expr = expr.replace(_sigmoid_ratio, lambda e: Sigmoid(_sigmoid_ratio(e)))
    return expr.replace(_sigmoid_argument, lambda e: Sigmoid(_sigmoid_argument(e)))


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
