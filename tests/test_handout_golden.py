"""docs/handouts/ holds one handout per catalogue network, byte for byte what the code writes.

Regenerate with ``python3 scripts/regenerate.py`` after a deliberate change.
"""

from pathlib import Path

import pytest

from codegen.cli.cmd_handout import GOLDEN_DIR, regenerate
from derive.catalogue import names

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """(the folder, the files written): every handout regenerated once for the tests below."""
    folder = tmp_path_factory.mktemp("golden")
    return folder, regenerate(folder)


def test_golden_handouts_are_up_to_date(regenerated):
    tmp_path, written = regenerated
    handouts = [p for p in written if p.parent == tmp_path / GOLDEN_DIR]
    assert sorted(p.name for p in handouts) == sorted(f"{n}.tex" for n in names())
    for path in written:
        golden = ROOT / path.relative_to(tmp_path)
        assert golden.exists(), f"{golden} is missing: run python3 scripts/regenerate.py"
        assert path.read_bytes() == golden.read_bytes(), f"{golden} is stale: run python3 scripts/regenerate.py"


def test_no_stale_handouts(regenerated):
    tmp_path, written = regenerated
    checked_in = {p.stem for p in (ROOT / GOLDEN_DIR).glob("*.tex")}
    assert checked_in == set(names())
    media = {
        p.relative_to(ROOT)
        for d in ("html", "slides", "notebooks", "optimisers")
        for p in (ROOT / GOLDEN_DIR / d).glob("*")
    }
    assert media == {p.relative_to(tmp_path) for p in written if p.parent != tmp_path / GOLDEN_DIR}
