"""One record per function a network applies, keyed by the function's SymPy class.

As autograd's ``defvjp`` registers a rule against ``np.tanh`` itself and a jax
primitive carries all its rules, every fact chainrule knows about an activation
or a loss sits in one record, attached to the SymPy class that represents it
(``Sigmoid.record``) and listed in ``RECORDS`` by that class: the derivative
(scalar, and on whole matrices), the reason a step shows, the text, LaTeX and
NumPy forms, an optional in-place recipe for generated code, float, mpmath and
NumPy numerics, the words a claim may use, the initialisation a weight feeding
it gets, and a sentence of prose for handouts.

Everything else reads the record: SymPy's own hooks (``fdiff``, ``evalf``,
``rewrite``, ``latex``, ``lambdify``) on ``NetFunctionBase`` below, the printers
(their ``_print_NetFunctionBase``), the matrix program (``Apply(Sigmoid, Z)``), the
emitters, the handouts and verify.  A record is declared next to its class, one
file per function (``derive/ops/activations/``, ``derive/ops/losses/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import sympy as sp
from mpmath.libmp import prec_to_dps

from ..errors import ChainruleError


# ------------------------------------------------------------ the SymPy class
class NetFunctionBase(sp.Function):
    """A function whose derivative, definition, code and LaTeX come from its record (``cls.record``).

    It is a SymPy function like ``sympy.tanh``: ``float(sigmoid(z).subs(z, 0.5))``,
    ``N(…)``, ``.rewrite(sympy.exp)``, ``sympy.latex(…)`` and ``sympy.lambdify(z, sigmoid(z))``
    (NumPy, math, mpmath …) all work, each hook reading the record.  A printer with its own
    ``_print_<Class>`` method (chainrule's own) keeps it.
    """

    record: ClassVar[FunctionRecord]

    def fdiff(self, argindex=1):
        return self.record.partial(self, argindex - 1)

    # ------------------------------------------------------- SymPy's hooks
    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        return self.record.definition(*self.args).evalf(prec_to_dps(prec))

    def _eval_rewrite(self, rule, args, **hints):
        rec = self.record
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
        rec = self.record
        args = [printer._print(a) for a in self.args]
        yhats, ys = args[: len(args) // 2], args[len(args) // 2 :]
        fields = {"args": ", ".join(args), "rest": ", ".join(args[1:]), "yhats": ", ".join(yhats), "ys": ", ".join(ys)}
        return rec.latex_form.format(*args, name=rec.latex, power="" if exp is None else f"^{{{exp}}}", **fields)

    def _code(self, printer, **kwargs):
        own = _own_print(printer, self)
        if own is not None:
            return own
        form = self.record.code(*self.args)
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
        if cls is NetFunctionBase:
            break
    return None


# ----------------------------------------------------------------- the records
@dataclass(frozen=True, eq=False)
class Inplace:
    """How generated code computes a function and its derivative without allocating (optional).

    ``forward``: lines that set ``{a} = g({z})`` with ``out={out}`` (``{out}`` may be ``{z}``'s buffer);
    ``grad_clobber``: lines that set ``{dz} = {da} ⊙ g'`` and may overwrite ``{q}`` (A or Z, read last here);
    ``grad_scratch``: lines that write g' of ``{q}`` into ``{s}``, leaving ``{q}`` as it is.
    """

    forward: tuple[str, ...] = ()
    grad_clobber: tuple[str, ...] = ()
    grad_scratch: tuple[str, ...] = ()
    clobber_writes_first: bool = False  # grad_clobber writes {dz} before it is done reading {q}


@dataclass(frozen=True, eq=False)
class FunctionRecord:
    """What every function record has; ``cls`` is set when the record is attached to its class."""

    name: str  # as a declaration names it: sigmoid, relu, binary_cross_entropy
    text: str  # as text prints it: σ, ReLU, BCE
    latex: str  # LaTeX name: \sigma, \operatorname{ReLU}
    why: str  # the derivative as the lecture states it
    definition: Callable[..., sp.Expr]  # in SymPy's own functions (exp, log, tanh, Max …)
    numeric: Callable[..., float]  # floats
    mpmath: Callable[..., object]  # 40 digits (verify re-evaluates claims with it)
    numpy: str = ""  # a stable NumPy form over the printed arguments ({0}, {rest}, {k0}, {yhats} …); may call helpers
    numpy_matrix: str = ""  # the NumPy form on a whole matrix ({0}), where it differs (softmax of each column)
    helpers: dict[str, str] = field(default_factory=dict)  # NumPy helper functions the form calls: name -> source
    code: Callable[..., sp.Expr] | None = None  # a stable SymPy form for code printers (lambdify); else definition
    latex_form: str = r"{name}{power}{{\left({args} \right)}}"  # sympy.latex ({0}…, {args}, {rest}, {yhats}, {ys})
    # how chainrule's printers write it: "call" σ(z); "indicator" 1[z ≥ 0]; "component" softmax_k(z1, …, zK);
    # "pairs" CE(ŷ1, ŷ2; y1, y2) (one pair: a call)
    form: str = "call"
    words: tuple[str, ...] = ()  # what a claim may call it (text and LaTeX), besides its name
    prose: str = ""  # one sentence for a handout: what the function is and where it comes from
    kinks: bool = False  # not differentiable at 0 (ReLU): checks keep clear of z = 0 and test it exactly
    # differentiable at 0 but its derivative is not (ELU: g'' jumps from 1 to 0): a difference quotient whose
    # stencil straddles z = 0 errs by O(h), so gradient checks keep clear of it as of a kink
    prime_kinks: bool = False
    cls: type | None = None

    def __post_init__(self):
        if self.code is None:
            object.__setattr__(self, "code", self.definition)
        if not self.numpy_matrix:
            object.__setattr__(self, "numpy_matrix", self.numpy)

    def partial(self, f, i: int) -> sp.Expr:
        raise NotImplementedError

    @property
    def kind(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


RECORDS: dict[type, FunctionRecord] = {}
_BY_NAME: dict[str, FunctionRecord] = {}


def attach(record: FunctionRecord):
    """A class decorator: ``record`` becomes ``cls.record`` and joins ``RECORDS``."""

    def decorate(cls):
        if cls in RECORDS or record.name in _BY_NAME:
            raise ValueError(f"{cls.__name__} ({record.name}) has two records")
        object.__setattr__(record, "cls", cls)
        cls.record = record
        RECORDS[cls] = record
        _BY_NAME[record.name] = record
        return cls

    return decorate


def record_of(key) -> FunctionRecord:
    """The record of a class, an applied function, a public function, or a name (``"sigmoid"``)."""
    if isinstance(key, FunctionRecord):
        return key
    if isinstance(key, str):
        rec = _BY_NAME.get(key)
    elif isinstance(key, type):
        rec = RECORDS.get(key)
    elif isinstance(key, sp.Basic):
        rec = RECORDS.get(type(key))
    else:
        rec = getattr(key, "record", None)
    if rec is None:
        raise ChainruleError(f"no record for the function {getattr(key, '__name__', key)!s}")
    return rec


def find(key) -> FunctionRecord | None:
    """``record_of(key)``, or None for what has no record."""
    try:
        return record_of(key)
    except ChainruleError:
        return None


def records(kind: str | None = None) -> list[FunctionRecord]:
    """Every record (of ``kind``: activation, helper, loss), in the order they were declared."""
    return [r for r in _BY_NAME.values() if kind is None or r.kind == kind]


def claim_words() -> dict[str, str]:
    """word -> name: what a claim may call each activation and helper (its name, class name, text and words)."""
    out: dict[str, str] = {}
    for r in records():
        if r.kind == "loss" or "'" in r.name:
            continue
        for word in (r.name, r.cls.__name__, r.text, *r.words):
            if word.isidentifier():
                out.setdefault(word, r.name)
    return out


def latex_commands() -> dict[str, str]:
    """LaTeX command -> name, for the functions whose LaTeX name is one command (\\sigma, \\tanh)."""
    return {
        r.latex: r.name
        for r in records()
        if r.kind != "loss" and "'" not in r.name and r.latex[1:].isalpha() and r.latex.startswith("\\")
    }
