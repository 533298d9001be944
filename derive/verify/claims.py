"""Claims as data: a small expression tree, and a safe reader for text claims.

A claim (a hand-derived formula) is read into a tree of tuples, never
evaluated as Python:

    ("num", Rational)          ("name", "a1")
    ("add"|"sub"|"mul"|"div"|"matmul"|"jux", left, right)
    ("pow", base, exponent)    ("neg", x)
    ("call", fname, (args…))   fname in FUNCTIONS, or "g" (the activation
                               applied to the argument), or "<f>'" (its derivative)
    ("T", x)                   transpose
    ("sum", x, axis, keepdims) np.sum
    ("partial", of, wrt)       ∂of/∂wrt (from LaTeX)

``jux`` is juxtaposition (``(1/m) dZ1 X.T``, ``a1(1 - a1)``): a product of
scalars, a matrix product of matrices.  ``derive.verify.scalar`` turns a tree into
SymPy (scalar networks) or evaluates it with NumPy (vectorised networks).

``parse_text`` reads Python/SymPy syntax with ``ast`` (which only parses) and
converts it through a whitelist: network names, the functions below, numbers,
``+ - * / ** @``, unary minus, ``.T``, ``np.sum(x, axis=…, keepdims=…)``.
Anything else (``__import__``, other attributes, lambdas, subscripts,
comprehensions, calls of other names, huge numbers) is a ``ClaimError``.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import re
import tokenize
from fractions import Fraction

import sympy as sp

from ..errors import ChainruleError

MAX_CLAIM_CHARS = 2000
MAX_LATEX_CHARS = 10000  # LaTeX is verbose: a handout's sum over 9 paths of 5 partials is 8000 characters
MAX_DEPTH = 250
MAX_LITERAL_DIGITS = 12
MAX_EXPONENT = 16
MAX_CONST_LOG10 = 60

# text name -> canonical function name
FUNCTIONS = {
    "sigmoid": "sigmoid",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Step": "step",
    "σ": "sigmoid",
    "sigma": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "ReLU": "relu",
    "step": "step",
    "heaviside": "step",
    "softmax": "softmax",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "g": "g",
    "g1": "g",
    "g2": "g",
    "max": "max",
    "sign": "sign",
    "sqrt": "sqrt",
    "sum_t": "sum_t",  # Σ_t over the steps of a recurrence (derive.verify.recurrent)
}
TWO_ARGUMENTS = ("max",)
_PRIME = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")'\s*\(")
# np.<name> -> canonical
NP_FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "tanh": "tanh",
    "sum": "sum",
    "sign": "sign",
    "sqrt": "sqrt",
    "dot": "dot",
    "multiply": "multiply",
    "transpose": "transpose",
    "power": "power",
    "square": "square",
    "maximum": "max",
}
NP_MODULES = ("np", "numpy")
ALIASES = {"ŷ": "yhat", "α": "alpha", "η": "eta"}
UNICODE_OPERATORS = {
    "\u0177": "yhat",
    "y\u0302": "yhat",
    "·": "*",
    "⋅": "*",
    "×": "*",
    "⊙": "*",
    "∘": "*",
    "−": "-",
    "ᵀ": ".T",
    "²": "**2",
}


class ClaimError(ChainruleError):
    """A claim that cannot be read (bad syntax, a name or construct not allowed)."""


# ------------------------------------------------------------ tree helpers
def num(value) -> tuple:
    return ("num", sp.Rational(value) if not isinstance(value, sp.Basic) else value)


def children(tree) -> tuple:
    """The subtrees of a claim-tree node."""
    kind = tree[0]
    if kind in ("num", "name", "partial", "kron"):
        return ()
    if kind == "call":
        return tuple(tree[2])
    if kind == "isum":
        return (tree[4],)
    if kind == "dop":
        return (tree[2],)
    return tuple(x for x in tree[1:] if isinstance(x, tuple))


def names_in(tree) -> set[str]:
    """Every ``("name", …)`` in a tree (and the variable of a ``∂/∂x``)."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if node[0] == "name" or node[0] == "dop":
            out.add(node[1])
        stack.extend(children(node))
    return out


def to_text(tree) -> str:
    """A tree written back as Python-like text (for messages)."""
    kind = tree[0]
    if kind == "num":
        return str(tree[1])
    if kind == "name":
        return tree[1]
    if kind == "neg":
        return f"-{_wrap(tree[1])}"
    if kind == "call":
        return f"{tree[1]}({', '.join(to_text(a) for a in tree[2])})"
    if kind == "T":
        return f"{_wrap(tree[1])}.T"
    if kind == "sum":
        return f"np.sum({to_text(tree[1])}, axis={tree[2]}, keepdims={tree[3]})"
    if kind == "partial":
        return f"d{tree[1]}/d{tree[2]}"
    if kind == "kron":
        return f"δ_{tree[1]}{tree[2]}"
    if kind == "isum":
        bounds = f"{tree[1]}={tree[2] or 1}..{tree[3] or ''}"
        return f"Σ_{bounds} {_wrap(tree[4])}"
    if kind == "dop":
        return f"∂/∂{tree[1]} {_wrap(tree[2])}"
    ops = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "matmul": " @ ", "jux": " ", "pow": "**"}
    return f"{_wrap(tree[1])}{ops[kind]}{_wrap(tree[2])}"


def _wrap(tree) -> str:
    s = to_text(tree)
    return s if tree[0] in ("num", "name", "call", "T", "sum", "partial", "kron") else f"({s})"


# ------------------------------------------------------------- text claims
RATES = {"alpha": "alpha", "eta": "eta", "lr": "lr", "α": "alpha", "η": "eta"}
UPDATE_ARROWS = ("←", "<-", ":=")


def split_update(src: str) -> tuple[str | None, str]:
    """``"W1 ← W1 - alpha*dW1"`` (also ``<-``, ``:=``) → ``("W1", "W1 - alpha*dW1")``; else ``(None, src)``."""
    for arrow in UPDATE_ARROWS:
        if arrow in src:
            lhs, rhs = src.split(arrow, 1)
            return lhs.strip(), rhs.strip()
    return None, src


def split_equation(src: str) -> tuple[str | None, str]:
    """``"dW1 = (1/m) dZ1 X.T"`` → ``("dW1", "(1/m) dZ1 X.T")``; no top-level ``=`` → ``(None, src)``."""
    depth = 0
    for i, ch in enumerate(src):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            before = src[i - 1] if i else ""
            after = src[i + 1] if i + 1 < len(src) else ""
            if before in "=<>!" or after == "=":
                raise ClaimError("comparisons are not allowed in a claim")
            return src[:i].strip(), src[i + 1 :].strip()
    return None, src


def parse_text(src: str, where: str | None = None, known=None) -> tuple:
    """A text claim (no ``=``) as a tree; raises ``ClaimError`` naming the problem."""
    if not isinstance(src, str):
        raise ClaimError("a claim must be text", where)
    if len(src) > MAX_CLAIM_CHARS:
        raise ClaimError(f"the claim is too long ({len(src)} characters; at most {MAX_CLAIM_CHARS})", where)
    if "\n" in src or "\r" in src or ";" in src:
        raise ClaimError("a claim is one expression on one line", where)
    if "%" in src:
        raise ClaimError("operator '%' is not allowed", where)
    odd = next((c for c in src if not (c.isprintable() or c == "\t")), None)
    if odd is not None:
        raise ClaimError(f"the claim holds the character {odd!r}, which no formula has", where)
    if not src.strip():
        raise ClaimError("the claim is empty", where)
    for old, new in UNICODE_OPERATORS.items():
        src = src.replace(old, new)
    src = _PRIME.sub(lambda m: f"{m.group(1)}_prime(", src)  # g'(Z1): the derivative of g
    known = known or (lambda name: False)
    src = _insert_juxtaposition(src.strip(), where, known)
    try:
        body = ast.parse(src, mode="eval").body
    except SyntaxError as exc:
        raise ClaimError(f"cannot read the claim: {exc.msg}", where) from None
    except (RecursionError, MemoryError, ValueError):
        raise ClaimError("the claim is nested too deeply", where) from None
    return _Converter(where, known).convert(body, 0)


def _insert_juxtaposition(src: str, where, known=lambda name: False) -> str:
    """Write implicit products explicitly: ``(1/m) dZ1 X.T`` → ``(1/m) % dZ1 % X.T``.

    ``%`` (refused in the input) marks juxtaposition.  A name followed by
    ``(`` is a call only when it is a known function name."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type not in _SKIP]
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ClaimError(f"cannot read the claim: {exc.args[0] if exc.args else exc}", where) from None
    out, last = [], 0
    prev = None
    for tok in tokens:
        if prev is not None and _ends_operand(prev) and _starts_operand(tok) and not _is_call(prev, tok, known):
            col = tok.start[1]
            out.append(src[last:col])
            out.append(" % ")
            last = col
        prev = tok
    out.append(src[last:])
    return "".join(out)


_SKIP = (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)


def _ends_operand(tok) -> bool:
    if tok.type == tokenize.NAME:
        return not keyword.iskeyword(tok.string) or tok.string in ("True", "False", "None")
    return tok.type == tokenize.NUMBER or (tok.type == tokenize.OP and tok.string == ")")


def _starts_operand(tok) -> bool:
    if tok.type == tokenize.NAME:
        return not keyword.iskeyword(tok.string)
    return tok.type == tokenize.NUMBER or (tok.type == tokenize.OP and tok.string == "(")


def _is_call(prev, tok, known=lambda name: False) -> bool:
    """A name followed by ``(`` is a call when it is a function name the network does not declare
    (a declared ``g1`` is a name: ``g1(1 - g1)`` is a product)."""
    name = prev.string.removesuffix("_prime")
    if prev.type != tokenize.NAME or tok.string != "(":
        return False
    if prev.string in NP_FUNCTIONS:
        return True
    return name in FUNCTIONS and not known(name)


_BINOPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.MatMult: "matmul",
    ast.Mod: "jux",
    ast.Pow: "pow",
}
_REFUSED = {
    ast.Lambda: "a lambda",
    ast.IfExp: "a conditional expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.Subscript: "subscripting",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Starred: "'*' unpacking",
    ast.NamedExpr: "':='",
    ast.JoinedStr: "an f-string",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Slice: "a slice",
}


class _Converter:
    """ast → claim tree, through the whitelist."""

    def __init__(self, where, known=lambda name: False):
        self.where = where
        self.known = known

    def fail(self, message: str):
        raise ClaimError(message, self.where)

    def convert(self, node, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            self.fail("the claim is nested too deeply")
        d = depth + 1
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                self.fail(f"operator '{_op_text(node.op)}' is not allowed")
            left = self.convert(node.left, d)
            right = self.convert(node.right, d)
            if op == "pow":
                self.check_power(left, right)
            return (op, left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return ("neg", self.convert(node.operand, d))
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, d)
            self.fail(f"operator '{_op_text(node.op)}' is not allowed")
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                return ("T", self.convert(node.value, d))
            self.fail(f"attribute access '.{node.attr}' is not allowed (only '.T' and np.sum)")
        if isinstance(node, ast.Call):
            return self.call(node, d)
        what = _REFUSED.get(type(node), f"'{type(node).__name__}'")
        self.fail(f"{what} is not allowed in a claim")

    def constant(self, value) -> tuple:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"the constant {value!r} is not allowed (numbers only)")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_LITERAL_DIGITS:
                self.fail(f"the number {str(value)[:20]}… is too large")
            return ("num", sp.Integer(value))
        if not math.isfinite(value) or (value != 0 and not 1e-12 <= abs(value) <= 1e12):
            self.fail(f"the number {value!r} is out of range")
        return ("num", sp.Rational(Fraction(repr(value))))

    def name(self, ident: str) -> tuple:
        if ident.startswith("_"):
            self.fail(f"name '{ident}' is not allowed")
        if ident in FUNCTIONS and not self.known(ident):
            self.fail(f"function '{ident}' needs an argument: {ident}(…)")
        if ident in NP_MODULES:
            self.fail(
                f"'{ident}' is only allowed as np.sum(…), np.exp(…), np.log(…), np.tanh(…), np.dot(…), "
                "np.multiply(…), np.power(…)"
            )
        return ("name", ALIASES.get(ident, ident))

    def call(self, node: ast.Call, d: int) -> tuple:
        func = node.func
        if isinstance(func, ast.Name) and func.id in FUNCTIONS:
            fname = FUNCTIONS[func.id]
        elif isinstance(func, ast.Name) and func.id.endswith("_prime") and func.id.removesuffix("_prime") in FUNCTIONS:
            fname = FUNCTIONS[func.id.removesuffix("_prime")] + "'"
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in NP_MODULES:
            if func.attr not in NP_FUNCTIONS:
                self.fail(f"function '{func.value.id}.{func.attr}' is not allowed")
            fname = NP_FUNCTIONS[func.attr]
        else:
            shown = (
                func.id
                if isinstance(func, ast.Name)
                else (f".{func.attr}" if isinstance(func, ast.Attribute) else type(func).__name__)
            )
            self.fail(f"call of '{shown}' is not allowed (functions: {', '.join(sorted(set(FUNCTIONS.values())))})")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail("'*' unpacking is not allowed in a claim")
        args = tuple(self.convert(a, d) for a in node.args)
        if fname.endswith("'") and fname.rstrip("'") in ("exp", "log"):
            self.fail(f"write the derivative of {fname.rstrip(chr(39))} out, not {fname}(…)")
        if fname == "sum":
            return self.np_sum(args, node.keywords)
        if node.keywords:
            self.fail(f"{fname}(…) takes no keyword arguments")
        want = 2 if fname in ("dot", "multiply", "power", *TWO_ARGUMENTS) else 1
        if len(args) != want:
            self.fail(f"{fname}(…) takes {want} argument{'s' if want > 1 else ''}, {len(args)} given")
        if fname == "power":
            self.check_power(args[0], args[1])
            return ("pow", args[0], args[1])
        if fname == "square":
            return ("pow", args[0], num(2))
        if fname == "dot":
            return ("matmul", args[0], args[1])
        if fname == "multiply":
            return ("mul", args[0], args[1])
        if fname == "transpose":
            return ("T", args[0])
        return ("call", fname, args)

    def np_sum(self, args, keywords) -> tuple:
        if len(args) != 1:
            self.fail(f"np.sum(…) takes one array, {len(args)} given")
        axis, keepdims = None, False
        for kw in keywords:
            value = kw.value
            if (
                kw.arg == "axis"
                and isinstance(value, ast.Constant)
                and type(value.value) is int
                and value.value in (0, 1, -1)
            ):
                axis = value.value
            elif kw.arg == "keepdims" and isinstance(value, ast.Constant) and type(value.value) is bool:
                keepdims = value.value
            else:
                self.fail(f"np.sum(…) allows only axis=0|1 and keepdims=True|False (got '{kw.arg}')")
        return ("sum", args[0], axis, keepdims)

    def check_power(self, base, exponent) -> None:
        e = const_value(exponent)
        if e is None:
            self.fail("an exponent must be a number")
        if abs(e) > MAX_EXPONENT:
            self.fail(f"the exponent {to_text(exponent)} is too large (at most {MAX_EXPONENT})")
        b = const_value(base)
        if b is not None and b != 0 and abs(e) * math.log10(abs(b)) > MAX_CONST_LOG10:
            self.fail(f"the number {to_text(('pow', base, exponent))} is too large")


def const_value(tree) -> float | None:
    """The float value of a constant subtree, or None (bounded: no big powers are built)."""
    kind = tree[0]
    if kind == "num":
        return float(tree[1])
    if kind == "neg":
        v = const_value(tree[1])
        return None if v is None else -v
    if kind in ("add", "sub", "mul", "div", "jux", "pow"):
        a, b = const_value(tree[1]), const_value(tree[2])
        if a is None or b is None:
            return None
        try:
            if kind == "add":
                return a + b
            if kind == "sub":
                return a - b
            if kind in ("mul", "jux"):
                return a * b
            if kind == "div":
                return a / b if b else math.inf
            if a != 0 and abs(b) * math.log10(abs(a)) > MAX_CONST_LOG10:
                return math.inf
            return float(a**b) if a >= 0 or float(b).is_integer() else math.nan
        except (OverflowError, ZeroDivisionError, ValueError):
            return math.inf
    return None


def _op_text(op) -> str:
    return {
        ast.FloorDiv: "//",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.Invert: "~",
        ast.Not: "not",
    }.get(type(op), type(op).__name__)
