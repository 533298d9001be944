"""HTML handouts: the same equations as the PDF's, self-contained, and drawn by a real browser.

Each catalogue network's HTML handout (per unit or a matrix program; the
checked-in ones in docs/handouts/html/ and the rest rendered once per session,
``handout_media``) is loaded by headless Chromium over the DevTools protocol: no
console error, no uncaught exception, no request leaving the file, no MathML
error node (``merror``), every formula laid out with a size, the sections the
PDF has, and a screenshot is taken.  Hovering a parameter lights its paths to
the loss.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from handout_media import html as html_of
from handout_media import matrix
from handout_media import tex as tex_of

from codegen.cli import main
from codegen.cli.cmd_handout import GOLDEN_DIR, HTML_EXERCISE, HTML_GOLDEN
from codegen.handout import html as handout_html
from codegen.handout.builder import HandoutOptions, render
from derive.catalogue import load, names

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = os.environ.get("CHAINRULE_SCREENSHOTS")  # a folder to keep the screenshots in, to look at them

PAGE_CHECK = """(() => {
  const maths = [...document.querySelectorAll("math")];
  const empty = maths.filter(m => { const r = m.getBoundingClientRect(); return r.width < 1 || r.height < 1; })
    .filter(m => !m.closest("details:not([open])"));
  return {
    merror: document.querySelectorAll("merror").length,
    maths: maths.length,
    empty: empty.slice(0, 3).map(m => m.textContent),
    svgs: document.querySelectorAll("svg.graph").length,
    boxes: document.querySelectorAll("svg.graph g.box").length,
    sections: [...document.querySelectorAll("h2")].map(h => h.textContent),
    results_hidden: [...document.querySelectorAll("table.result")].every(t => t.closest("details") !== null),
    details: document.querySelectorAll("details").length,
    overlaps: [...document.querySelectorAll("svg.graph")].flatMap(svg => {
      const boxes = [...svg.querySelectorAll("g.box rect")].map(r => r.getBoundingClientRect());
      return boxes.flatMap((a, i) => boxes.slice(i + 1).filter(b =>
        a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1));
    }).length,
    carries: document.querySelectorAll("svg.graph path.carry").length,
  };
})()"""

HIGHLIGHT = """(() => {
  const box = document.querySelector("#backward svg [data-paths]");
  box.dispatchEvent(new MouseEvent("mouseenter"));
  const lit = [...box.closest("svg").querySelectorAll(".hl")].map(e => e.id);
  box.dispatchEvent(new MouseEvent("mouseleave"));
  return {box: box.id, lit: lit, after: box.closest("svg").querySelectorAll(".hl").length};
})()"""


def tex_equations(tex: str) -> list[tuple[str, str]]:
    """The numbered equations of a LaTeX handout: (tag, the row's LaTeX without the tag)."""
    found = []
    for line in tex.splitlines():
        m = re.search(r"\\tag\{([^{}]*)\}", line)
        if m:
            found.append((m.group(1), line[: m.start()] + line[m.end() :]))
    return found


def _norm(tex: str) -> str:
    return re.sub(r"[\s&=]|\\\\$", "", tex)


@pytest.mark.parametrize("name", names())
def test_html_and_latex_renderers_receive_the_same_numbered_equations(name):
    tex = tex_equations(tex_of(name))
    html = handout_html.equations(html_of(name))
    assert tex, "the handout has numbered equations"
    assert [t for t, _ in html] == [t for t, _ in tex]
    assert [_norm(e) for _, e in html] == [_norm(e) for _, e in tex]
    if matrix(name):  # and the same sections, numbered alike
        sections = re.findall(r"\\section\{([^{}]*)\}", tex_of(name))
        heads = re.findall(r"<h2>(\d+)&#x2003;([^<]*)</h2>", html_of(name))
        assert [title for _, title in heads] == [t.replace("\\", "") for t in sections]
        assert [number for number, _ in heads] == [str(k) for k in range(1, len(heads) + 1)]


def test_section_numbers_match_the_pdf():
    page = handout_html.render(load("two_layer_sigmoid"), HandoutOptions(sections=("network", "backward", "update")))
    heads = re.findall(r"<h2>(\d+)&#x2003;([^<]*)</h2>", page)
    assert heads == [("1", "The network"), ("3", "The backward pass"), ("4", "The update rule")]
    tex = render(load("two_layer_sigmoid"), HandoutOptions(sections=("network", "backward", "update")))
    assert r"\setcounter{section}{2}" in tex  # LaTeX numbers them 1, 3, 4 too


def test_page_is_self_contained():
    page = (ROOT / GOLDEN_DIR / "html" / "two_layer_sigmoid.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<link" not in page
    assert page.count("<svg") == 3 and "<math" in page and "<script>" in page
    assert "<merror" not in page


def test_exercise_hides_every_answer_in_details():
    page = handout_html.render(load("two_layer_sigmoid"), HandoutOptions(exercise=True))
    results = page.split('<table class="eqs result">')[1:]
    assert results and all("</details>" in r.split('<section class="gradient"')[0] for r in results)
    assert "(a) The chain rule." in page
    bare = handout_html.render(load("two_layer_sigmoid"), HandoutOptions(exercise=True, solutions="none"))
    assert '<table class="eqs result">' not in bare and "<details>" not in bare


def test_cli_writes_html_and_refuses_other_names(tmp_path, capsys):
    out = tmp_path / "h.html"
    assert main(["handout", "computation_graph", "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["handout", "computation_graph", "-o", str(tmp_path / "h.pdf")]) == 2
    assert "must end in .tex, .html" in capsys.readouterr().err
    assert main(["handout", "computation_graph", "-o", str(out), "--pdf"]) == 2
    assert "--pdf" in capsys.readouterr().err


def test_mathml_of_handout_latex():
    m = handout_html.mathml(r"\frac{\partial L}{\partial W_{11}} &= \left(\hat{y} - y\right) w_1 = -0.15")
    assert "<mfrac>" in m and "<mn>−0.15</mn>" in m and "stretchy" not in m.split("<mover")[0].split("<mfrac>")[1][:0]
    assert '<annotation encoding="application/x-tex">' in m and "&amp;=" in m
    assert "<mtext>(</mtext><mi>y</mi><mtext>&#x000A0;one-hot)</mtext>" in handout_html.mathml(r"\text{($y$ one-hot)}")


def test_code_in_a_sentence_reads_as_typed():
    """\\texttt{clip\\_norm} is the name clip_norm in HTML (the PDF's escape is not shown)."""
    html = handout_html.mixed(r"clip with \texttt{clip\_norm}; \texttt{chainrule handout gru\_d2l}")
    assert "<code>clip_norm</code>" in html and "<code>chainrule handout gru_d2l</code>" in html and "\\_" not in html


def test_a_section_is_cited_by_its_number():
    page = (ROOT / GOLDEN_DIR / "html" / "batchnorm_mlp.html").read_text(encoding="utf-8")
    assert "\\ref{" not in page and "The derivation in section\u00a03 goes through the statistics" in page


# ------------------------------------------------------------------ in a browser
@pytest.fixture(scope="module")
def browser():
    from chromium import CHROMIUM, Browser

    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed")
    b = Browser()
    yield b
    b.close()


def _pages(tmp_path_factory) -> list[tuple[str, Path]]:
    pages = [(p.stem, p) for p in sorted((ROOT / GOLDEN_DIR / "html").glob("*.html"))]
    folder = tmp_path_factory.mktemp("html")
    for name in names():
        if name not in HTML_GOLDEN:
            path = folder / f"{name}.html"
            path.write_text(html_of(name))
            pages.append((name, path))
    return pages


def test_every_html_handout_loads_cleanly_in_chromium(browser, tmp_path_factory, tmp_path):
    pages = _pages(tmp_path_factory)
    assert len(pages) == len(names()) + 2  # every catalogue network, the exercise sheet and the Adam page
    keep = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    keep.mkdir(parents=True, exist_ok=True)
    for name, path in pages:
        report = browser.load(path, PAGE_CHECK)
        assert report["errors"] == [], (name, report["errors"])
        page = report["value"]
        assert page["merror"] == 0, name
        assert page["maths"] > 20 and page["empty"] == [], (name, page["empty"])
        assert page["svgs"] >= 1 and page["boxes"] >= 6, name
        assert page["overlaps"] == 0, name  # no box (and its label) drawn over another
        assert page["sections"][0].startswith("1"), name
        if name in names() and load(name).__dict__.get("recurrence") is not None:
            assert page["carries"] == len(load(name).recurrence.states), name  # each state carried to step t+1
        if name.endswith("_exercise"):
            assert page["results_hidden"] and page["details"] > 5
        shot = keep / f"{name}.png"
        browser.screenshot(shot)
        assert shot.stat().st_size > 20_000  # a page with content, not a blank one
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hovering_a_parameter_lights_its_paths_to_the_loss(browser):
    report = browser.load(ROOT / GOLDEN_DIR / "html" / "two_layer_sigmoid.html", HIGHLIGHT)
    lit = report["value"]
    assert lit["box"].endswith("-W11")
    keys = {i.split("-", 1)[1] for i in lit["lit"]}
    assert keys == {"W11", "z1", "a1", "z", "yhat", "L", "W11-z1", "z1-a1", "a1-z", "z-yhat", "yhat-L"}
    assert lit["after"] == 0


def test_screenshot_of_one_element(browser, tmp_path):
    browser.load(ROOT / GOLDEN_DIR / "html" / "computation_graph.html")
    browser.screenshot(tmp_path / "graph.png", "#backward figure")
    assert (tmp_path / "graph.png").stat().st_size > 5_000
    assert shutil.which("chromium") or shutil.which("chromium-browser")


def test_exercise_golden_is_the_exercise():
    page = (ROOT / GOLDEN_DIR / "html" / f"{HTML_EXERCISE}_exercise.html").read_text()
    assert "(exercises)" in page and "<details>" in page
