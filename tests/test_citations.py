"""What users see cites public sources (J&M, CS124, deeplearning.ai, cs231n, Nielsen), never the project's
internal lecture notes: no "seed 00x", no LECTURES.md, no section letters such as "C.8" or "(seed 001, B)"."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INTERNAL = re.compile(r"seed 0\d\d|LECTURES|\b[Ll]ecture [A-E]\b|\bsection [A-E]\b|\bC\.\d{1,2}\b|equations of E\b")
USER_FACING = [
    *sorted((ROOT / "generated").glob("*.py")),
    *sorted((ROOT / "docs").rglob("*.tex")),
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "codegen" / "templates").glob("*.jinja")),
    *sorted((ROOT / "codegen" / "sheets").glob("*.txt")),
    *sorted((ROOT / "derive").rglob("*.py")),
    *sorted((ROOT / "codegen").rglob("*.py")),
    *sorted((ROOT / "scripts").glob("*.py")),
    ROOT / "README.md",
]


def leaks(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if INTERNAL.search(line)]


def test_the_pattern_catches_what_it_must():
    for bad in ("(seed 001, B)", "LECTURES.md C.8", "lecture E", "(J&M ch. 7, C.10)", "the six equations of E"):
        assert leaks(bad), bad
    for fine in ("deeplearning.ai course 1, week 3", "J&M ch. 7", "init_params(seed=0)", "column w_t of E"):
        assert not leaks(fine), fine


@pytest.mark.parametrize("path", USER_FACING, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_citation_in_files_users_see(path):
    assert leaks(path.read_text(encoding="utf-8")) == []


def test_chainrule_list_cites_public_sources():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "chainrule", "list"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert len(out.splitlines()) >= 13
    assert leaks(out) == []
    assert "J&M ch. 7" in out and "deeplearning.ai" in out and "CS124" in out


def test_sources_lists_every_catalogue_network():
    from derive.catalogue import names

    sources = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for name in names():
        assert f"`{name}`" in sources, name
