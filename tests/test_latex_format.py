"""A handout's preamble loaded once (codegen.handout.latex_format): the PDF built from the cached format says
what the ordinary build says, errors keep their line in the .tex, and whatever goes wrong with a format the
document is still built the ordinary way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from codegen.handout import latex_build, latex_format

ROOT = Path(__file__).resolve().parent.parent
HANDOUT = (ROOT / "docs" / "handouts" / "batchnorm_mlp.tex").read_text(encoding="utf-8")  # refers to its sections

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (CI installs it)")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(folder))
    return folder / "latex"


def test_a_build_from_the_format_says_what_the_ordinary_build_says(cache, tmp_path, monkeypatch):
    fmt = latex_format.format_for(HANDOUT)
    assert fmt is not None and Path(fmt).parent == cache and Path(fmt).stat().st_size > 1_000_000
    assert latex_format.format_for(HANDOUT) == fmt and len(list(cache.iterdir())) == 1  # cached: built once
    fast = latex_build.compile_text(HANDOUT)
    assert 2 <= fast.runs <= latex_build.MAX_RUNS and "Rerun to get cross-references right" not in fast.log
    assert f"-fmt={fmt}" not in fast.log and "format=preamble" in fast.log  # the log names the format it loaded
    monkeypatch.setattr(latex_build, "format_for", lambda tex, engine="pdflatex": None)
    ordinary = latex_build.compile_text(HANDOUT)
    assert "format=pdflatex" in ordinary.log
    assert text_of(fast.pdf, tmp_path) == text_of(ordinary.pdf, tmp_path)
    assert "??" not in text_of(fast.pdf, tmp_path)


def test_another_preamble_is_another_format(cache):
    first = latex_format.format_for(HANDOUT)
    other = HANDOUT.replace("\\begin{document}", "\\newcommand{\\chainruletest}{x}\n\\begin{document}", 1)
    assert latex_format.format_for(other) not in (None, first)


def test_an_error_keeps_its_line_in_the_tex(cache):
    lines = HANDOUT.splitlines()
    body = lines.index("\\begin{document}") + 3
    broken = "\n".join([*lines[:body], "\\undefinedcommandhere", *lines[body:]])
    assert latex_format.format_for(broken) is not None
    with pytest.raises(latex_build.LatexFailed) as caught:
        latex_build.compile_text(broken, where="notes.tex")
    assert caught.value.where == f"notes.tex:{body + 1}" and "Undefined control sequence" in str(caught.value)


def test_a_preamble_that_does_not_dump_is_built_the_ordinary_way(cache):
    broken = HANDOUT.replace("\\begin{document}", "\\usepackage{nosuchpackageanywhere}\n\\begin{document}", 1)
    assert latex_format.format_for(broken) is None
    assert not [p for p in cache.iterdir() if p.suffix == ".fmt"]  # nothing half-made is kept
    line = broken.splitlines().index("\\usepackage{nosuchpackageanywhere}") + 1
    with pytest.raises(latex_build.LatexFailed) as caught:
        latex_build.compile_text(broken, where="notes.tex")
    # (LaTeX reads the line after \usepackage before it stops, so it names that one: as it always has)
    assert caught.value.where in (f"notes.tex:{line}", f"notes.tex:{line + 1}")
    assert "nosuchpackageanywhere" in str(caught.value)


@pytest.mark.parametrize(
    "preamble",
    [
        "\\documentclass{article}\n\\begin{filecontents}{x.tex}\nx\n\\end{filecontents}\n",  # \begin at the top
        "\\documentclass{article}\n\\dump\n",
        "\\usepackage{amsmath}\n",  # no \documentclass: not a document of chainrule's
    ],
    ids=["begin-outside-braces", "dump", "no-documentclass"],
)
def test_preambles_that_are_not_for_a_format(cache, preamble):
    assert latex_format.format_for(preamble + "\\begin{document}\nx\n\\end{document}\n") is None


def test_a_begin_inside_a_definition_is_fine(cache):
    tex = "\\documentclass{article}\n\\newcommand{\\boxed}[1]{\\begin{center}#1\\end{center}}\n% \\begin in a comment\n"
    assert latex_format.format_for(tex + "\\begin{document}\n\\boxed{x}\n\\end{document}\n") is not None


def test_an_unwritable_cache_builds_the_ordinary_way(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(blocked))
    assert latex_format.format_for(HANDOUT) is None
    assert latex_build.compile_text(HANDOUT).pdf.startswith(b"%PDF")


def test_other_engines_have_no_format(cache):
    assert latex_format.format_for(HANDOUT, "lualatex") is None
