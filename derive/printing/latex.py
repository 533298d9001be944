"""LaTeX for derivation expressions and steps, as a lecturer writes them.

``StepLatexPrinter`` subclasses SymPy's ``LatexPrinter`` and dispatches on
class names (``_print_NetFunctionBase`` for every activation and loss); function
names come from the ``latex`` field of each function's record (``derive.ops``).  Like the text printer it
keeps products in chain order and puts positive terms first.  Names are
written as lecturers write them: ``yhat`` → ``\\hat{y}``, ``W11`` → ``W_{11}``,
``x1`` → ``x_1``; with ``layers=True``, ``A1`` → ``A^{[1]}`` and
``dZ1`` → ``dZ^{[1]}``.

The step objects of ``derive.steps`` display in Jupyter through
``_repr_latex_``, which calls ``step_latex`` here.  The handout printer in
``codegen.render.latex_printer`` builds on this class.
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix
from sympy.printing.latex import LatexPrinter
from sympy.printing.latex import translate as _translate

from ..ops import find, records
from .matrix import SumDepth, adjoint_first, is_broadcast, is_constant, is_row_broadcast, unbroadcast, untransposed
from .text import join_sum

_HAT = re.compile(r"^([A-Za-z]+?)hat(\d*)$")
_ACCENT = re.compile(r"^(d?)([A-Za-z]+?)(hat|tilde)(\d*)$")  # Zhat1, Ztilde1, dZtilde1: \hat{Z}, \tilde{Z}
_GREEK_INDEXED = re.compile(r"^(d?)(mu|var|gamma|beta|sigma|alpha|lam)(\d*)$")  # batch norm's statistics and scales
_INDEXED = re.compile(r"^([A-Za-z]*[A-Za-z])(\d+)$")
_LAYERED = re.compile(r"^(d?)([A-Za-z])(\d+)$")
_COMBINING_HAT = "\u0302"


# Greek letters as programs spell them where Python reserves or abbreviates the name (λ is ``lambda``)
SPELLED_GREEK = {"lam": r"\lambda", "lambd": r"\lambda", "eps": r"\varepsilon", "epsilon": r"\varepsilon"}


def _base(letters: str) -> str:
    """A name's letters in LaTeX: Greek names become commands (``lam`` and ``lambd`` too: λ; ``eps``: ε),
    others stay as they are; a letter outside ASCII becomes a command pdfLaTeX knows in math (α → \\alpha,
    é → \\acute{e})."""
    if letters in SPELLED_GREEK:
        return SPELLED_GREEK[letters]
    tex = _translate(letters)
    return "".join(_letter(ch) if ord(ch) > 127 else ch for ch in tex)


_ACCENTS = {"\u0301": "acute", "\u0300": "grave", "\u0308": "ddot", "\u0302": "hat", "\u0303": "tilde",
            "\u0304": "bar", "\u0307": "dot", "\u030c": "check", "\u0306": "breve"}  # fmt: skip


def _letter(ch: str) -> str:
    described = unicodedata.name(ch, "")
    if described.startswith("GREEK") and " LETTER " in described:
        word = described.split(" LETTER ", 1)[1].split()[0].lower()
        capital = "CAPITAL" in described
        tex = _translate(word.capitalize() if capital else word)
        if tex.startswith("\\") or tex.isascii():
            return tex + (" " if tex.startswith("\\") else "")
    base, *marks = unicodedata.normalize("NFKD", ch)
    if base.isascii() and base.isalnum():
        for mark in marks:
            base = f"\\{_ACCENTS[mark]}{{{base}}}" if mark in _ACCENTS else base
        return base
    return rf"\mathrm{{u{ord(ch):04x}}}"


def _sub(digits: str) -> str:
    return f"_{digits}" if len(digits) == 1 else f"_{{{digits}}}"


def name_latex(name: str, layers: bool = False, delta: bool = False) -> str:
    """A variable name in LaTeX (see the module docstring).

    ``layers=True`` reads a trailing number as a layer index (``Z1`` →
    ``Z^{[1]}``); ``delta=True`` writes the gradient ``dZ1`` as
    ``\\delta^{[1]}``.
    """
    if "∂" in name and "/" in name:  # a symbol standing for a partial, ∂L/∂ŷ
        of, wrt = name.split("/", 1)
        return partial_latex(of.lstrip("∂"), wrt.lstrip("∂"), layers=layers, delta=delta)
    if "_" in name.strip("_"):  # W2_11: the part after "_" is a further subscript
        head, tail = name.strip("_").split("_", 1)
        head_tex = name_latex(head, layers=layers, delta=delta)
        tail_tex = "".join(_letter(ch) if ord(ch) > 127 else ch for ch in tail).replace("_", ",")
        m = re.match(r"^(.*)_\{?([^{}]*)\}?$", head_tex)
        if m and "^" not in head_tex:
            return f"{m.group(1)}_{{{m.group(2)},{tail_tex}}}"
        return f"{head_tex}_{{{tail_tex}}}"
    if _COMBINING_HAT in name:
        name = re.sub(r"([A-Za-z])" + _COMBINING_HAT, r"\1hat", name)
    if layers:
        m = _ACCENT.match(name) or _GREEK_INDEXED.match(name)
        if m and (m.re is _GREEK_INDEXED or len(m.group(2)) == 1):
            d, letters, *rest = m.groups()
            layer = rest[-1]
            if m.re is _ACCENT:
                body = rf"\{rest[0]}{{{letters}}}"
            else:
                body = r"\sigma^{2}" if letters == "var" else _base(letters)
            if layer:
                body = body[:-1] + rf"\,[{layer}]}}" if body.endswith("^{2}") else rf"{body}^{{[{layer}]}}"
            return (r"\mathrm{d}" if d else "") + body
    m = _HAT.match(name)
    if m:
        return rf"\hat{{{_base(m.group(1))}}}" + (_sub(m.group(2)) if m.group(2) else "")
    if layers:
        m = _LAYERED.match(name)
        if m:
            d, letter, layer = m.groups()
            if d and delta and letter in "Zz":
                return rf"\delta^{{[{layer}]}}"
            prefix = r"\mathrm{d}" if d else ""
            return rf"{prefix}{letter}^{{[{layer}]}}"
    if layers and re.fullmatch(r"[A-Z][a-z]|b[a-z]", name):  # the LSTM's W_f, U_f, Z_f, b_f (Ng, course 5)
        return f"{name[0]}_{{{name[1]}}}"
    if len(name) > 1 and _greek(name[0]) and name[1:].isascii() and name[1:].isalpha():
        return f"{_base(name[0]).strip()}_{{{name[1:]}}}"  # Γf: the forget gate Γ_f (Ng, course 5)
    m = _INDEXED.match(name)
    if m:
        return _base(m.group(1)) + _sub(m.group(2))
    return _base(name)


def _greek(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("GREEK")


def partial_latex(of: str, wrt: str, **names) -> str:
    """``\\frac{\\partial L}{\\partial \\hat{y}}``."""
    return rf"\frac{{\partial {name_latex(of, **names)}}}{{\partial {name_latex(wrt, **names)}}}"


# Rule texts (``Rule.why``) are written in Unicode for the terminal; this
# turns them into LaTeX without a second copy of the rules.
_WHY = [
    ("  ", r"\quad "),
    ("ŷ", r"\hat{y}"),
    ("−", "-"),
    ("≥", r"\geq "),
    ("≤", r"\leq "),
    ("·", r"\cdot "),
    ("½", r"\tfrac{1}{2}"),
    ("Σ", r"\sum "),
    ("∂", r"\partial "),
    ("σ", r"\sigma"),
    ("δ", r"\delta"),
    ("²", "^2"),
    ("³", "^3"),
    ("π", r"\pi "),
    ("ᵢ", "_i"),
    ("ⱼ", "_j"),
    ("ₖ", "_k"),
    ("ₖⱼ", "_{kj}"),
]
# the functions' names in a rule's text (tanh, ReLU, softplus …) as their records write them in LaTeX
_WORD_LATEX = {
    r.text: r.latex if r.latex in (rf"\{r.text}", rf"\operatorname{{{r.text}}}") else rf"\operatorname{{{r.text}}}"
    for r in records()
    if r.text.isalpha() and r.text.isascii()
}
_WORDS = re.compile(r"(?<![\\A-Za-z])(" + "|".join(sorted(_WORD_LATEX, key=len, reverse=True)) + r")(?![A-Za-z])")
_PHRASE = re.compile(r"(\s?)\b(for|almost everywhere|and|if|otherwise)\b(\s?)")


def why_latex(why: str) -> str:
    """A rule's reason (``σ'(z) = σ(z)(1 − σ(z))``) as LaTeX math."""
    out = re.sub(r"([A-Za-z])" + _COMBINING_HAT, r"\\hat{\1}", why)
    out = re.sub(r"√\(([^()]*)\)", r"\\sqrt{\1}", out)  # √(2/π): a root of what the parentheses hold
    out = out.replace("ₖⱼ", "_{kj}")
    for old, new in _WHY:
        out = out.replace(old, new)
    out = _PHRASE.sub(lambda m: rf"\text{{{m.group(1)}{m.group(2)}{m.group(3)}}}", out)
    out = _WORDS.sub(lambda m: _WORD_LATEX[m.group(1)], out)
    out = out.replace(", ", r",\ ")
    return out


class StepLatexPrinter(SumDepth, LatexPrinter):
    """Readable LaTeX: ``(\\hat{y} - y) w_1 a_1 (1 - a_1) x_1``.

    Settings beyond SymPy's: ``layers`` and ``delta`` (name notation, see
    ``name_latex``), ``names`` (name → LaTeX, overriding), ``values``
    (name → number: print the number instead of the name, as in a worked
    example), ``marked`` (expressions drawn in colour ``mark``, such as a
    factor that cancels).
    """

    _default_settings: ClassVar[dict] = {
        **LatexPrinter._default_settings,
        "order": "none",
        "layers": False,
        "delta": False,
        "quantities": frozenset(),  # names whose d<name> is a gradient: \mathrm{d} in front
        "names": {},
        "values": {},
        "marked": (),
        "mark": "red",
        "number": None,
    }

    def _print(self, expr, **kwargs):
        marked = self._settings["marked"]
        if marked and isinstance(expr, sp.Basic) and expr in marked:
            inner = dict(self._settings)
            self._settings["marked"] = ()
            try:
                body = super()._print(expr, **kwargs)
            finally:
                self._settings = inner
            return rf"\textcolor{{{self._settings['mark']}}}{{{body}}}"
        return super()._print(expr, **kwargs)

    # ------------------------------------------------------------ names
    def _print_Symbol(self, expr, style="plain"):
        name = expr.name
        if name in self._settings["values"]:
            return self._number(self._settings["values"][name])
        if name in self._settings["names"]:
            return self._settings["names"][name]
        out = name_latex(name, layers=self._settings["layers"], delta=self._settings["delta"])
        head, _, tail = name.partition("_")
        quantities = self._settings["quantities"]
        if head.startswith("d") and head[1:] in quantities and not out.startswith((r"\mathrm{d}", r"\delta")):
            rest = head[1:] + (f"_{tail}" if tail else "")
            return r"\mathrm{d}" + name_latex(rest, layers=self._settings["layers"], delta=self._settings["delta"])
        return out

    def _number(self, value) -> str:
        fmt = self._settings["number"]
        text = fmt(value) if fmt else self._print(sp.sympify(value))
        return text

    def _value_is_negative(self, expr) -> bool:
        values = self._settings["values"]
        return expr.is_Symbol and expr.name in values and float(values[expr.name]) < 0

    # ------------------------------------------------------------ arithmetic
    def _print_Add(self, expr, order=None):
        return join_sum(expr, self._add_term, "-")

    def _add_term(self, term):
        marked = self._settings["marked"]
        if marked and term in marked:  # a term of a sum is not a cancelled factor
            self._settings["marked"] = ()
            try:
                return self._add_term(term)
            finally:
                self._settings["marked"] = marked
        text = self._print(term)
        if term.is_Add or self._value_is_negative(term):
            return rf"\left({text}\right)"
        return text

    def _print_Mul(self, expr):
        args = list(expr.args)
        if args and args[0].is_Number and args[0].is_negative and len(args) > 1:
            rest = ordered_rest(-args[0], args[1:])
            text = self._print(rest)
            if rest.is_Add:
                text = rf"\left({text}\right)"
            return f"-{text}"
        num, den = [], []
        for f in args:
            if f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                den.append(sp.Pow(f.base, -f.exp) if f.exp != -1 else f.base)
            elif f.is_Rational and f.q != 1 and f.p == 1:
                den.append(sp.Integer(f.q))
            elif f.is_Rational and f.q != 1:
                num.append(sp.Integer(f.p))
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        num_text = self._product(num, in_frac=bool(den)) if num else "1"
        if not den:
            return num_text
        return rf"\frac{{{num_text}}}{{{self._product(den, in_frac=True)}}}"

    def _product(self, factors, in_frac: bool) -> str:
        """Factors side by side; ``\\cdot`` before a number; parentheses where needed."""
        parts = []
        for i, f in enumerate(factors):
            text = self._print(f)
            needs = f.is_Add or (f.is_Number and f.is_negative) or self._value_is_negative(f)
            needs = needs or (f.is_Mul and f.could_extract_minus_sign())
            if needs and not (in_frac and len(factors) == 1):
                text = rf"\left({text}\right)"
            if i and (f.is_Number or (self._settings["values"] and f.is_Symbol)):
                parts.append(r" \cdot " + text)
            elif i:
                parts.append(" " + text)
            else:
                parts.append(text)
        return "".join(parts)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Rational and exp.is_negative:
            return self._print_Mul(sp.Mul(sp.S.One, expr, evaluate=False))
        b = self._print(base)
        if exp == sp.S.Half:  # attention's 1/√d
            return rf"\sqrt{{{b}}}"
        simple = base.is_Symbol and not self._value_is_negative(base) or (base.is_Integer and base >= 0)
        if not simple or "^" in b:  # also a name with a superscript: (a^{[1]}_{1})^{2}
            b = rf"\left({b}\right)"
        return f"{b}^{{{self._print(exp)}}}"

    def _print_Float(self, expr):
        short = f"{float(expr):.4g}"
        if float(short) == float(expr) and "e" not in short:  # a declared coefficient (0.001): as given
            return short
        if self._settings["number"]:
            return self._settings["number"](float(expr))
        return super()._print_Float(expr)

    # ------------------------------------------------------------ functions
    def _call(self, name: str, args) -> str:
        inner = ", ".join(self._print(a) for a in args)
        if "frac" in inner:
            return rf"{name}\left({inner}\right)"
        return f"{name}({inner})"

    def _print_NetFunctionBase(self, expr):
        """Every activation and loss, by its record's ``form``: \\sigma(z_1), \\mathbf{1}[z_1 \\geq 0], …"""
        rec = expr.record
        if rec.form == "indicator":
            return rf"{rec.latex}[{self._print(expr.args[0])} \geq 0]"
        if rec.form == "component":
            k, zs = expr.args[0], expr.args[1:]
            name = rf"{rec.latex}_{{{self._print(k)}}}"
            if len(zs) > 3 and all(z.is_Symbol for z in zs) and not self._settings["values"]:
                return rf"{name}({self._print(zs[0])}, \dots, {self._print(zs[-1])})"
            return self._call(name, zs)
        if rec.form == "pairs":
            return self._loss(rec.latex, expr)
        return self._call(rec.latex, expr.args)

    def _loss(self, name, expr):
        k = len(expr.args) // 2
        if k == 1:
            return self._call(name, expr.args)
        yh, y = expr.args[:k], expr.args[k:]
        if k > 3 and not self._settings["values"]:
            return rf"{name}({self._print(yh[0])}, \dots, {self._print(yh[-1])};\ {self._print(y[0])}, \dots, {self._print(y[-1])})"
        return rf"{name}({', '.join(map(self._print, yh))};\ {', '.join(map(self._print, y))})"

    def _print_exp(self, expr):
        return f"e^{{{self._print(expr.args[0])}}}"

    def _print_log(self, expr):
        return self._call(r"\log", expr.args)

    # ------------------------------------------------------------ matrices (the batch form)
    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(sp.Symbol(expr.name))

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_HadamardProduct(self, expr):
        if untransposed(expr) is not None:
            return self._print(sp.Transpose(untransposed(expr)))  # (h \odot r)^T, not h^T \odot r^T
        if all(is_broadcast(f) or is_row_broadcast(f) for f in expr.args):
            return r" \odot ".join(self._matrix_factor(a, HADAMARD) for a in expr.args)
        self._in_sum += 1  # a full-shape factor: a column or row is repeated against it, as NumPy broadcasts
        try:
            num, den = [], []
            for f in adjoint_first(map(unbroadcast, expr.args)):
                if isinstance(f, sp.HadamardPower) and f.exp == -1:
                    den.append(self._print(f.base))
                elif isinstance(f, sp.HadamardPower) and f.exp == sp.Rational(-1, 2):
                    den.append(rf"\sqrt{{{self._print(f.base)}}}")
                else:
                    num.append(f)
            top = r" \odot ".join(self._matrix_factor(a, HADAMARD) for a in num) or "1"
            if not den:
                return top
            if len(num) > 1:  # (A ⊙ B)/c reads better as a fraction of the product
                top = r" \odot ".join(self._print(a) for a in num)
            elif num and isinstance(num[0], sp.MatAdd):
                top = self._print(num[0])
            bottom = r" \odot ".join(den)
            return rf"\frac{{{top}}}{{{bottom}}}"
        finally:
            self._in_sum -= 1

    def _print_HadamardPower(self, expr):
        base = unbroadcast(expr.base)
        if expr.exp == sp.Rational(-1, 2):
            return rf"\frac{{1}}{{\sqrt{{{self._print(base)}}}}}"
        if expr.exp == sp.Rational(1, 2):
            return rf"\sqrt{{{self._print(base)}}}"
        if expr.exp == -1:
            return rf"\frac{{1}}{{{self._print(base)}}}"
        if isinstance(base, sp.MatrixSymbol):
            text = self._print(base)
            text = f"{{{text}}}" if "^" in text else text
            return rf"{text}^{{\odot {self._print(expr.exp)}}}"
        return rf"\left({self._print(base)}\right)^{{\odot {self._print(expr.exp)}}}"

    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
        mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
        coeff = sp.Mul(*scalars)
        sign = ""
        if coeff.is_Add:  # (1 − ε) Y: the positive terms first
            terms = sorted(coeff.args, key=lambda t: t.could_extract_minus_sign())
            text = self._print(terms[0])
            for t in terms[1:]:
                text += f" - {self._print(-t)}" if t.could_extract_minus_sign() else f" + {self._print(t)}"
            inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats)
            return rf"\left({text}\right) {inner}"
        if coeff.could_extract_minus_sign():
            sign, coeff = "-", -coeff
        head = "" if coeff == 1 else self._print(coeff) + r"\, "
        if len(mats) == 1 and isinstance(mats[0], OneMatrix):  # c 1: the number c in every entry
            return sign + (self._print(coeff) if coeff != 1 else "1")
        # broadcasting, as the lecture writes it: b 1ᵀ -> b (in a sum); G 1 -> Σ_columns G
        if len(mats) >= 2 and isinstance(mats[-1], OneMatrix) and mats[-1].shape[0] == 1:
            if not self._in_sum:  # alone, the broadcast is written out
                inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[:-1])
                return rf"{sign}{head}{inner}\, \mathbf{{1}}^{{\top}}"
            mats = mats[:-1]
        elif len(mats) >= 2 and isinstance(mats[-1], OneMatrix):
            inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[:-1])
            if mats[-1].shape[1] != 1:  # G 1 1ᵀ: each row's sum, repeated in every column
                if self._in_sum:
                    return rf"{sign}{head}\sum_{{\text{{columns}}}} {inner}"
                return rf"{sign}{head}\Big(\sum_{{\text{{columns}}}} {inner}\Big) \mathbf{{1}}^{{\top}}"
            return rf"{sign}{head}\sum_{{\text{{columns}}}} {inner}"
        elif len(mats) >= 2 and isinstance(mats[0], OneMatrix):
            inner = " ".join(self._matrix_factor(a, MATMUL) for a in mats[1:])
            if mats[0].shape[1] == 1:  # 1 G: the row G repeated in every row
                return rf"{sign}{head}\mathbf{{1}}\, {inner}"
            return rf"{sign}{head}\sum_{{\text{{rows}}}} {inner}"
        return sign + head + " ".join(self._matrix_factor(a, MATMUL) for a in mats)

    def _sum(self, expr):
        out = []
        # a broadcast bias (b 1ᵀ) comes last, as in W A + b
        terms = sorted(expr.args, key=lambda t: is_broadcast(t) or is_constant(t))
        texts = [self._print(t) for t in terms]
        lead = next((i for i, t in enumerate(texts) if not t.startswith("-")), 0)
        order = [lead] + [i for i in range(len(terms)) if i != lead]
        for i, term in enumerate(terms[k] for k in order):
            text = self._print(term)
            if text.startswith("-"):
                out.append(f"-{text[1:]}" if i == 0 else f" - {text[1:]}")
            else:
                out.append(text if i == 0 else f" + {text}")
        return "".join(out)

    def _print_Transpose(self, expr):
        base = self._matrix_factor(expr.arg, ATOM)
        accent = re.match(r"^(.*\\(?:hat|tilde)\{.*\}\}?\^\{)([^{}]*)\}$", base)
        if accent:  # amsmath's accents take a following superscript: the ᵀ joins it, Ã^{[2]⊤}
            return rf"{accent.group(1)}{accent.group(2)}\top}}"
        if "^" in base and not base.startswith(r"\left("):
            base = f"{{{base}}}"
        return rf"{base}^{{\top}}"

    def _matrix_factor(self, expr, level: int) -> str:
        text = self._print(expr)
        hadamard = isinstance(expr, sp.HadamardProduct) and untransposed(expr) is None
        own = ADD if isinstance(expr, sp.MatAdd) else HADAMARD if hadamard else ATOM
        if own < level:
            return rf"\left({text}\right)"
        return text


ADD, HADAMARD, MATMUL, ATOM = 1, 2, 3, 4


def ordered_rest(number, rest) -> sp.Expr:
    """The product ``number · rest`` kept in order (the sign already taken out)."""
    if number == 1:
        return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
    return sp.Mul(number, *rest, evaluate=False)


def derivative_latex(definition: sp.Expr, printer: StepLatexPrinter) -> str | None:
    """``\\sigma'(z_1)`` for a one-argument rule function, else None."""
    rec = find(type(definition)) if isinstance(definition, sp.Function) else None
    if rec is not None and len(definition.args) == 1:
        return f"{rec.latex}'({printer.doprint(definition.args[0])})"
    return None


_PRINTER = StepLatexPrinter()


def latex(expr, **settings) -> str:
    """LaTeX for ``expr`` (see ``StepLatexPrinter`` for the settings)."""
    printer = StepLatexPrinter(settings) if settings else _PRINTER
    return printer.doprint(expr)


# Steps are told apart by their class names, so that derive.steps and derive.ir.steps
# (which display through this module) are not imported here.
_UNIT_STEPS = ("ChainRule", "Factor", "Product", "Rewrite", "Result")


def _kind(step) -> str:
    return type(step).__name__


def step_latex(step, printer: StepLatexPrinter | None = None) -> str:
    """One step of a derivation as one line of LaTeX math (no delimiters)."""
    p = printer or _PRINTER
    names = {"layers": p._settings["layers"], "delta": p._settings["delta"]}

    def d(of, wrt):
        return partial_latex(of, wrt, **names)

    if _kind(step) == "ChainRule":
        if step.paths is None:
            terms = [f"{d(step.loss, c)} {d(c, step.wrt)}" for c in step.via]
        else:
            terms = [" ".join(d(a, b) for a, b in step.links(path)) for path in step.paths]
        return f"{d(step.loss, step.wrt)} = {' + '.join(terms) if terms else '0'}"
    if _kind(step) == "Factor":
        parts = [d(step.of, step.wrt)]
        named = derivative_latex(step.definition, p)
        if named:
            parts.append(named)
        parts.append(p.doprint(step.raw))
        if step.raw != step.value:
            parts.append(p.doprint(step.value))
        return " = ".join(parts)
    if _kind(step) == "Product":
        return f"{d(step.loss, step.wrt)} = {p.doprint(step.expr)}"
    if _kind(step) == "Rewrite":
        before = p.doprint(step.before)
        if step.kind == "node-form":
            return f"{before} = {p.doprint(step.after)}"
        return f"{d(step.loss, step.target)}: {before} = {p.doprint(step.after)}"
    if _kind(step) == "Result":
        return f"{d(step.loss, step.wrt)} = {p.doprint(step.expr)}"
    raise TypeError(f"not a derivation step: {type(step).__name__}")


def step_reason_latex(step) -> str | None:
    """The reason a step gives, as LaTeX math, or None."""
    if _kind(step) == "Factor" and step.rule:
        return why_latex(step.rule)
    if _kind(step) == "Rewrite":
        if step.kind == "cancel" and step.cancelled is not None:
            return rf"{latex(step.cancelled)}\ \text{{cancels}}"
        if step.kind == "one-hot" and step.cancelled is not None:
            return rf"{latex(step.cancelled)} = 1\ \text{{($y$ is one-hot)}}"
        if step.kind == "node-form":
            return r"\text{written in the node's name}"
        if step.kind == "collect":
            return r"\text{terms collected}"
        return rf"\text{{{step.reason}}}" if step.reason.isascii() else None
    return None


def repr_latex(step) -> str:
    """``_repr_latex_`` for a step: display math, with its reason."""
    body = step_latex(step)
    why = step_reason_latex(step)
    return f"$\\displaystyle {body}" + (rf"\qquad \left[{why}\right]" if why else "") + "$"


# ------------------------------------------------------------- Jupyter
# Each object a user meets displays as math in a notebook (``_repr_latex_``): one
# display block, ``aligned`` rows, names in the lecture's notation.
def _display(rows: list[str]) -> str:
    if len(rows) == 1:
        return f"$\\displaystyle {rows[0]}$"
    return "$\\displaystyle \\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


def _text(words: str) -> str:
    """Plain words inside math (braces and backslashes escaped)."""
    escaped = words.replace("\\", r"\backslash ").replace("{", r"\{").replace("}", r"\}")
    return rf"\text{{{escaped}}}"


def network_latex(net) -> str:
    """A per-unit network's assignments, one aligned row each."""
    rows = [rf"{name_latex(n.name)} &= {latex(n.expr)}" for n in net.nodes]
    return _display(rows or [_text(f"{net.name}: no assignments")])


def derivation_latex(d) -> str:
    """Every parameter's gradient as the derivation shows it."""
    rows = [rf"{partial_latex(d.loss, p)} &= {latex(d.shown_gradient(p))}" for p in d.net.names("param")]
    return _display(rows or [_text(f"{d.net.name}: no parameters")])


def steps_latex(steps) -> str:
    """A list of steps (of a per-unit or a layer derivation), one aligned row each, with its reason."""
    rows = []
    for step in steps:
        if _kind(step) in _UNIT_STEPS:
            why = step_reason_latex(step)
            rows.append("& " + step_latex(step) + (rf"\qquad \left[{why}\right]" if why else ""))
        else:
            rows.append("& " + vecstep_row(step))
    return _display(rows or [_text("no steps")])


_LAYER_PRINTER = StepLatexPrinter({"layers": True})


def equation_row(eq) -> str:
    """``(11)\\quad dW^{[1]} &= \\frac{1}{m} dZ^{[1]} X^{\\top} \\quad [n_1 \\times n_0]``."""
    rows, cols = (latex(s) for s in eq.shape)
    return rf"({eq.number})\quad {_LAYER_PRINTER.doprint(sp.Symbol(eq.target))} &= {_LAYER_PRINTER.doprint(eq.expr)} && [{rows} \times {cols}]"


def equation_latex(eq) -> str:
    return _display([equation_row(eq).replace(" &= ", " = ").replace(" && ", r" \qquad ")])


def vecderivation_latex(d) -> str:
    """The forward and the backward equations of a layer derivation, numbered, with their shapes."""
    rows = [equation_row(e) for e in d.forward]
    rows += [equation_row(e) for e in d.backward]
    return _display(rows)


def vecstep_row(step) -> str:
    """One step of a layer derivation: the equation it gives and its rule (in words)."""
    if _kind(step) == "VecChainRule":
        target = _LAYER_PRINTER.doprint(sp.Symbol(step.target))
        return rf"{target} = {_LAYER_PRINTER.doprint(step.expr)} \qquad \left[{_text(step.rule)}\right]"
    if _kind(step) == "Cancellation":
        target = _LAYER_PRINTER.doprint(sp.Symbol(step.target))
        before, after = _LAYER_PRINTER.doprint(step.before), _LAYER_PRINTER.doprint(step.after)
        return rf"{target} = {before} = {after} \qquad \left[{_text(step.reason)}\right]"
    return _text(str(step))


def vecstep_latex(step) -> str:
    return _display([vecstep_row(step)])


from ..ops import install_printers  # the op table's own LaTeX forms (‖W‖²_F, …), after the printer it fills

install_printers(StepLatexPrinter, "latex")
