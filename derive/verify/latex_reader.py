r"""Read LaTeX claims as the lectures write them, with a lark grammar.

    (\hat{y}-y) w_1 a_1 (1-a_1) x_1          \sigma(z)(1-\sigma(z))
    a^{[2]} - y                              W^{[2]T} dZ^{[2]} \odot g'(Z^{[1]})
    \frac{1}{m} dZ^{[1]} X^T                 \frac{\partial L}{\partial W_{11}} = …

SymPy's ``parse_latex`` reads these wrongly; this reader knows the notation:

* juxtaposition is a product (``a_1(1-a_1)`` is not a call): only function
  names (``\sigma``, ``\tanh``, ``\log``, ``\exp``, ``\operatorname{ReLU}``,
  ``g``, ``g'``…) apply to what follows them;
* ``W^{[1]}`` is a layer superscript, not a power (``W^{[2]T}``: layer 2,
  transposed); ``X^T``, ``X^{\top}`` transpose;
* ``\hat{y}`` → ``yhat``; ``w_1`` → ``w1``, ``W_{11}`` → ``W11``; a letter
  subscript ``x_j`` is a free index, expanded by ``derive.verify.scalar``;
* a word is one name when the network declares it (``dZ``, ``yhat``),
  otherwise a product of letters (``xy`` → ``x·y``);
* ``\frac{\partial L}{\partial W_{11}}`` (or ``\partial L/\partial W_{11}``)
  is a derivative; as a left-hand side it names what the claim is for.

The result is the claim tree of ``derive.verify.claims`` — (lhs or None, rhs) —
with names as written (``a[2]`` for ``a^{[2]}``); the verifier maps them
onto the network's names (``a1`` or ``A1``, as the network declares them).
"""

from __future__ import annotations

import re
from functools import cache

import sympy as sp
from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from ..ops.record import claim_words, find, latex_commands
from .claims import MAX_DEPTH, MAX_LATEX_CHARS, STEP, SUMS, ClaimError, unbalanced

GRAMMAR = r"""
?start: expr | equation | update
equation: expr "=" expr
update: expr ARROW expr

?expr: term
     | expr "+" term            -> add
     | expr "-" term            -> sub
?term: factor
     | term DOT factor          -> jux2
     | term "*" factor          -> mul
     | term HADAMARD factor     -> mul
     | term "/" factor          -> div
?factor: jux
       | "-" factor             -> neg
       | "+" factor
jux: postfix+
   | postfix* SUM factor        -> sumjux
?postfix: primary
        | postfix "^" exponent  -> pow
        | postfix TRANSPOSE     -> transpose
        | postfix "'"           -> prime
?exponent: DIGIT                -> number
         | LETTER               -> letter
         | "{" expr "}"
?primary: symbol
        | NUMBER                -> number
        | "(" expr ")"
        | "[" expr "]"
        | "{" expr "}"
        | "\\frac" "{" expr "}" "{" expr "}"   -> frac
        | "\\sqrt" "{" expr "}"                -> sqrt
        | "\\partial" postfix                  -> dmark
        | "\\hat" "{" WORD "}" decor*          -> hat
        | "\\hat" WORD decor*                  -> hat
        | "\\tilde" "{" WORD "}" decor*        -> tilde
        | "\\tilde" WORD decor*                -> tilde
        | FUNC                                 -> func
        | RATE                                 -> rate
        | NAMED "{" WORD "}" decor*            -> named
        | NPSUM "(" expr ("," keyword)* ")"    -> npsum
        | "(" expr ("," expr)+ ")"             -> arglist
        | MAX                                  -> maxfunc
        | "\\frac" "{" "\\partial" "}" "{" "\\partial" postfix "}"  -> dop
        | KRON                                 -> kron
        | "\\lVert" expr "\\rVert"                -> norm
        | INDICATOR "[" expr COMPARE expr "]"  -> indicator
        | INDICATOR "_" "{" expr COMPARE expr "}"  -> indicator
symbol: WORD decor*
decor: SUB | LAYER
keyword: WORD "=" (DIGIT | NUMBER | WORD)

DOT: "\\cdot" | "\\times"
ARROW: "\\leftarrow" | "\\gets" | ":=" | "←"
RATE: "\\alpha" | "\\eta"
HADAMARD: "\\odot" | "\\circ" | "\\otimes"
FUNC: "\\sigma" | "\\tanh" | "\\log" | "\\ln" | "\\exp"
NAMED: "\\operatorname" | "\\mathrm" | "\\text" | "\\textrm" | "\\mathit" | "\\mathbf" | "\\boldsymbol"
INDICATOR.3: "\\mathbb{1}" | "\\mathbf{1}" | "\\mathbb{I}" | "\\mathbf{I}" | "\\mathbb 1"
COMPARE: "\\geq" | "\\ge" | ">=" | "\\leq" | "\\le" | "<=" | ">" | "<"
NPSUM.3: "np.sum" | "\\texttt{np.sum}" | "\\mathtt{np.sum}" | "\\text{np.sum}"
SUM.3: /\\sum(_\{([^{}]|\{[^{}]*\})*\}|_[A-Za-z])?(\^\{[^{}]*\}|\^[A-Za-z0-9])?/
MAX.3: "\\max"
KRON.3: /\\delta_\{?[ijkl]{2}\}?/
LAYER.2: /\^\{\s*\[\s*(\d+|L)\s*\]\s*(\(\s*[a-z]\s*\))?\s*(T|\\top|\\intercal)?\s*\}/
TRANSPOSE.2: /\^(\{\s*(T|\\top|\\intercal|\\mathsf\{T\}|\\mathrm\{T\})\s*\}|T(?![A-Za-z])|\\top|\\intercal)/
SUB: /_(\{([^{}]|\{[^{}]*\})*\}|[A-Za-z0-9])/
NUMBER: /\d+(\.\d+)?/
DIGIT: /\d/
LETTER: /[A-Za-z]/
WORD: /[A-Za-z]+/

%ignore /\s+/
%ignore /\\[,;:!]|\\qquad|\\quad|\\left(?![A-Za-z])|\\right(?![A-Za-z])|\\[bB]igg?(?![A-Za-z])|\\displaystyle|~/
"""

FUNCTION_WORDS = {  # every activation's words that LaTeX can write (\operatorname{ReLU}), then the rest
    **{word: name for word, name in claim_words().items() if word.isascii()},
    "log": "log",
    "ln": "log",
    "exp": "exp",
    "g": "g",
    "rowsum": "rowsum",
    "colsum": "colsum",
    "diag": "diag",  # \operatorname{diag}(s): a Hessian's X diag(s) Xᵀ
}
LOSS_SUBSCRIPTS = {"CE": "loss", "SE": "loss", "BCE": "loss", "MSE": "loss"}  # L_{\mathrm{CE}}(ŷ, y)
FUNC_COMMANDS = {**latex_commands(), r"\log": "log", r"\ln": "log", r"\exp": "exp"}
INDEX_LETTERS = "ijk"
UNICODE = {
    "−": "-",
    "·": r"\cdot ",
    "⊙": r"\odot ",
    "σ": r"\sigma ",
    "ŷ": r"\hat{y}",
    "∂": r"\partial ",
    "ᵀ": "^T",
    "²": "^2",
    "…": r"\dots ",
}


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


class _Func:
    """A function name waiting for its argument: ``\\sigma``, ``g'``, ``\\tanh^2``."""

    def __init__(self, name: str, primes: int = 0, power=None):
        self.name, self.primes, self.power = name, primes, power
        self.index = None


class _DMark:
    """``\\partial x``: half of a derivative."""

    def __init__(self, name: str):
        self.name = name


def parse_latex(src: str, where=None, vector: bool = False, known=None, exponents=frozenset()):
    """(lhs tree or None, rhs tree) for a LaTeX claim; ``known(name)`` says which words are whole names;
    ``exponents``: the names an exponent may hold besides numbers (an optimiser's ``\\beta_1^t``)."""
    if not isinstance(src, str):
        raise ClaimError("a claim must be text", where)
    if len(src) > MAX_LATEX_CHARS:
        raise ClaimError(f"the claim is too long ({len(src)} characters; at most {MAX_LATEX_CHARS})", where)
    text = src.strip().strip("$").strip()
    if not text:
        raise ClaimError("the claim is empty", where)
    problem = unbalanced(text, latex=True)
    if problem:
        raise ClaimError(problem, where)
    original = text
    for old, new in UNICODE.items():
        text = text.replace(old, new)
    text = _preprocess(text)
    depth = max(_depths(text), default=0)
    if depth > MAX_DEPTH:
        raise ClaimError("the claim is nested too deeply", where)
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as exc:
        raise ClaimError(_unreadable_at(original, text, exc.pos_in_stream), where) from None
    except UnexpectedEOF:
        raise ClaimError("the LaTeX ends too early", where) from None
    except UnexpectedInput as exc:
        tok = getattr(exc, "token", None)
        if tok is not None and str(tok) and getattr(tok, "start_pos", None) is not None:
            raise ClaimError(
                _unreadable_at(original, text, tok.start_pos, f"'{tok}' is not expected here"), where
            ) from None
        raise ClaimError("the LaTeX ends too early", where) from None
    except (LarkError, RecursionError) as exc:
        raise ClaimError(f"cannot read the LaTeX ({type(exc).__name__})", where) from None
    if _tree_depth(tree) > 2 * MAX_DEPTH:
        raise ClaimError("the claim is nested too deeply", where)
    try:
        out = _ToClaim(known or (lambda name: False), vector, exponents).transform(tree)
    except RecursionError:
        raise ClaimError("the claim is nested too deeply", where) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, ClaimError):
            raise ClaimError(exc.orig_exc.message, where) from None
        raise ClaimError(f"cannot read the LaTeX ({exc.orig_exc})", where) from None
    if isinstance(out, tuple) and out and out[0] == "equation":
        return _finish(out[1], where, lhs=True), _finish(out[2], where)
    return None, _finish(out, where)


_DIFFERENTIAL = re.compile(r"\\(?:mathrm|text|textrm|operatorname|mathit)\{d\}\s*(?=[A-Za-z])")
_DELTA_POWER = re.compile(r"\\delta\s*(_\{[^{}]*\}|_[A-Za-z0-9])?\s*\^\s*(?:\{\s*(\d+|L)\s*\}|(\d|L))")
_DELTA = re.compile(r"\\delta(?![A-Za-z])(?!\s*_\{?[ijkl]{2}\}?)")


_DOTS = re.compile(r"((?:\\hat\{[A-Za-z]+\}|[A-Za-z]+)(?:\^\{\[\d+\]\})?)_\{?(\d+)\}?,\s*\\[lc]?dots,\s*\1_\{?(\d+)\}?")


def _expand_dots(text: str) -> str:
    """``z_1, \\dots, z_6`` → ``z_1, z_2, …, z_6`` written out (at most 100 names)."""

    def write(m):
        base, low, high = m.group(1), int(m.group(2)), int(m.group(3))
        if not 0 <= high - low <= 100:
            raise ClaimError(f"cannot write out '{m.group(0)}'")
        return ", ".join(f"{base}_{{{k}}}" for k in range(low, high + 1))

    return _DOTS.sub(write, text)


def _preprocess(text: str) -> str:
    """Notation read before parsing: ``\\mathrm{d}Z`` → ``dZ``; Nielsen's ``\\delta^2``, ``\\delta^L``
    → ``delta^{[2]}``; any other ``\\delta`` (not the Kronecker ``\\delta_{ij}``) → the name ``delta``."""
    text = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", text)  # \dfrac, \tfrac
    text = re.sub(r"\\mathcal\s*\{\s*([A-Za-z])\s*\}", r"\1", text)  # \mathcal{L}: the loss L
    text = re.sub(r"\\(?:var)?epsilon(?![A-Za-z])", "eps ", text)  # ε, as networks name it
    text = re.sub(r"\^\s*\{\s*\[\s*(\d+|L)\s*\]\s*\\prime\s*\}", r"^{[\1]}'", text)  # g^{[1]\prime}
    text = re.sub(r"\^\s*\{?\s*\\prime\s*\}?", "'", text)  # \sigma^{\prime}(z)
    text = re.sub(r"\\sqrt\s+([A-Za-z0-9])", r"\\sqrt{\1}", text)  # \sqrt d
    text = re.sub(r"\\gamma(?![A-Za-z])", "gamma", text)
    text = re.sub(r"\\beta(?![A-Za-z])", "beta", text)
    text = re.sub(r"\\Gamma(?![A-Za-z])", "Gamma", text)  # the LSTM's gates Γ_f, Γ_u, Γ_o
    text = re.sub(
        r"(?:\\(?:mathrm|text|operatorname)\{d\}|(?<![A-Za-z\\])d)\s*\\(hat|tilde)\s*\{([A-Za-z]+)\}",
        r"\\\1{d\2}",
        text,
    )
    text = _DIFFERENTIAL.sub("d", text)
    # a name with an underscore, keep\_prob or \text{keep\_prob}: one word (matched to keep_prob by name)
    text = re.sub(r"\\(?:text|mathit|mathrm|textrm)\{([A-Za-z]+(?:\\_[A-Za-z]+)+)\}", r"\1", text)
    text = re.sub(r"([A-Za-z]+)\\_([A-Za-z]+)", r"\1\2", text)
    text = re.sub(r"\\rVert\s*_\s*\{?F\}?", r"\\rVert", text)  # the Frobenius norm ‖W‖_F
    text = re.sub(r"\\lambda(?![A-Za-z])", "lam ", text)  # λ, the weight decay, as networks name it
    text = _expand_dots(text)
    text = re.sub(r";\s*(\\\s)?", ", ", text)  # L(ŷ1, …, ŷK; y1, …, yK): the two lists are its arguments
    text = re.sub(r"\^\{\s*\\odot\s*(-?\s*\d+)\s*\}", r"^{\1}", text)  # (A)^{⊙2}, ^{⊙-1}: entry by entry
    text = re.sub(r"(?<=[A-Za-z}])\^\s*(?:L|\{\s*L\s*\})(?![A-Za-z])", "^{[L]}", text)  # Nielsen's a^L, z^L: layer L
    text = _DELTA_POWER.sub(lambda m: f"delta{m.group(1) or ''}^{{[{m.group(2) or m.group(3)}]}}", text)
    return _DELTA.sub("delta ", text)


def _tree_depth(tree) -> int:
    """The depth of a lark tree, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in getattr(node, "children", ()))
    return deepest


def _depths(text: str):
    depth = 0
    for ch in text:
        depth += ch in "({["
        depth -= ch in ")}]"
        yield depth


_COMMAND = re.compile(r"\\[A-Za-z]+")


def _unreadable_at(original: str, text: str, pos: int, what: str | None = None) -> str:
    """Where the reader stopped, in the user's own text (single backslashes, columns of what they wrote):
    the command it does not know (``\\mathscr``), else the text around that place."""
    command = next((m.group() for m in _COMMAND.finditer(text) if m.start() <= pos < max(m.end(), m.start() + 1)), None)
    if command is None and text[pos : pos + 1] == "{":  # \foo{…}: the command before the brace
        before = [m for m in _COMMAND.finditer(text) if m.end() == pos]
        command = before[0].group() if before else None
    if command is not None and command in original:
        return f"cannot read the LaTeX at column {original.index(command) + 1}: {command} is not supported"
    near = text[max(0, pos - 10) : pos + 10]
    column = original.find(near) + 1 + min(pos, 10) if near in original else pos + 1
    return f"cannot read the LaTeX at column {column}: {what or 'not understood'}, near '{near}'"


def _finish(node, where, lhs: bool = False):
    if isinstance(node, _Func):
        raise ClaimError(f"the function '{node.name}' has no argument", where)
    if isinstance(node, _DMark):
        raise ClaimError(f"'∂{node.name}' is half of a derivative: write \\frac{{\\partial …}}{{\\partial …}}", where)
    return node


def _strip_braces(s: str) -> str:
    s = s.strip()
    while s.startswith("{") and s.endswith("}"):
        s = s[1:-1].strip()
    return s


_TEXT_IN_SUB = re.compile(r"\\(?:text|mathrm|textrm|mathit)\{([^{}]*)\}")


def decorations(items) -> tuple[str, str | None, bool]:
    """(subscript, layer, transposed) from SUB and LAYER tokens."""
    sub, layer, transposed = "", None, False
    for tok in items:
        if tok.type == "SUB":
            raw = _TEXT_IN_SUB.sub(r"\1", _strip_braces(str(tok)[1:]))
            sub += re.sub(r"\s", "", raw)
        else:
            m = re.search(r"\[\s*(\d+|L)\s*\]", str(tok))
            layer = m.group(1)
            transposed = bool(re.search(r"\]\s*(T|\\top|\\intercal)", str(tok)))
    return sub, layer, transposed


def compose(base: str, sub: str, layer: str | None, known=None) -> str:
    """The claim-tree name: ``W``+``11`` → ``W11``; ``a``+layer 2 → ``a[2]``; ``x``+``j`` → ``x_j`` (an index);
    ``W``+``2,11`` → ``W2_11`` when the network declares it, else ``W211``; ``W``+layer 1+``12`` →
    ``W[1]_12`` (entry 1, 2 of layer 1's W; ``W[1]_1,2`` with a comma); ``out``+``o1`` → ``out_o1``
    when the network declares it."""
    if sub and not re.fullmatch(r"[A-Za-z0-9,]+", sub):
        raise ClaimError(f"cannot read the subscript '{sub}' of '{base}'")
    if sub and layer is not None:
        return f"{base}[{layer}]_{sub}"
    if "," in sub:
        joined = base + sub.replace(",", "_")
        if known is not None and known(joined):
            return joined
        sub = sub.replace(",", "")
    if sub:
        if all(ch in INDEX_LETTERS for ch in sub):
            return f"{base}_{sub}"
        if known is not None and known(f"{base}_{sub}") and not known(base + sub):
            return f"{base}_{sub}"
        return base + sub
    if layer is not None:
        return f"{base}[{layer}]"
    return base


class _Args:
    """``(a, b)``: the arguments of a function of two variables."""

    def __init__(self, items: tuple):
        self.items = items


class _DOp:
    """``\\frac{\\partial}{\\partial x}``: a derivative waiting for what it differentiates."""

    def __init__(self, name: str):
        self.name = name


class _ToClaim(Transformer):
    """lark tree → claim tree."""

    def __init__(self, known, vector: bool, exponents=frozenset()):
        super().__init__()
        self.known = known
        self.vector = vector
        self.exponents = exponents

    # -------------------------------------------------------------- names
    def symbol(self, items):
        word, decor = str(items[0]), items[1:]
        sub, layer, transposed = decorations(decor)
        if word == "L" and sub in LOSS_SUBSCRIPTS and layer is None:
            return _Func(LOSS_SUBSCRIPTS[sub])
        named = re.fullmatch(r"([A-Za-z]+)_\{?([A-Za-z0-9,]+)\}?", sub) if word == "delta" else None
        if named:  # \delta_{e_{11}}: the error ∂L/∂e11 of a named node
            return ("name", f"delta({compose(named.group(1), named.group(2), layer, self.known)})")
        name = compose(word, sub, layer, self.known)
        differential = len(word) > 1 and word.startswith("d") and self.known(word[1:] + name[len(word) :])
        if word == "delta" or differential:
            node = ("name", name)  # δ^{[2]} (the error of layer 2) or dW^{[1]}_{12} (a gradient)
        elif self.known(name) or len(word) == 1:
            node = self._name(name)
        elif word in FUNCTION_WORDS:
            return _Func(FUNCTION_WORDS[word])
        else:  # a product of one-letter names, the last one decorated
            parts = [self._name(ch) for ch in word[:-1]] + [self._name(compose(word[-1], sub, layer))]
            node = parts[0]
            for p in parts[1:]:
                node = ("jux", node, p)
            return ("T", node) if transposed else node
        return ("T", node) if transposed else node

    def _name(self, name: str):
        if self.known(name) and name != "g":
            return ("name", name)
        if name in FUNCTION_WORDS and not self.known(name) and name != "g":
            return _Func(FUNCTION_WORDS[name])
        if name == "g":
            return _Func("g")
        if name.startswith("g[") or re.fullmatch(r"g\d", name):
            return _Func("g")
        return ("name", name)

    def decor(self, items):
        return items[0]

    def hat(self, items):
        word = str(items[0])
        sub, layer, transposed = decorations(items[1:])
        node = ("name", compose(word + "hat", sub, layer))
        return ("T", node) if transposed else node

    def tilde(self, items):
        word = str(items[0])
        sub, layer, transposed = decorations(items[1:])
        node = ("name", compose(word + "tilde", sub, layer))
        return ("T", node) if transposed else node

    def named(self, items):
        word = str(items[1])
        if word in ("d", "delta"):
            raise ClaimError(f"'\\{str(items[0]).lstrip(chr(92))}{{{word}}}' must be followed by a name")
        if word in FUNCTION_WORDS or word.lower() in FUNCTION_WORDS:
            f = _Func(FUNCTION_WORDS.get(word, FUNCTION_WORDS.get(word.lower())))
            sub, _, _ = decorations(items[2:])
            if (
                getattr(find(f.name), "form", None) == "component" and sub.isdigit()
            ):  # \operatorname{softmax}_{k}(z_1, …, z_K): component k
                f.index = int(sub)
            return f
        sub, layer, transposed = decorations(items[2:])
        node = ("name", compose(word, sub, layer, self.known))
        return ("T", node) if transposed else node

    def func(self, items):
        return _Func(FUNC_COMMANDS[str(items[0])])

    def number(self, items):
        import sympy as sp

        return ("num", sp.Rational(str(items[0])))

    def letter(self, items):
        return self._name(str(items[0]))

    # ---------------------------------------------------------- operators
    def add(self, items):
        return ("add", self._value(items[0]), self._value(items[1]))

    def sub(self, items):
        return ("sub", self._value(items[0]), self._value(items[1]))

    def mul(self, items):
        return ("mul", self._value(items[0]), self._value(items[-1]))

    def jux2(self, items):
        return ("jux", self._value(items[0]), self._value(items[-1]))

    def div(self, items):
        a, b = items
        if isinstance(a, _DMark) and isinstance(b, _DMark):
            return ("partial", a.name, b.name)
        return ("div", self._value(a), self._value(b))

    def neg(self, items):
        return ("neg", self._value(items[0]))

    def frac(self, items):
        a, b = items
        if isinstance(a, _DMark) and isinstance(b, _DMark):
            return ("partial", a.name, b.name)
        if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "name":
            top, bottom = a[1], b[1]
            both_d = top.startswith("d") and bottom.startswith("d") and len(top) > 1 and len(bottom) > 1
            if both_d and not self.known(top) and not self.known(bottom):
                return ("partial", top[1:], bottom[1:])
        return ("div", self._value(a), self._value(b))

    def dmark(self, items):
        node = items[0]
        if isinstance(node, tuple) and node[0] == "name":
            return _DMark(node[1])
        raise ClaimError("∂ must be followed by a name")

    def pow(self, items):
        base, exponent = items
        exponent = self._value(exponent)
        if isinstance(base, _Func):  # \tanh^2(z)
            base.power = exponent
            return base
        if base == ("name", "e") and not self.known("e"):  # e^{-z}
            return ("call", "exp", (exponent,))
        from .claims import _Converter

        _Converter(None, exponents=self.exponents).check_power(self._value(base), exponent)
        return ("pow", self._value(base), exponent)

    def transpose(self, items):
        return ("T", self._value(items[0]))

    def prime(self, items):
        node = items[0]
        if isinstance(node, _Func):
            node.primes += 1
            return node
        raise ClaimError("a prime (') must follow a function name: g'(z), \\sigma'(z)")

    def jux(self, items):
        """A run of juxtaposed factors: a function applies to the next factor, the rest multiply."""
        out = None
        i = 0
        while i < len(items):
            item = items[i]
            if isinstance(item, _DOp):
                if i + 1 >= len(items):
                    raise ClaimError(f"∂/∂{item.name} has nothing to differentiate")
                rest = self.jux(items[i + 1 :])
                value = ("dop", item.name, self._value(rest))
                i = len(items)
            elif isinstance(item, _Func):
                if i + 1 >= len(items):
                    raise ClaimError(f"the function '{item.name}' has no argument")
                arg = items[i + 1]
                if isinstance(arg, _Func):
                    raise ClaimError(f"the function '{item.name}' is applied to a function")
                value = self._apply(item, arg.items if isinstance(arg, _Args) else (self._value(arg),))
                i += 2
            else:
                value = item
                i += 1
            out = value if out is None else ("jux", self._value(out), self._value(value))
        return out

    def sqrt(self, items):
        return ("call", "sqrt", (self._value(items[0]),))

    def _apply(self, f: _Func, args: tuple):
        if f.primes > 1:
            raise ClaimError(f"only first derivatives are allowed ({f.name}{'′' * f.primes})")
        if f.name in SUMS and not f.primes and len(args) == 1:  # \operatorname{rowsum}(dP ⊙ P)
            return ("sum", args[0], SUMS[f.name], True)
        if f.index is not None:
            args = (("num", sp.Integer(f.index)), *args)
        node = ("call", f.name + "'" * f.primes, args)
        return ("pow", node, f.power) if f.power is not None else node

    def npsum(self, items):
        arg, keywords = items[1], items[2:]
        axis, keepdims = None, False
        for key, value in keywords:
            if key == "axis" and value in ("0", "1", "-1"):
                axis = int(value)
            elif key == "keepdims" and value in ("True", "False"):
                keepdims = value == "True"
            else:
                raise ClaimError(f"np.sum(…) allows only axis=0|1 and keepdims=True|False (got '{key}')")
        return ("sum", self._value(arg), axis, keepdims)

    def indicator(self, items):
        """``\\mathbb{1}[z \\geq 0]`` = step(z) (1 at the kink, as the lectures' ReLU'); ``> 0``: 0 there."""
        left, op, right = self._value(items[1]), str(items[2]), self._value(items[3])
        u = left if right == ("num", 0) else ("sub", left, right)
        if op in (r"\geq", r"\ge", ">="):
            return ("call", STEP, (u,))
        if op == ">":
            return ("sub", ("num", 1), ("call", STEP, (("neg", u),)))
        if op in (r"\leq", r"\le", "<="):
            return ("call", STEP, (("neg", u),))
        return ("sub", ("num", 1), ("call", STEP, (u,)))

    def arglist(self, items):
        return _Args(tuple(self._value(x) for x in items))

    def norm(self, items):
        return ("call", "norm", (self._value(items[0]),))

    def maxfunc(self, items):
        return _Func("max")

    def kron(self, items):
        letters = re.sub(r"[^ijkl]", "", str(items[0])[len("\\delta") :])
        return ("kron", letters[0], letters[1])

    def dop(self, items):
        node = items[0]
        if isinstance(node, tuple) and node[0] == "name":
            return _DOp(node[1])
        raise ClaimError("∂ must be followed by a name")

    def sumjux(self, items):
        *before, token, body = items
        node = self._sum(str(token), self._value(body))
        if before:
            prefix = self.jux(before)
            return ("jux", self._value(prefix), node)
        return node

    def _sum(self, token: str, body):
        """``\\sum_{\\text{columns}}``, ``\\sum_{i=1}^{m}`` (over the examples: a column sum), ``\\sum_{\\text{rows}}`` or
        ``\\sum_{k}``, ``\\sum_{k=1}^{K}`` (over an index: classes, units)."""
        m = re.fullmatch(r"\\sum(?:_(\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z]))?(?:\^(\{[^{}]*\}|[A-Za-z0-9]))?", token)
        sub = _TEXT_IN_SUB.sub(r"\1", _strip_braces(m.group(1) or "")).replace(" ", "")
        sup = _strip_braces(m.group(2) or "").replace(" ", "")
        if "column" in sub or "example" in sub or "batch" in sub or sup == "m":
            return ("sum", body, 1, True)
        if "row" in sub:  # Σ_rows: down each column (a 1×m row)
            return ("sum", body, 0, True)
        index = re.fullmatch(r"([a-z])(?:=(\d+))?", sub)
        if index is None:
            raise ClaimError(
                f"cannot tell what '\\sum_{{{sub}}}' sums over (write \\sum_{{k}} or \\sum_{{\\text{{columns}}}})"
            )
        low = int(index.group(2)) if index.group(2) else None
        high = int(sup) if sup.isdigit() else None
        return ("isum", index.group(1), low, high, body)

    def keyword(self, items):
        return str(items[0]), str(items[1])

    def equation(self, items):
        return ("equation", items[0], items[1])

    def update(self, items):
        return ("equation", ("update", self._value(items[0])), items[2])

    def rate(self, items):
        return ("name", str(items[0]).lstrip("\\"))

    def _value(self, node):
        if isinstance(node, _Args):
            raise ClaimError("a list of arguments (a, b) belongs after a function name")
        if isinstance(node, _DOp):
            raise ClaimError(f"∂/∂{node.name} has nothing to differentiate")
        if isinstance(node, _Func):
            raise ClaimError(f"the function '{node.name}' has no argument")
        if isinstance(node, _DMark):
            raise ClaimError(f"'∂{node.name}' is half of a derivative: write \\frac{{\\partial …}}{{\\partial …}}")
        if isinstance(node, Token):
            raise ClaimError(f"unexpected '{node}'")
        return node
