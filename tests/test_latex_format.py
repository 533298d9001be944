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

MARK = latex_format.MARK_LINE + "\n"
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


def test_handouts_with_the_same_packages_share_a_format_and_keep_their_own_titles(cache, tmp_path):
    first = latex_format.format_for(HANDOUT)
    retitled = HANDOUT.replace("\\title{Backpropagation by hand:", "\\title{Another title:", 1)
    assert retitled != HANDOUT and latex_format.format_for(retitled) == first  # below the mark: the document's own
    assert "Another title" in text_of(latex_build.compile_text(retitled).pdf, tmp_path)
    more = HANDOUT.replace(MARK, "\\usepackage{bm}\n" + MARK, 1)
    assert latex_format.format_for(more) not in (None, first)  # other packages: another format
    deck = (ROOT / "docs" / "handouts" / "slides" / "two_layer_sigmoid.tex").read_text(encoding="utf-8")
    assert latex_format.format_for(deck) not in (None, first)


def test_an_error_keeps_its_line_in_the_tex(cache):
    lines = HANDOUT.splitlines()
    body = lines.index("\\begin{document}") + 3
    broken = "\n".join([*lines[:body], "\\undefinedcommandhere", *lines[body:]])
    assert latex_format.format_for(broken) is not None
    with pytest.raises(latex_build.LatexFailed) as caught:
        latex_build.compile_text(broken, where="notes.tex")
    assert caught.value.where == f"notes.tex:{body + 1}" and "Undefined control sequence" in str(caught.value)


def test_a_preamble_that_does_not_dump_is_built_the_ordinary_way(cache):
    broken = HANDOUT.replace(MARK, "\\usepackage{nosuchpackageanywhere}\n" + MARK, 1)
    assert latex_format.format_for(broken) is None
    assert not [p for p in cache.iterdir() if p.suffix == ".fmt"]  # nothing half-made is kept
    line = broken.splitlines().index("\\usepackage{nosuchpackageanywhere}") + 1
    with pytest.raises(latex_build.LatexFailed) as caught:
        latex_build.compile_text(broken, where="notes.tex")
    # (LaTeX reads the line after \usepackage before it stops, so it names that one: as it always has)
    assert caught.value.where in (f"notes.tex:{line}", f"notes.tex:{line + 1}")
    assert "nosuchpackageanywhere" in str(caught.value)


@pytest.mark.parametrize(
    "tex",
    [
        HANDOUT.replace(MARK, ""),  # not written by chainrule: no mark
        HANDOUT.replace(MARK, "\\dump\n" + MARK, 1),
        HANDOUT.replace("\\documentclass", "%\\documentclass", 1),
    ],
    ids=["no-mark", "dump", "no-documentclass"],
)
def test_documents_that_are_not_for_a_format(cache, tex):
    assert latex_format.format_for(tex) is None


def test_an_unwritable_cache_builds_the_ordinary_way(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(blocked))
    assert latex_format.format_for(HANDOUT) is None
    assert latex_build.compile_text(HANDOUT).pdf.startswith(b"%PDF")


def test_other_engines_have_no_format(cache):
    assert latex_format.format_for(HANDOUT, "lualatex") is None
