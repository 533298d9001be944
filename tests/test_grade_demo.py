"""The demo class (docs/demo_class/: 12 made-up students on 4 questions, with right answers, classic slips,
LaTeX, steps and an unreadable file) regenerates byte for byte, and ``chainrule demo`` grades it."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from codegen.cli import cmd_grade

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_class_regenerates_byte_for_byte(tmp_path):
    written = cmd_grade.regenerate(tmp_path)
    assert any(p.name == "grades.csv" for p in written)
    for path in written:
        golden = ROOT / path.relative_to(tmp_path)
        assert golden.exists(), f"{golden} is missing: run python3 scripts/regenerate.py"
        assert path.read_bytes() == golden.read_bytes(), f"{golden} differs: run python3 scripts/regenerate.py"
    feedback = {p.name for p in (ROOT / cmd_grade.GOLDEN_DIR / "feedback").iterdir()}
    assert feedback == {p.name for p in written if p.parent.name == "feedback"}  # no stale feedback


def test_the_demo_class_shows_every_verdict_and_the_classic_slips():
    rows = list(csv.DictReader((ROOT / cmd_grade.GOLDEN_DIR / "grades.csv").open(encoding="utf-8")))
    assert len({r["student"] for r in rows}) == 12 and len({r["question"] for r in rows}) == 4
    verdicts = Counter(r["verdict"] for r in rows)
    assert set(verdicts) == {"holds", "wrong", "unreadable", "missing"}
    slips = {r["slip"] for r in rows}
    for slip in ("a missing factor 1/m", "a missing transpose", "σ written where σ′ belongs", "tanh′(a) left out"):
        assert slip in slips
    partial = [r for r in rows if r["verdict"] == "wrong" and float(r["points"]) > 0]
    assert partial and all(r["question"] == "q3" for r in partial)  # steps: credit up to the first wrong line
    assert {r["verdict"] for r in rows if r["student"] == "farid"} == {"unreadable"}  # saved in Latin-1


def test_chainrule_demo_grades_the_demo_class(tmp_path, capsys):
    assert cmd_grade.demo(str(tmp_path))
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["question", "points", "holds"]
    assert (tmp_path / "grade" / "report" / "grades.csv").read_bytes() == (
        ROOT / cmd_grade.GOLDEN_DIR / "grades.csv"
    ).read_bytes()
