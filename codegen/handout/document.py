"""A matrix program's handout as data: sections of blocks, written once, that every medium renders.

``matrix.context`` builds the sections; ``handout_batch.tex.jinja`` (the PDF),
``handout_batch.html.jinja`` (MathML), ``slides_batch.tex.jinja`` (Beamer) and
``notebook.py`` (Markdown) render the same blocks, so every medium has the same
sections, equations and equation numbers.  All text is LaTeX: a ``Text`` is a
sentence with ``$…$`` math (``html.mixed`` and ``notebook.markdown`` read it),
a ``Row`` holds display math; a ``Code`` is the one exception, code as printed.

A display row wider than the page is broken at its terms (``rows``): its
number stays on its first line, the rest follow as continuation rows.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import sympy as sp

from ..render.graph_layout import Figure

RHS_WIDTH = 50  # visible characters of a numbered equation's right side (beside its shape and number)
LINE_WIDTH = 66  # … of an unnumbered one
PAIR_LINE = 76  # the widest a line of two worked values may be (each line is laid out on its own)


@dataclass
class Text:
    """A paragraph: LaTeX text with ``$…$`` math; ``lead`` a run-in heading; ``small`` for a reason."""

    tex: str
    lead: str = ""
    small: bool = False
    kind: str = "text"


@dataclass
class Row:
    """One line of display math ``lhs op rhs`` (``op``: ``=``, ``\\mathrel{+}=``, ``\\leftarrow``), with its
    equation number, its shape and, for an exercise, whether the right side is an answer to leave blank.  A
    continuation line has no ``lhs`` and no ``op``."""

    lhs: str
    rhs: str
    op: str = "="
    number: int | None = None
    shape: str = ""
    answer: bool = False
    width: float | None = None  # visible width of ``rhs`` when ``visible_width`` would misjudge it (a matrix)

    def visible_width(self) -> float:
        return visible_width(self.lhs) + 2 + (self.width if self.width is not None else visible_width(self.rhs))


@dataclass
class Display:
    """Display math: rows one under the other, aligned at their relations (``pairs``: worked values, two to a
    line, each line centred on its own); ``boxed`` for a result."""

    rows: list[Row]
    pairs: bool = False
    boxed: bool = False
    kind: str = "display"

    @property
    def numbered(self) -> bool:
        return any(r.number is not None for r in self.rows)

    @property
    def shapes(self) -> bool:
        return any(r.shape for r in self.rows)

    def shown(self, exercise: bool) -> list[Row]:
        """The rows an exercise sheet shows: an answer's first line (left blank), not its continuation lines."""
        return [r for r in self.rows if not (exercise and r.answer and not r.lhs)]

    def lines(self, exercise: bool = False) -> list[list[Row]]:
        """The rows as the lines a page shows (``shown``): with ``pairs``, two to a line where both fit (a line
        of pairs is laid out on its own, not aligned with the others)."""
        out: list[list[Row]] = []
        for row in self.shown(exercise):
            last = out[-1] if out else None
            if self.pairs and last and len(last) == 1 and last[0].visible_width() + row.visible_width() <= PAIR_LINE:
                last.append(row)
            else:
                out.append([row])
        return out


@dataclass
class Picture:
    """A figure: a computation graph (``figure``, drawn as TikZ or SVG) or a TikZ plot (``tikz`` only, with
    ``table`` for the media that have no TikZ)."""

    caption: str
    figure: Figure | None = None
    tikz: str = ""
    table: Table | None = None
    kind: str = "picture"


@dataclass
class Table:
    """A table of LaTeX text cells (``$…$`` math): a header row and body rows; ``align`` like ``lrr``."""

    head: list[str]
    rows: list[list[str]]
    align: str
    kind: str = "table"


@dataclass
class Code:
    """Code as a course prints it, shown verbatim in a fixed-width font (plain ASCII text, not LaTeX);
    ``language`` names it for the notebook's syntax colouring."""

    text: str
    language: str = "python"
    kind: str = "code"

    def __post_init__(self):
        if not self.text.isascii() or "\t" in self.text:
            raise ValueError("a code block is plain ASCII without tabs (LaTeX's verbatim prints nothing else)")

    def tex_lines(self) -> list[str]:
        """Each line for ``\\ttfamily`` inside a macro argument, where ``verbatim`` cannot go (a slide's ``\\fit``):
        the special characters as the font's own glyphs (``\\char95`` for ``_``), every space kept."""
        return [_TT.sub(lambda m: _TT_ESCAPES[m.group(0)], line) or r"\strut" for line in self.text.splitlines()]


_TT_ESCAPES = {c: rf"\char{ord(c)}{{}}" for c in "\\{}$&#%_^~"}  # the typewriter font's own glyphs
_TT_ESCAPES[" "] = r"\ "
_TT = re.compile("|".join(re.escape(c) for c in _TT_ESCAPES))


@dataclass
class Item:
    lead: str  # LaTeX text
    blocks: list = field(default_factory=list)


@dataclass
class Items:
    """A list whose items each have a lead sentence and blocks under it (the derivation's steps)."""

    items: list[Item]
    kind: str = "items"


@dataclass
class Section:
    """A numbered section (``appendix``: a lettered one), with a ``label`` for cross-references."""

    key: str
    title: str
    blocks: list
    label: str = ""
    appendix: bool = False
    slides: bool = True  # whether the slides show it


# ------------------------------------------------------------------ long rows
_OPERATOR = re.compile(r" (\+|-|\\odot) ")


_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_ZERO_WIDTH = {
    "left",
    "right",
    "hat",
    "operatorname",
    "mathrm",
    "text",
    "textcolor",
    "mathbb",
    "mathbf",
    "frac",
    "tfrac",
    "dfrac",
    "boxed",
}


def visible_width(tex: str) -> float:
    """A rough width of LaTeX math in characters, to decide where to break lines."""
    tex = re.sub(r"\\textcolor\{[^}]*\}", "", tex)
    total = 0.0
    i = 0
    while i < len(tex):
        if tex.startswith(r"\frac", i) or tex.startswith(r"\tfrac", i):
            i = tex.index("{", i)
            num, i = _group(tex, i)
            den, i = _group(tex, i)
            total += max(visible_width(num), visible_width(den)) + 1.2
            continue
        m = _COMMAND.match(tex, i)
        if m:
            name = m.group(1)
            total += 0 if name in _ZERO_WIDTH else (2 if name in ("quad", "dots", "cdot") else 1)
            i = m.end()
            continue
        ch = tex[i]
        if ch in "_^":
            i += 1
            if i < len(tex) and tex[i] == "{":
                sub, i = _group(tex, i)
                total += 0.6 * visible_width(sub)
            else:
                total += 0.6
                i += 1
            continue
        if ch in "{} ":
            i += 1
            continue
        total += 2 if ch in "=+-<>" else 1
        i += 1
    return total


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group starting at ``tex[i] == '{'``: (contents, index after it)."""
    depth = 0
    for j in range(i, len(tex)):
        if tex[j] == "{" and (j == 0 or tex[j - 1] != "\\"):
            depth += 1
        elif tex[j] == "}" and tex[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return tex[i + 1 : j], j + 1
    return tex[i + 1 :], len(tex)


def rows(lhs: str, rhs: str, width: float = RHS_WIDTH, **row) -> list[Row]:
    """``lhs = rhs`` as display rows: one, or, when ``rhs`` is wider than ``width``, its first line with the
    number and shape and then continuation lines, broken before a ``+``, ``−`` or ``⊙`` at the outermost
    level that has one (inside the outermost parentheses if need be, closing them with ``\\right.``)."""
    lines = split(rhs, width)
    first = Row(lhs, lines[0], **row)
    answer = row.get("answer", False)
    return [first] + [Row("", line, op="", answer=answer) for line in lines[1:]]


def split(tex: str, width: float) -> list[str]:
    """``tex`` in lines no wider than ``width`` (a term is never split), as ``rows`` describes."""
    if visible_width(tex) <= width:
        return [tex]
    pieces = _pieces(tex, 0)
    if len(pieces) > 1:
        return _fill(pieces, width)
    inner = _outer_group(tex)
    if inner is None:
        return [tex]
    start, end = inner  # tex[start:end] is the inside of the outermost \left( … \right)
    pieces = _pieces(tex[start:end], 0)
    if len(pieces) < 2:
        return [tex]
    head, tail = tex[:start], tex[end:]
    lines = [line.removeprefix(r"\quad ") for line in _fill(pieces, width - visible_width(head) / 2)]
    out = [head + lines[0] + r" \right."]
    out += [r"\quad \left. " + line + r" \right." for line in lines[1:-1]]
    out.append(r"\quad \left. " + lines[-1] + tail)
    return out


def _fill(pieces: list[str], width: float) -> list[str]:
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if visible_width(lines[-1] + piece) > width:
            lines.append(r"\quad " + piece.lstrip())
        else:
            lines[-1] += piece
    return lines


def _pieces(tex: str, level: int) -> list[str]:
    """``tex`` cut before each operator at nesting ``level`` of braces and ``\\left … \\right``."""
    depth, cuts, i = 0, [], 0
    while i < len(tex):
        if tex.startswith(r"\left", i) or tex.startswith(r"\right", i):
            depth += 1 if tex.startswith(r"\left", i) else -1
            i += 5 if tex.startswith(r"\left", i) else 6
            continue
        ch = tex[i]
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and tex[i - 1] != "\\":
            depth -= 1
        elif depth == level and ch == " ":
            m = _OPERATOR.match(tex, i)
            if m and i > 0:
                cuts.append(i)
                i = m.end() - 1
        i += 1
    bounds = [0, *cuts, len(tex)]
    return [tex[a:b] for a, b in itertools.pairwise(bounds) if tex[a:b].strip()]


def _outer_group(tex: str) -> tuple[int, int] | None:
    """The inside of the first ``\\left( … \\right)`` at the outermost level whose inside is widest."""
    best, depth, opened = None, 0, None
    for m in re.finditer(r"\\left(\(|\[|\.)|\\right(\)|\]|\.)", tex):
        if m.group(0).startswith(r"\left"):
            if depth == 0:
                opened = m.end()
            depth += 1
        else:
            depth -= 1
            if depth == 0 and opened is not None:
                span = (opened, m.start())
                if best is None or span[1] - span[0] > best[1] - best[0]:
                    best = span
    return best


# ------------------------------------------------------------------ numbers
MATRIX_ROWS = 40  # the most rows of a worked matrix a page shows
MATRIX_COLUMNS = 10  # … and columns (LaTeX's bmatrix has at most 10)


def too_large(value) -> tuple[int, int]:
    """(rows, columns) of a worked value too large to print (``MATRIX_ROWS``, ``MATRIX_COLUMNS``), else (0, 0)."""
    import numpy as np

    rows, cols = np.atleast_2d(np.asarray(value)).shape
    return (rows, cols) if rows > MATRIX_ROWS or cols > MATRIX_COLUMNS else (0, 0)


def matrix_latex(value, num) -> str:
    """A worked value as LaTeX: a number, or a ``bmatrix`` of numbers (``num`` writes one)."""
    import numpy as np

    def cell(x: float) -> str:  # a masked score is −∞
        return (r"-\infty" if x < 0 else r"\infty") if np.isinf(x) else num(x)

    array = np.atleast_2d(np.asarray(value, dtype=float))
    if array.shape == (1, 1):
        return cell(array[0, 0])
    body = r" \\ ".join(" & ".join(cell(x) for x in row) for row in array)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def matrix_width(tex: str) -> float:
    """The width of ``matrix_latex``'s LaTeX in characters: each column's widest entry, side by side."""
    rows = [
        r.split(" & ") for r in tex.removeprefix(r"\begin{bmatrix} ").removesuffix(r" \end{bmatrix}").split(r" \\ ")
    ]
    return sum(max(len(_plain_number(cell)) for cell in column) + 2 for column in zip(*rows)) + 1


def _plain_number(cell: str) -> str:
    """``-1.328 \\times 10^{-4}`` as it reads, ``-1.328×10⁻⁴``: the characters a reader sees."""
    return re.sub(r" \\times 10\^\{(-?\d+)\}", r"x10\1", cell).replace(r"\infty", "o")


def shape_latex(shape, mp) -> str:
    """``n_1 \\times m``; a sum of sizes in parentheses, ``(K + 1) \\times m``."""
    rows, cols = (sp.sympify(x) for x in shape)
    rows, cols = (rf"\left({mp.doprint(x)}\right)" if isinstance(x, sp.Add) else mp.doprint(x) for x in (rows, cols))
    return rf"{rows} \times {cols}"
