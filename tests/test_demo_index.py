"""The demo's index.html links every file the demo wrote for each network, says in one line what each is, and
says why a form is missing; it loads in headless Chromium without an error or a request beyond its folder.

The demo itself is slow (tests/test_install.py runs it whole); here its output folder is laid out by hand
for three networks of different kinds, as the demo leaves it, and the index is written over it."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

from codegen.cli.demo_index import COLUMNS, NOT_WRITTEN, write_index
from derive.catalogue import describe

NETWORKS = {  # network -> the files the demo writes for it (elman_rnn's pages here as if their build had failed)
    "two_layer_sigmoid": [
        "derivation.txt",
        "handout.tex",
        "handout.pdf",
        "handout.html",
        "handout.ipynb",
        "slides.tex",
        "slides.pdf",
    ],
    "elman_rnn": ["derivation.txt", "handout.tex", "handout.pdf"],
    "computation_graph": ["derivation.txt", "handout.tex", "handout.pdf", "handout.html", "slides.tex", "slides.pdf"],
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo out")  # a space in the folder's name: links are quoted
    for name, files in NETWORKS.items():
        for filename in files:
            (out / name).mkdir(exist_ok=True)
            (out / name / filename).write_text("x\n")
        if name != "computation_graph":  # it has no parameters, so no training module
            (out / "generated").mkdir(exist_ok=True)
            (out / "generated" / f"{name}.py").write_text("x\n")
            (out / "generated" / f"test_{name}.py").write_text("x\n")
    for part in ("verify/sheets/mistakes.txt", "verify/mistakes.txt", "nlp/report.txt", "nlp/rnn_lm.py"):
        (out / part).parent.mkdir(parents=True, exist_ok=True)
        (out / part).write_text("x\n")
    networks = [{"name": name, "params": 9, "worst": 1e-9} for name in NETWORKS]
    path = write_index(str(out), networks, {"mistakes.txt": "typical mistakes"}, ["rnn_lm", "ffnn_lm"])
    return out, Path(path)


def test_every_link_is_a_file_the_demo_wrote_and_every_file_is_linked(index):
    out, path = index
    page = path.read_text(encoding="utf-8")
    links = {unquote(unescape(h)) for h in re.findall(r'href="([^"]+)"', page)}
    assert all((out / link).is_file() for link in links), sorted(link for link in links if not (out / link).is_file())
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "index.html"}
    assert written - links == set()


def test_each_network_has_its_line_and_each_kind_of_file_its_explanation(index):
    _, path = index
    page = unescape(path.read_text(encoding="utf-8"))
    for name in NETWORKS:
        assert f'<td class="name">{name}</td>' in page and describe(name) in page
    for _, _, what in COLUMNS:
        assert what in page
    rows = re.findall(r"<tr>\n<td class=\"name\">(\w+)</td>(.*?)</tr>", page, re.DOTALL)
    elman = dict(rows)["elman_rnn"]
    assert elman.count(f'title="{NOT_WRITTEN}"') == 3  # HTML, slides, notebook
    assert dict(rows)["computation_graph"].count('class="none"') == 2  # no notebook, no module (a reason each)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is installed by scripts/setup.sh")
def test_the_index_loads_in_chromium(index, tmp_path):
    from chromium import Browser

    _, path = index
    browser = Browser()
    try:
        shown = browser.load(path, "[document.querySelectorAll('tbody tr').length, document.title]")
        browser.screenshot(tmp_path / "index.png")
    finally:
        browser.close()
    assert shown["errors"] == []
    assert shown["value"] == [len(NETWORKS) + 1 + 2, "chainrule demo: the lecture networks"]
    assert (tmp_path / "index.png").stat().st_size > 10_000
