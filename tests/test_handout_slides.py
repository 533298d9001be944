"""Beamer slides: the backward pass one chain-rule step per overlay, compiled by TeX Live like the handouts.

Every catalogue network's deck (per unit, or a matrix program's sections in frames) compiles; the checked-in
ones are built in full and counted page by page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import handout_media
import pytest
from handout_media import matrix
from handout_media import slides as slides_of

from codegen.cli import main
from codegen.cli.cmd_handout import GOLDEN_DIR, SLIDES_GOLDEN
from codegen.handout import latex_build, latex_format
from codegen.handout import slides as handout_slides
from codegen.handout.builder import HandoutOptions, build_context
from derive.catalogue import load, names

ROOT = Path(__file__).resolve().parent.parent


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI (scripts/setup.sh installs it)")
        pytest.skip(f"{tool} is not installed")


def test_one_overlay_per_step_of_the_chain_rule():
    ctx = build_context(load("two_layer_sigmoid"), HandoutOptions())
    block = next(b for b in ctx["backward"]["blocks"] if b["param"] == "W11")
    walk = handout_slides.walk(block)
    # five factors, their product, one cancellation, the result
    assert [s["what"] for s in walk] == ["factor"] * 5 + ["product", "cancel", "result"]
    assert r"\textcolor{red}{\frac{\partial \hat{y}}{\partial z}}" in walk[1]["chain"][0][1]
    assert walk[1]["chain"][0][1].count(r"\textcolor{red}") == 1
    slides = handout_slides.render(load("two_layer_sigmoid"))
    frame = slides.split(r"\begin{frame}{The gradient $\partial L / \partial W_{11}$}")[1].split(r"\end{frame}")[0]
    assert re.findall(r"\\only<(\d+)>", frame) == [str(k) for k in range(1, 9)]


def test_direct_parameter_has_no_chain_to_walk():
    ctx = build_context(load("computation_graph"), HandoutOptions())
    block = next(b for b in ctx["backward"]["blocks"] if b["param"] == "c")
    assert [s["what"] for s in handout_slides.walk(block)] == ["factor", "result"]


@pytest.mark.parametrize("name", SLIDES_GOLDEN)
def test_checked_in_slides_compile(name, tmp_path):
    need("pdflatex")
    need("pdftotext")
    tex = tmp_path / f"{name}.tex"
    shutil.copyfile(ROOT / GOLDEN_DIR / "slides" / f"{name}.tex", tex)
    build = latex_build.compile_pdf(tex)
    too_wide = [(pt, where) for pt, where in build.overfull() if pt > 3.0]
    assert not too_wide, too_wide
    pages = subprocess.run(["pdfinfo", str(build.pdf)], capture_output=True, text=True, check=True).stdout
    n_pages = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    overlays = 0 if matrix(name) else sum(len(b["walk"]) - 1 for b in _blocks(name))
    frames = (ROOT / GOLDEN_DIR / "slides" / f"{name}.tex").read_text().count(r"\begin{frame}")
    assert n_pages == frames + overlays  # one page per overlay
    text = subprocess.run(["pdftotext", str(build.pdf), "-"], capture_output=True, text=True, check=True).stdout
    if matrix(name):  # every section of the handout has its frames
        sections = re.findall(r"\\section\{([^{}]*)\}", handout_media.tex(name))
        assert all(title.replace("\\", "") in text for title in sections), sections
        assert "Through (" in text and "A worked example" in text
    else:
        assert "All the gradients" in text and "Factor 1 of" in text


def _blocks(name):
    ctx = build_context(load(name), HandoutOptions())
    for b in ctx["backward"]["blocks"]:
        b["walk"] = handout_slides.walk(b)
    return ctx["backward"]["blocks"]


def test_cli_slides(tmp_path, capsys):
    out = tmp_path / "s.tex"
    assert main(["handout", "single_unit", "--slides", "-o", str(out)]) == 0
    assert r"\documentclass[aspectratio=169,11pt]{beamer}" in out.read_text()
    assert main(["handout", "single_unit", "--slides", "-o", str(tmp_path / "s.html")]) == 2
    assert "--slides writes Beamer" in capsys.readouterr().err


def _compile_once(name: str) -> tuple[str, int, str]:
    """One pdflatex pass over ``name``'s deck (a pass finds every error): (name, exit status, log)."""
    with tempfile.TemporaryDirectory(prefix="chainrule-slides-") as tmp:
        tex = Path(tmp) / f"{name}.tex"
        text = slides_of(name)
        tex.write_text(text)
        fmt = latex_format.format_for(text)  # the preamble loaded once, as chainrule builds its PDFs
        done = subprocess.run(
            [
                "pdflatex",
                *([f"-fmt={fmt}"] if fmt else []),
                "-draftmode",
                "-interaction=nonstopmode",
                "-halt-on-error",
                tex.name,
            ],
            cwd=tmp,
            check=False,  # the status is asserted below, with the log's first error
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = tex.with_suffix(".log").read_text(encoding="latin-1")
    return name, done.returncode, log


def test_every_catalogue_deck_compiles():
    need("pdflatex")
    with ThreadPoolExecutor(max_workers=2) as pool:
        builds = list(pool.map(_compile_once, names()))
    for name, status, log in builds:
        assert status == 0, (name, latex_build.first_error(log))
        too_big = [
            m.group(0)
            for m in re.finditer(r"^Overfull \\[hv]box \(([\d.]+)pt.*$", log, re.MULTILINE)
            if float(m.group(1)) > 3
        ]
        assert not too_big, (name, too_big)
