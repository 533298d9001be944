"""Every equation a handout prints, as claims for ``chainrule verify`` (used by the round-trip test).

A handout's displayed maths (``align``, ``align*``, a boxed ``aligned``, ``\\[ … \\]``) is split
into rows; each row's sides (``a = b = c``, ``p \\leftarrow …``) become claims ``lhs = side``.
Left out, each for a stated reason:

* the table of local-derivative rules in section 1 (rows that start with ``&``: rules in a
  generic variable, not equations of the network);
* sides of section 2 that are numbers at the example (worked values, printed to 2 digits), and a matrix
  program's worked example (numbers and matrices of numbers, in any section);
* tables (``tabular``) and the TikZ graphs (values, not equations);
* the accumulation steps ``dZ \\mathrel{+}= …`` of a matrix program's step-by-step section (one
  contribution each, not an equality).
"""

from __future__ import annotations

import re

ENVIRONMENTS = re.compile(
    r"\\begin\{(align\*?|aligned)\}(.*?)\\end\{\1\}|\\\[(.*?)\\\]",
    re.DOTALL,
)


def _strip_command(text: str, command: str, keep: bool) -> str:
    """``\\textcolor{red}{X}`` → ``X`` (keep) or ``\\tag{3.1}`` → ```` (drop), with nested braces."""
    out, i = [], 0
    while True:
        j = text.find(command, i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = j + len(command)
        groups = []
        for _ in range(2 if command == r"\textcolor" else 1):
            while k < len(text) and text[k] == " ":
                k += 1
            if k >= len(text) or text[k] != "{":
                break
            depth, start = 0, k
            while k < len(text):
                depth += text[k] == "{"
                depth -= text[k] == "}"
                k += 1
                if depth == 0:
                    break
            groups.append(text[start + 1 : k - 1])
        if keep and groups:
            out.append("{" + groups[-1] + "}")
        i = k


def _split_top(text: str, seps: tuple[str, ...]) -> list[str]:
    parts, depth, i, start = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0:
            for sep in seps:
                if text.startswith(sep, i) and not (sep == "\\\\" and text.startswith("\\\\[", i) and False):
                    parts.append(text[start:i])
                    i += len(sep)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _is_number_side(side: str) -> bool:
    """A side of section 2 with no letters but LaTeX commands: a value at the example, not a formula."""
    side = re.sub(r"\\(operatorname|mathrm|text)\{[^{}]*\}", "", side)  # ReLU(0.5), L_CE(0.86, 1)
    side = re.sub(r"L_\{\s*\}|_\{\d+\}", "", side)
    return not re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", side))


def rows(tex: str) -> list[tuple[int, str]]:
    """The rows of every displayed equation, cleaned of tags, colours, labels and shapes."""
    tex = tex.split(r"\begin{document}", 1)[-1]
    tex = re.sub(r"\\begin\{tabular\}.*?\\end\{tabular\}", "", tex, flags=re.DOTALL)
    tex = re.sub(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", "", tex, flags=re.DOTALL)
    out: list[tuple[int, str]] = []
    for m in ENVIRONMENTS.finditer(tex):
        body = m.group(2) if m.group(2) is not None else m.group(3)
        if "\\begin{aligned}" in body:
            continue  # the boxed aligned is found on its own
        body = _strip_command(body, r"\tag*", keep=False)
        body = _strip_command(body, r"\tag", keep=False)
        body = body.replace(r"\notag", "")
        body = _strip_command(body, r"\textcolor", keep=True)
        body = _strip_command(body, r"\boxed", keep=True)
        body = re.sub(r"(\\underbrace\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})_\{\\text\{[^{}]*\}[^{}]*\}", r"\1", body)
        body = _strip_command(body, r"\underbrace", keep=True)
        body = re.sub(r"_\{\\text\{from \}[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", "", body)  # the underbrace's label
        lines: list[str] = []
        for row in _split_top(body, ("\\\\",)):
            if not row.strip():
                continue
            continued = re.match(r"\s*&\s*(=|\\quad\s*(\\left\.\s*)?([+-]|\\odot)|[+-])", row)
            if continued and lines:  # a continued row: "&= …", "&\quad + …", a long one broken in its parentheses
                lines[-1] = (
                    re.sub(r"\s*\\right\.\s*$", "", lines[-1]) + " " + row.replace("&", " ").replace("\\quad", " ")
                )
                lines[-1] = lines[-1].replace(r"\left. ", "")
                continue
            if re.match(r"\s*&", row):  # a rule in a generic variable (section 1's list)
                continue
            row = row.split("&&")[0]  # the shape column
            if r"\begin{bmatrix}" in row:  # a worked value
                continue
            if "\\mathrel{+}" in row:  # "dZ += …": one contribution accumulated, not an equality
                continue
            if any(
                s in row
                for s in ("\\partial^2", "\\nabla", "\\mathcal{R}", "\\text{(rows)}", "\\text{(columns)}", "\\geq")
            ):
                continue  # the second-order section's own notation (∂², ∇², the R-operator, CS229's rows, vᵀHv ≥ 0)
            if "\\text{there: }" in row:  # the other convention's equation (the GRU's two), not this network's
                continue
            row = row.replace("\\text{here: }\\ ", "")
            row = re.sub(r"\\text\{in \}.*?\\text\{:\}", "", row)  # "in ∂L/∂z:", the simplification's place
            lines.append(row.replace("&", " "))
        section = tex.count("\\section{", 0, m.start())
        out.extend((section, " ".join(line.split()).rstrip(".").rstrip("+").strip()) for line in lines)
    return [(section, r) for section, r in out if r]


def claims(tex: str) -> list[str]:
    """``lhs = side`` for every formula side of every row (and ``p \\leftarrow …`` for updates)."""
    out: list[str] = []
    body = tex.split(r"\begin{document}", 1)[-1]
    worked = body.find(r"\section{A worked example}")
    numbers = 1 + body.count("\\section{", 0, worked) if worked >= 0 else 2  # the section of worked values
    for section, row in rows(tex):
        if "\\leftarrow" in row:
            out.append(row)
            continue
        sides = _split_top(row, ("=",))
        if len(sides) < 2:
            continue
        lhs = sides[0].strip()
        for side in sides[1:]:
            if side.strip() and not (section == numbers and _is_number_side(side)):
                out.append(f"{lhs} = {side.strip()}")
    return out


# ------------------------------------------------------- chainrule derive
_DERIVE_KINDS = ("chain rule", "factor", "product", "rewrite", "simplify", "result")


def derive_claims(output: str) -> list[str]:
    """Every equation ``chainrule derive`` prints, as LaTeX claims: for a per-unit network the chain
    rule, each factor, the product, each rewrite and simplification and the result (every side of
    ``a = b = c``); for a vectorised network each numbered forward and backward equation."""
    out: list[str] = []
    for line in output.splitlines():
        m = re.match(r"^(chain rule|factor|product|rewrite|simplify|result): (.*?)(\s{4}\[.*\])?$", line)
        if m:
            sides = [s.strip() for s in m.group(2).split(" = ")]
            if m.group(1) == "simplify":  # "in ∂L/∂z: X = Y": the place, then the simplification
                sides = sides[1:]
            out.extend(f"{_latex(sides[0])} = {_latex(side)}" for side in sides[1:])
            continue
        m = re.match(r"^\s*\(\d+\) (.*?)\s{2,}\S+×\S+$", line)
        if m:
            lhs, rhs = m.group(1).split(" = ", 1)
            out.append(f"{_latex(lhs)} = {_latex(rhs)}")
    return out


def _latex(text: str) -> str:
    """chainrule's Unicode text (``∂L/∂ŷ1 · σ(z1)·(1 − a1)``) as LaTeX."""
    name = r"(?:ŷ\d*|[A-Za-z]+\d+_\d+|[A-Za-z]+\d*)"
    text = re.sub(rf"∂({name})/∂({name})", r"\\frac{∂\1}{∂\2}", text)
    text = text.replace("…", ", \\dots, ")
    text = re.sub(r"(?:δ|delta)_([A-Za-z]+)(\d+)", r"\\delta_{\1_{\2}}", text)  # δ_e11: the error of the node e11
    text = re.sub(r"softmax_(\d+)", r"\\operatorname{softmax}_{\1}", text)
    text = re.sub(r"ŷ(\d+)", r"\\hat{y}_{\1}", text)
    text = re.sub(r"(?<![A-Za-z\\])([A-Za-z]+?)(\d+)_(\d+)", r"\1_{\2,\3}", text)
    text = re.sub(r"(?<![A-Za-z\\])([A-Za-z]+?)(\d+)(?![\d])(?!,\d)", r"\1_{\2}", text)
    text = text.replace("Σ_columns", r"\sum_{\text{columns}}").replace("Σ ", r"\sum_{\text{columns}} ")
    text = re.sub(r"(?<![A-Za-z\\])(tanh|log|exp)(?![A-Za-z])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z\\])(step|ReLU|BCE|CE|SE)\(", r"\\operatorname{\1}(", text)
    return text
