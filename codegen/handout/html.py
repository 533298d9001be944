"""The handout as one self-contained HTML page: MathML, inline SVG graphs, a few lines of script.

It renders the context ``handout.build_context`` prepares for the LaTeX
handout — the same sections, equations and equation numbers — with
``templates/handout.html.jinja``.  Each piece of LaTeX becomes MathML
(``latex2mathml``), which current browsers draw natively, with the LaTeX kept
as its ``application/x-tex`` annotation; nothing is loaded from the network.
The computation graphs are ``graph_svg`` drawings of the TikZ figures' layout;
hovering or clicking a parameter highlights its paths to the loss.  In the
exercise variant every answer is behind a ``<details>``.

``equations(page)`` lists the numbered equations of a page (its tags and
LaTeX), so a test can compare them with the PDF handout's.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import jinja2
from latex2mathml.converter import convert

from derive import ChainruleError

from ..emit.files import UNSEALED, seal
from ..render import graph_svg
from .builder import SECTIONS, HandoutOptions, build_context, visible_width

_TAG = re.compile(r"\s*\\tag\*?\{([^{}]*)\}\s*$")
_BLANK = re.compile(r"\\blank(\[[^\]]*\])?|\\answerbox(\[[^\]]*\])?")
_TEXT_WITH_MATH = re.compile(r"\\text\{([^{}]*\$[^{}]*)\}")
_DIGIT_OPERATOR = re.compile(r"\\operatorname\{([A-Za-z]*[0-9][A-Za-z0-9]*)\}")
_MATRIX = re.compile(r"\\begin\{([bp]?matrix)\}.*?\\end\{\1\}", re.DOTALL)


def _text_with_math(m: re.Match) -> str:
    """``\\text{($y$ one-hot)}`` → ``\\text{(}y\\text{ one-hot)}`` (the converter has no math inside text)."""
    parts = m.group(1).split("$")
    return "".join(rf"\text{{{p}}}" if i % 2 == 0 else p for i, p in enumerate(parts) if p)


def prepare(tex: str) -> str:
    """LaTeX of the handout as the MathML converter reads it."""
    tex = _MATRIX.sub(lambda m: m.group(0).replace("&", "\x00"), tex)  # a matrix keeps its columns
    tex = tex.replace("&", " ").replace("\x00", "&").replace(r"\mathrel{+}=", "+=")
    tex = _TEXT_WITH_MATH.sub(_text_with_math, tex)
    tex = _BLANK.sub(r"\\square", tex)
    tex = _plain_fences(tex)
    tex = tex.replace(r"\mathrm{d}", r"\text{d}")  # the converter writes \mathrm{d} as an italic d
    tex = _DIGIT_OPERATOR.sub(r"\\mathrm{\1}", tex)  # … and \operatorname{im2col} in italics, split at the 2
    return tex.strip()


def _plain_fences(tex: str) -> str:
    """``\\left( … \\right)`` around nothing tall (no fraction or sum) as plain parentheses: the browser
    draws stretchy ones with wide side bearings even where they need not stretch."""
    out = tex
    for _ in range(100):
        pairs, stack = [], []
        for m in re.finditer(r"\\left(\(|\.|\[)|\\right(\)|\.|\])", out):
            if m.group(1):
                stack.append(m)
            elif stack:
                pairs.append((stack.pop(), m))
        flat = [(a, b) for a, b in pairs if a.group(1) == "(" and b.group(2) == ")"]
        flat = [(a, b) for a, b in flat if not re.search(r"\\(frac|tfrac|dfrac|sum)", out[a.end() : b.start()])]
        if not flat:
            return out
        a, b = flat[0]
        out = out[: a.start()] + "(" + out[a.end() : b.start()] + ")" + out[b.end() :]
    return out


def mathml(tex: str, display: bool = False) -> str:
    """``tex`` as a MathML element with its LaTeX as annotation; display style for a displayed equation."""
    source = prepare(tex)
    if not source:
        return ""
    try:
        converted = convert(source)
    except Exception as exc:  # noqa: BLE001 - a converter failure is a bug of chainrule's LaTeX, not bad input
        raise ChainruleError(f"cannot write '{tex}' as MathML ({exc.__class__.__name__}: {exc})", "html") from None
    m = re.fullmatch(
        r'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">(.*)</math>', converted, re.DOTALL
    )
    if not m:
        raise ChainruleError(f"cannot write '{tex}' as MathML (unexpected converter output)", "html")
    body = _tidy(m.group(1))
    style = ' displaystyle="true"' if display else ""
    return (
        f"<math{style}><semantics><mrow>{body}</mrow>"
        f'<annotation encoding="application/x-tex">{html.escape(tex, quote=False)}</annotation></semantics></math>'
    )


_FENCE = re.compile(r'<mo stretchy="true" fence="true" form="(prefix|postfix)"')
_MINUS = "<mo>−</mo>"
_OPENS = ("<mo>=</mo>", '<mo stretchy="false">(</mo>', "<mo>,</mo>", "<mrow>", "<mtd>")


def _char(m: re.Match) -> str:
    ch = chr(int(m.group(1), 16))
    return m.group(0) if ch in '<>&"' or not ch.isprintable() else ch


def _group_safe(text: str) -> str:
    return text.replace("\\", "\\\\")


def _tidy(body: str) -> str:
    """MathML as a reader expects it: characters as UTF-8 rather than numeric entities; no space inside
    ``\\left( … \\right)``; a minus that begins a number after ``=``, ``(`` or ``,`` written as the
    number's sign (−0.15), not as a binary minus."""
    body = re.sub(r"&#x([0-9A-Fa-f]+);", _char, body)
    body = body.replace("<mo>+</mo><mo>=</mo>", "<mo>+=</mo>")  # \mathrel{+}=: one operator
    body = _FENCE.sub(r'<mo stretchy="true" fence="true" form="\1" lspace="0" rspace="0"', body)
    for before in _OPENS:
        body = re.sub(re.escape(before + _MINUS) + r"<mn>([^<]*)</mn>", rf"{_group_safe(before)}<mn>−\1</mn>", body)
    return body


_TEXT_MACROS = [
    (r"\dots{}", "…"),
    (r"\dots", "…"),
    (r"\_", "_"),
    (r"\&", "&"),
    (r"\%", "%"),
    (r"\#", "#"),
    (r"~", "\u00a0"),
    ("--", "–"),
    (r"\ ", " "),
]


def mixed(text: str) -> str:
    """LaTeX text with ``$…$`` math (a sentence of the handout) as HTML."""
    out = []
    for i, part in enumerate(str(text).split("$")):
        if i % 2:
            out.append(mathml(part))
            continue
        codes = [_typed(c) for c in re.findall(r"\\texttt\{([^{}]*)\}", part)]
        part = re.sub(r"\\texttt\{[^{}]*\}", "\x00", part)
        for tex, plain in _TEXT_MACROS:
            part = part.replace(tex, plain)
        part = html.escape(part, quote=False)
        for code in codes:
            part = part.replace("\x00", f"<code>{html.escape(code)}</code>", 1)
        part = re.sub(r"\\emph\{([^{}]*)\}", r"<em>\1</em>", part)
        part = re.sub(r"\\textbf\{([^{}]*)\}", r"<strong>\1</strong>", part)
        out.append(part)
    return "".join(out)


def _typed(code: str) -> str:
    """The text of ``\\texttt{…}`` as typed: its escapes (``\\_``) and break points undone."""
    code = code.replace("\\allowbreak ", "")
    return re.sub(r"\\([_#&%$])", r"\1", code)


def rows(items, tags: bool = True) -> str:
    """Align rows ``(left, right)`` as table rows: left side, right side, equation number."""
    out = []
    for left, right in items:
        tag = ""
        m = _TAG.search(right)
        if m:
            tag, right = m.group(1), right[: m.start()]
        tag_cell = f'<td class="tag">({html.escape(tag)})</td>' if tag else '<td class="tag"></td>'
        out.append(
            f'<tr><td class="lhs">{mathml(left, True)}</td><td class="rhs">{mathml(right, True)}</td>'
            f"{tag_cell if tags else ''}</tr>"
        )
    return "\n".join(out)


def equations(page: str) -> list[tuple[str, str]]:
    """The numbered equations of an HTML handout: (tag, the LaTeX of its row's cells, joined by ' ')."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL):
        tag = re.search(r'<td class="tag">\(([^)<]*)\)</td>', row)
        if not tag:
            continue
        texs = re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', row, re.DOTALL)
        found.append((tag.group(1), " ".join(html.unescape(t) for t in texs)))
    return found


def section_numbers(sections) -> dict[str, int]:
    """The LaTeX handout's section numbers: in order, except that the backward pass is always 3."""
    numbers, n = {}, 0
    for s in SECTIONS:
        if s in sections:
            n = 3 if s == "backward" else n + 1
            numbers[s] = n
    return numbers


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("codegen", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["m"] = mathml
    env.filters["md"] = lambda tex: mathml(tex, True)
    env.filters["mixed"] = mixed
    env.filters["rows"] = rows
    env.filters["e"] = lambda s: html.escape(str(s), quote=True)
    return env


def render(net, options: HandoutOptions | None = None) -> str:
    """The HTML handout of ``net``."""
    options = options or HandoutOptions()
    ctx = build_context(net, options)
    counter = iter(range(1, 1000))

    def figure(fig) -> str:
        return graph_svg.svg(fig, mathml, visible_width, f"f{next(counter)}")

    ctx["figure"] = figure
    if ctx.get("matrix"):  # a matrix program: its sections, numbered as the PDF numbers them
        ctx["numbers"] = document_numbers(ctx["document"])
        refs = {s.label: n for s, n in zip(ctx["document"], ctx["numbers"], strict=True) if s.label}
        env = environment()
        env.filters["mixed"] = lambda text: mixed(cite(str(text), refs))  # section~\ref{sec:steps}: its number
        page = env.get_template("handout_batch.html.jinja").render(**ctx)
        return re.sub(r"\n{3,}", "\n\n", page)
    ctx["numbers"] = SimpleNamespace(**section_numbers([s for s in SECTIONS if getattr(ctx["sections"], s)]))
    ctx["plain"] = {"title": net.name.replace("_", " "), "name": net.name, "doc": getattr(net, "doc", "")}
    ctx["stamp"] = UNSEALED
    page = environment().get_template("handout.html.jinja").render(**ctx)
    return seal(re.sub(r"\n{3,}", "\n\n", page))


def cite(tex: str, refs: dict) -> str:
    """``section~\\ref{sec:steps}`` with the section's number."""
    return re.sub(r"\\ref\{([^{}]*)\}", lambda m: refs.get(m.group(1), "?"), tex)


def document_numbers(sections) -> list[str]:
    """A matrix handout's section numbers as LaTeX prints them: 1, 2, … and, in the appendix, A, B, …"""
    out, n, letter = [], 0, 0
    for s in sections:
        if s.appendix:
            out.append(chr(ord("A") + letter))
            letter += 1
        else:
            n += 1
            out.append(str(n))
    return out
