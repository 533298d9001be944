"""The handout of a program with convolutions and poolings in every medium: the section 'Convolution and
pooling' (codegen/handout/conv.py: text, display rows, a table linking cs231n's im2col form to the equations
derived, deeplearning.ai's loops as a code block), and a worked example at sizes where every window tiles."""

from __future__ import annotations

import json
from pathlib import Path

import handout_media
import pytest

from codegen.handout import worked
from codegen.handout.builder import HandoutOptions, build_context
from codegen.handout.conv import NG_LOOPS
from codegen.handout.document import Code, Table
from derive.catalogue import load_spec
from derive.ir.images import tiles

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "conv_two_layers.py"


def test_conv_net_s_handout_has_the_convolution_section_in_every_medium():
    tex = handout_media.tex("conv_net")
    assert r"\section{Convolution and pooling}\label{sec:conv}" in tex
    assert "\\begin{verbatim}\n" + NG_LOOPS + "\n\\end{verbatim}" in tex
    assert r"(14) $\mathrm{d}W^{[1]} = \frac{1}{m}\, \operatorname{mat}" in tex  # dW_row = dout X_colᵀ is (14)
    assert tex.index(r"\section{Convolution and pooling}") < tex.index(r"\section{The update rule}")
    page = handout_media.html("conv_net")
    assert '<section id="conv">' in page and "<h2>4&#x2003;Convolution and pooling</h2>" in page
    assert "<code>for i in range(m):                       # each example\n" in page
    assert "da_prev_pad[vs:vs + f, hs:hs + f, :] += W[:, :, :, c] * dZ[i, h, w, c]" in page
    assert "<code>conv_backward</code>" in page  # \texttt's escapes undone
    slides = handout_media.slides("conv_net")
    assert r"\ttfamily" in slides and r"dA\char95{}prev[i,\ :,\ :,\ :]\ =\ " in slides
    notebook = json.loads(handout_media.notebook("conv_net"))
    cell = next(
        "".join(c["source"]) for c in notebook["cells"] if "## 4. Convolution and pooling" in "".join(c["source"])
    )
    assert "```python\n" + NG_LOOPS + "\n```" in cell
    assert "| cs231n's im2col form | derived here |" in cell


def test_the_im2col_table_links_a_computed_image_s_gradient_to_its_equations():
    vn = load_spec(str(EXAMPLE))
    ctx = build_context(vn, HandoutOptions())
    conv = next(s for s in ctx["document"] if s.key == "conv")
    table = next(b for b in conv.blocks if isinstance(b, Table))
    numbers = {e.target: e.number for e in vn.derive().equations}
    assert [row[1].split(")")[0] for row in table.rows[:3]] == [f"({numbers[t]}" for t in ("Z1", "dW1", "db1")]
    assert table.rows[3][1] == table.rows[4][1] == r"not derived: $X$ is an input"
    assert f"equations ({numbers['dP1_col']}) and ({numbers['dP1']})" in " ".join(
        b.tex for b in conv.blocks if b.kind == "text"
    )


def test_the_worked_example_is_as_small_as_lets_every_window_tile():
    # conv_net's 3×3 filters at stride 1 with pad 1, then 2×2 pooling, tile 2×2 images; conv_two_layers' 3×3 at
    # stride 2 with pad 1, 2×2 average pooling at stride 1, a 2×2 convolution and 2×2 max pooling first tile 7×7
    for spec, side in (("conv_net", 2), (str(EXAMPLE), 7)):
        vn = load_spec(spec)
        dims = worked.sizes(vn)
        assert tiles(vn, dims) and {n for d, n in dims.items() if d.name in ("H", "W")} == {side}, spec
        assert all(n <= worked.SMALL for d, n in dims.items() if d.name not in ("H", "W", "m")), spec
    # a matrix too large for a page is given by its shape (X: (C·H·W)×m = 98×3)
    tex = handout_media.tex("conv_net")
    assert r"\mathbb{R}^{" not in tex
    from codegen.handout.builder import render

    tex = render(load_spec(str(EXAMPLE)))
    assert r"X \in \mathbb{R}^{98 \times 3}" in tex and "too large for a page" in tex


def test_a_code_block_is_plain_ascii():
    with pytest.raises(ValueError, match="plain ASCII"):
        Code("x = α")
    assert Code("a_b {c} $ & # % ^ ~ \\").tex_lines() == [
        r"a\char95{}b\ \char123{}c\char125{}\ \char36{}\ \char38{}\ \char35{}\ \char37{}\ \char94{}\ \char126{}\ \char92{}"
    ]
