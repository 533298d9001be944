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
from ..ops.activations.step import Step
from ..ops.record import claim_words, records

STEP = Step.record.name  # 1[z ≥ 0], as a claim writes a mask

MAX_CLAIM_CHARS = 2000
MAX_LATEX_CHARS = 10000  # LaTeX is verbose: a handout's sum over 9 paths of 5 partials is 8000 characters
MAX_DEPTH = 250
MAX_LITERAL_DIGITS = 12
MAX_EXPONENT = 16
MAX_CONST_LOG10 = 60

# text name -> canonical function name: every activation's words (its record's), then the rest
FUNCTIONS = {
    **claim_words(),
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "g": "g",
    "g1": "g",
    "g2": "g",
    "max": "max",
    "sign": "sign",
    "sqrt": "sqrt",
    "diag": "diag",  # the square matrix with a row (or column) on its diagonal: a Hessian's X diag(s) Xᵀ
    "sum_t": "sum_t",  # Σ_t over the steps of a recurrence (derive.verify.recurrent)
    "sum_k": "sum_k",  # word2vec (derive.verify.pairs): Σ_k over the negative samples, Σ_w over the words,
    "sum_w": "sum_w",  # Σ_{k: w_k = w_s} over the samples equal to w_s
    "sum_z": "sum_z",
    "rowsum": "rowsum",  # the sum along each row (over the columns): derive prints rowsum(dP ⊙ P)
    "Σ_columns": "rowsum",
    "colsum": "colsum",  # the sum down each column (over the rows)
    "Σ_rows": "colsum",
}
SUMS = {"rowsum": 1, "colsum": 0}  # the np.sum axis of each, kept as a column or a row
TWO_ARGUMENTS = ("max",)
_PRIME = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")'\s*\(")
# np.<name> -> canonical: an activation whose NumPy form is np.<name>(z) (np.tanh), then NumPy's own
NP_FUNCTIONS = {
    **{m.group(1): r.name for r in records() if (m := re.fullmatch(r"np\.(\w+)\(\{0\}\)", r.numpy))},
    "exp": "exp",
    "log": "log",
    "sum": "sum",
    "sign": "sign",
    "sqrt": "sqrt",
    "dot": "dot",
    "multiply": "multiply",
    "transpose": "transpose",
    "power": "power",
    "square": "square",
    "maximum": "max",
    "int64": "cast",  # np.int64(Z1 > 0): the 0/1 mask as numbers
    "int32": "cast",
    "float64": "cast",
    "float32": "cast",
    "asarray": "cast",
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
    return f"{_wrap(tree[1], kind)}{ops[kind]}{_wrap(tree[2], kind, right=True)}"


_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "jux": 2, "matmul": 2, "neg": 3, "pow": 4}
_ASSOCIATIVE = ("add", "mul", "jux", "matmul")


def _wrap(tree, parent: str = "neg", right: bool = False) -> str:
    """A subtree as text, in parentheses only where Python's precedence needs them."""
    s = to_text(tree)
    if tree[0] == "num" and tree[1] < 0:
        return f"({s})"
    mine, theirs = _PRECEDENCE.get(tree[0], 5), _PRECEDENCE[parent]
    if parent == "jux" and tree[0] in ("div", "mul", "matmul"):  # (1/m) dZ1 X.T, not 1/m dZ1 X.T
        return f"({s})"
    if tree[0] == "div" and parent in ("mul", "matmul") and not right:  # (1/m)*dZ1, not 1/m*dZ1
        return f"({s})"
    if mine < theirs or (mine == theirs == 4 and not right):
        return f"({s})"
    if mine == theirs and right and not (tree[0] == parent and parent in _ASSOCIATIVE):
        return f"({s})"
    return s


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
            if before in "<>" and after != "=":  # Z1 >= 0: a comparison, read as a 0/1 mask
                continue
            if before in "=!" or after == "=":
                raise ClaimError("'==' and '!=' are not allowed in a claim (write Z1 >= 0 for a mask)")
            if before in "+-*/":
                raise ClaimError(
                    f"'{before}=' adds up over the steps of a loop: it is read only for a recurrence (dW += …, for t …)"
                )
            return src[:i].strip(), src[i + 1 :].strip()
    return None, src


def parse_text(src: str, where: str | None = None, known=None, exponents=frozenset()) -> tuple:
    """A text claim (no ``=``) as a tree; raises ``ClaimError`` naming the problem.  ``exponents``: the names
    an exponent may hold besides numbers (an optimiser's step ``t`` in ``beta1**t``)."""
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
    problem = unbalanced(src)
    if problem:
        raise ClaimError(problem, where)
    for old, new in UNICODE_OPERATORS.items():
        src = src.replace(old, new)
    src = _ROOT.sub(lambda m: f"sqrt({m.group(1)})" if m.group(1) else "sqrt(", src)  # √(var + ε), √d
    src = _PREFIX_SUM.sub(r"\1(\2)", src)  # Σ_columns dZ1, as derive prints it
    src = _PRIME.sub(lambda m: f"{m.group(1)}_prime(", src)  # g'(Z1): the derivative of g
    known = known or (lambda name: False)
    src = _insert_juxtaposition(src.strip(), where, known)
    try:
        body = ast.parse(src, mode="eval").body
    except SyntaxError as exc:
        raise ClaimError(f"cannot read the claim: {exc.msg}", where) from None
    except (RecursionError, MemoryError, ValueError):
        raise ClaimError("the claim is nested too deeply", where) from None
    return _Converter(where, known, exponents).convert(body, 0)


_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}


def unbalanced(src: str, latex: bool = False) -> str | None:
    r"""Where the brackets of ``src`` do not pair up, as a message about the user's own text
    (columns from 1), or None.  In LaTeX ``\{`` and ``\}`` are characters, not braces."""
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if latex and ch == "\\" and i + 1 < len(src):
            i += 2  # \{, \}, \\: escaped
            continue
        if ch in _OPEN:
            stack.append((ch, i))
        elif ch in _CLOSE:
            if not stack or stack[-1][0] != _CLOSE[ch]:
                return f"unbalanced parenthesis at column {i + 1}: '{ch}' closes nothing"
            stack.pop()
        i += 1
    if stack:
        ch, i = stack[-1]
        return f"unbalanced parenthesis at column {i + 1}: '{ch}' is never closed"
    return None


_ROOT = re.compile(r"√\s*(?:\(|([A-Za-z_][A-Za-z0-9_]*|\d+))")
_PREFIX_SUM = re.compile(r"(Σ_columns|Σ_rows)\s+([A-Za-z_][A-Za-z0-9_]*(?:\.T)?)")


def _insert_juxtaposition(src: str, where, known=lambda name: False) -> str:
    """Write implicit products explicitly: ``(1/m) dZ1 X.T`` → ``(1/m) % dZ1 % X.T``.

    ``%`` (refused in the input) marks juxtaposition.  A name followed by
    ``(`` is a call only when it is a known function name."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type not in _SKIP]
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ClaimError(f"cannot read the claim: {exc.args[0] if exc.args else exc}", where) from None
    out, last = [], 0
    prev = before = None
    for tok in tokens:
        # x.astype(float) is a method call; U.T (dZ * r) and U.T(dZ) are products (.T is no method)
        method = before is not None and before.string == "." and tok.string == "(" and prev.string != "T"
        operands = prev is not None and _ends_operand(prev) and _starts_operand(tok)
        if operands and not method and not _is_call(prev, tok, known):
            col = tok.start[1]
            out.append(src[last:col])
            out.append(" % ")
            last = col
        prev, before = tok, prev
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

    def __init__(self, where, known=lambda name: False, exponents=frozenset()):
        self.where = where
        self.known = known
        self.exponents = exponents

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
        if isinstance(node, ast.Compare):
            return self.compare(node, d)
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

    def compare(self, node: ast.Compare, d: int) -> tuple:
        """``Z1 >= 0`` as the lectures' mask step(Z1) (1 at the kink, as ReLU'(0) = 1); ``Z1 > 0``: 0 there."""
        if len(node.ops) != 1:
            self.fail("a chained comparison is not allowed")
        left, right = self.convert(node.left, d), self.convert(node.comparators[0], d)
        u = left if right == num(0) else ("sub", left, right)
        op = type(node.ops[0])
        if op is ast.GtE:
            return ("call", STEP, (u,))
        if op is ast.Gt:
            return ("sub", num(1), ("call", STEP, (("neg", u),)))
        if op is ast.LtE:
            return ("call", STEP, (("neg", u),))
        if op is ast.Lt:
            return ("sub", num(1), ("call", STEP, (u,)))
        self.fail("'==' and '!=' are not allowed in a claim (write Z1 >= 0 for a mask)")

    def call(self, node: ast.Call, d: int) -> tuple:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "astype" and len(node.args) == 1 and not node.keywords:
            return self.convert(func.value, d)  # (Z1 > 0).astype(float): the mask as numbers
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
        if fname == "sum":
            return self.np_sum([self.convert(node.args[0], d)] if node.args else [], node.args[1:], node.keywords)
        args = tuple(self.convert(a, d) for a in node.args)
        if fname.endswith("'") and fname.rstrip("'") in ("exp", "log"):
            self.fail(f"write the derivative of {fname.rstrip(chr(39))} out, not {fname}(…)")
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
        if fname == "cast":
            return args[0]
        if fname in SUMS:
            return ("sum", args[0], SUMS[fname], True)
        return ("call", fname, args)

    def np_sum(self, args, positional, keywords) -> tuple:
        """``np.sum(x, axis=1, keepdims=True)``, also as ``np.sum(x, 1, keepdims=1)``."""
        if len(args) != 1 or len(positional) > 1:
            self.fail(f"np.sum(…) takes one array, {len(args) + len(positional)} given")
        axis, keepdims = None, False
        given = [("axis", positional[0])] if positional else []
        for key, value in given + [(kw.arg, kw.value) for kw in keywords]:
            constant = value.value if isinstance(value, ast.Constant) else None
            if key == "axis" and type(constant) is int and constant in (0, 1, -1):
                axis = 1 if constant == -1 else constant  # a 2-D array's last axis is its columns' index
            elif key == "keepdims" and (type(constant) is bool or (type(constant) is int and constant in (0, 1))):
                keepdims = bool(constant)
            else:
                self.fail(f"np.sum(…) allows only axis=0|1 and keepdims=True|False (got '{key}')")
        return ("sum", args[0], axis, keepdims)

    def check_power(self, base, exponent) -> None:
        e = const_value(exponent)
        if e is None and self.exponents and names_in(exponent) <= self.exponents:
            return  # β1**(t - 1): a named exponent the caller allows
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
