"""``chainrule grade``: a class graded in one run (grades.csv, grades.json, feedback per student, the
summary), bad questions and bad folders refused in one line, unreadable files graded ``unreadable``
without stopping the run, time limits per claim and per run, parallel workers that are killed and
replaced when they hang or die, and deterministic output."""

from __future__ import annotations

import csv
import json
import os
import time

import pytest

from codegen.cli import main
from codegen.cli.grade import pool
from codegen.cli.grade.checking import slip_name
from codegen.cli.grade.submissions import answer_text

QUESTIONS = """title = "Homework 3"

[[question]]
id = "q1"
spec = "two_layer_sigmoid"
wrt = "W11"
points = 2

[[question]]
id = "q2"
spec = "one_hidden_layer"
wrt = "dW1"
points = 3
title = "dW1, vectorised"

[[question]]
id = "q3"
spec = "two_layer_sigmoid"
wrt = "W11"
points = 4
kind = "steps"
"""

STUDENTS = {
    "alice.txt": (
        "Name: Alice\n"
        "q1: (yhat - y)*w1*a1*(1 - a1)*x1\n"
        "q2: dW1 = (1/m) dZ1 @ X.T\n"
        "q3: dL/dyhat = (yhat - y)/(yhat*(1 - yhat))\n"
        "q3: dyhat/dz = yhat*(1 - yhat)\n"
        "q3: dW11 = (yhat - y)*w1*a1*(1-a1)*x1\n"
    ),
    "bob.md": "- q1: $(\\hat{y} - y) w_1 a_1 a_1 x_1$\n- q2: `dW1 = dZ1 @ X.T`\n",
    "erin.tex": (
        "\\item q3: $\\frac{\\partial L}{\\partial \\hat{y}} = \\frac{\\hat{y} - y}{\\hat{y}(1 - \\hat{y})}$\n"
        "\\item q3: $\\frac{\\partial \\hat{y}}{\\partial z} = \\hat{y}$\n"
        "\\item q3: $\\frac{\\partial L}{\\partial W_{11}} = (\\hat{y} - y) w_1 a_1 (1 - a_1) x_1$\n"
        "q1: dW12 = (yhat - y)*w1*a1*(1 - a1)*x1\n"
        "q2: dW1 = (1/m) dZ1 @ X.T + (\n"
    ),
}
EXPECTED_CSV = """student,question,points,max_points,verdict,slip
alice,q1,2,2,holds,
alice,q2,3,3,holds,
alice,q3,4,4,holds,
bob,q1,0,2,wrong,a1 written for (1 − a1)
bob,q2,0,3,wrong,a missing factor 1/m
bob,q3,0,4,missing,
carol,q1,0,2,unreadable,
carol,q2,0,3,unreadable,
carol,q3,0,4,unreadable,
dave,q1,0,2,unreadable,
dave,q2,0,3,unreadable,
dave,q3,0,4,unreadable,
erin,q1,0,2,wrong,an answer for another gradient
erin,q2,0,3,unreadable,
erin,q3,1.33,4,wrong,a missing factor (1 − ŷ)
"""


def make_class(folder, students=STUDENTS, questions=QUESTIONS):
    (folder / "questions.toml").write_text(questions, encoding="utf-8")
    subs = folder / "subs"
    subs.mkdir()
    for name, text in students.items():
        (subs / name).write_text(text, encoding="utf-8")
    (subs / "carol.txt").write_bytes(b"q1: \x00\x01\x02 a binary file")
    (subs / "dave.txt").write_bytes(b"q1: caf\xe9 (latin-1)\n")
    return folder / "questions.toml", subs


def grade(capsys, *argv):
    status = main(["grade", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once with two workers: (report folder, stdout)."""
    folder = tmp_path_factory.mktemp("class")
    questions, subs = make_class(folder)
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        assert main(["grade", str(questions), str(subs), "-o", str(folder / "report"), "--jobs", "2"]) == 0
    return folder, out.getvalue()


def test_grades_csv_is_the_class_graded(graded):
    folder, _ = graded
    assert (folder / "report" / "grades.csv").read_text(encoding="utf-8") == EXPECTED_CSV
    rows = list(csv.DictReader((folder / "report" / "grades.csv").open(encoding="utf-8")))
    assert {r["verdict"] for r in rows} == {"holds", "wrong", "unreadable", "missing"}


def test_grades_json_has_the_counterexamples_and_reasons(graded):
    folder, _ = graded
    data = json.loads((folder / "report" / "grades.json").read_text(encoding="utf-8"))
    assert data["generator"] == "chainrule grade" and [q["id"] for q in data["questions"]] == ["q1", "q2", "q3"]
    students = {s["student"]: s for s in data["students"]}
    assert sorted(students) == ["alice", "bob", "carol", "dave", "erin"]
    assert students["alice"]["points"] == 9.0 and students["alice"]["max_points"] == 9.0
    bob_q1 = students["bob"]["answers"][0]
    assert bob_q1["verdict"] == "wrong" and bob_q1["first_wrong_line"] == 1
    ce = bob_q1["lines"][0]["counterexample"]
    assert set(ce) == {"point", "claimed", "true", "note"} and ce["point"]["x1"] == 1.0625
    assert ce["claimed"] != ce["true"]
    assert students["carol"]["problem"] == "carol.txt: a binary file, not text"
    assert students["dave"]["problem"].startswith("dave.txt: not UTF-8 text (byte 0xe9 on line 1)")
    erin = {a["question"]: a for a in students["erin"]["answers"]}
    assert erin["q2"]["reason"].startswith("unbalanced parenthesis")
    assert erin["q3"]["first_wrong_line"] == 2 and erin["q3"]["points"] == 1.33
    assert [line["verdict"] for line in erin["q3"]["lines"]] == ["holds", "wrong", "holds"]
    assert data["summary"][0]["slips"] == [
        {"slip": "a1 written for (1 − a1)", "count": 1},
        {"slip": "an answer for another gradient", "count": 1},
    ]


def test_feedback_is_worded_for_the_student(graded):
    folder, _ = graded
    feedback = sorted(os.listdir(folder / "report" / "feedback"))
    assert feedback == ["alice.md", "bob.md", "carol.md", "dave.md", "erin.md"]
    bob = (folder / "report" / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert bob.startswith("# Homework 3: bob\n\n**Total: 0 of 9 points**")
    assert "## q1 (0 of 2 points): not correct" in bob
    assert "The first line that is not right is line 1.\nLikely slip: a1 written for (1 − a1)." in bob
    assert "Counterexample: at x1 = 1.0625, " in bob and "your formula gives -0.42289 but the derivation gives" in bob
    assert "## q2: dW1, vectorised (0 of 3 points): not correct" in bob
    assert "No line starting with `q3:` was found." in bob
    erin = (folder / "report" / "feedback" / "erin.md").read_text(encoding="utf-8")
    assert "Partial credit for the lines before it: 1.33 of 4 points." in erin
    assert "could not be read: unbalanced parenthesis" in erin
    carol = (folder / "report" / "feedback" / "carol.md").read_text(encoding="utf-8")
    assert "Your submission could not be read: carol.txt: a binary file, not text." in carol


def test_summary_on_stdout(graded):
    _, out = graded
    lines = out.splitlines()
    assert lines[0].split() == [
        "question",
        "points",
        "holds",
        "wrong",
        "unreadable",
        "missing",
        "mean",
        "commonest",
        "slips",
    ]
    assert lines[1].split()[:7] == ["q1", "2", "1", "2", "2", "0", "0.4"]
    assert "a1 written for (1 − a1) (1)" in lines[1]
    assert lines[3].split()[:7] == ["q3", "4", "1", "1", "2", "1", "1.07"]


def test_output_is_deterministic_with_any_number_of_workers(graded, tmp_path, capsys):
    folder, out = graded
    status, again, _ = grade(capsys, folder / "questions.toml", folder / "subs", "-o", tmp_path / "r", "--jobs", "1")
    assert status == 0 and again == out
    for name in ("grades.csv", "grades.json", "feedback/bob.md", "feedback/erin.md"):
        assert (tmp_path / "r" / name).read_bytes() == (folder / "report" / name).read_bytes(), name


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ("[[question]]\nid = 'q1'\nspec = 'two_layer_sigmoid'\nwrt = 'W11'\npoints = \n", "cannot read the TOML"),
        ("title = 3\n", "'title' must be text"),
        ("[[question]]\nid = 'q1'\nspec = 'two_layer_sigmoid'\nwrt = 'W11'\n", "question 1 ('q1'): 'points' must"),
        ("[[question]]\nid = 'q1'\nspec = 'nope'\nwrt = 'W11'\npoints = 1\n", "unknown network 'nope'"),
        ("[[question]]\nid = 'q1'\nspec = 'two_layer_sigmoid'\nwrt = 'W99'\npoints = 1\n", "unknown name 'W99'"),
        (
            "[[question]]\nid = 'q1'\nspec = 'two_layer_sigmoid'\nwrt = 'W11'\npoints = 1\npts = 2\n",
            "unknown key 'pts'",
        ),
        ("[[question]]\nid = 'q1'\nspec = 'missing.py'\nwrt = 'W11'\npoints = 1\n", "no such spec file"),
        ("[[question]]\nid = 'q1'\nspec = 'two_layer_sigmoid'\nwrt = 'W11'\npoints = 1\nkind = 'essay'\n", "'kind'"),
        (QUESTIONS + "\n[[question]]\nid = 'Q1'\nspec = 'xor'\nwrt = 'w1'\npoints = 1\n", "the id 'Q1' is used twice"),
        ("", "no questions"),
    ],
)
def test_bad_questions_are_one_line_and_exit_2(tmp_path, capsys, questions, message):
    path, subs = make_class(tmp_path, questions=questions)
    status, out, err = grade(capsys, path, subs, "-o", tmp_path / "r")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err, err
    assert err.startswith(f"chainrule: error: {path}")
    assert not (tmp_path / "r").exists()


def test_bad_folders_are_one_line_and_exit_2(tmp_path, capsys):
    path, subs = make_class(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden.txt").write_text("q1: x1")
    for folder, message in (
        (tmp_path / "nope", "no such submissions folder"),
        (path, "a file, not a folder"),
        (empty, "no submissions in the folder"),
    ):
        status, _, err = grade(capsys, path, folder, "-o", tmp_path / "r")
        assert status == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "grades.csv").write_text("mine")
    status, _, err = grade(capsys, path, subs, "-o", tmp_path / "other")
    assert status == 2 and "refusing to overwrite grades.csv" in err
    assert (tmp_path / "other" / "grades.csv").read_text() == "mine"


def test_files_that_cannot_be_read_never_stop_the_run(tmp_path, capsys):
    path, subs = make_class(tmp_path, students={"alice.txt": STUDENTS["alice.txt"]})
    (subs / "big.txt").write_text("q1: x1\n" * 300_000)
    os.mkfifo(subs / "fifo.txt")
    (subs / "ivy.pdf").write_bytes(b"%PDF-1.4")
    (subs / "hal.txt").write_text("q1: x1")
    (subs / "hal.md").write_text("q1: x1")
    (subs / "utf16.txt").write_bytes("q1: (yhat - y)*w1*a1*(1 - a1)*x1\n".encode("utf-16"))
    (subs / "bom.txt").write_bytes("\ufeffq1: (yhat - y)*w1*a1*(1 - a1)*x1\n".encode())
    (subs / "gina").mkdir()
    (subs / "gina" / "a.md").write_text("q1: (yhat - y)*w1*a1*(1 - a1)*x1\n")
    (subs / "gina" / "b.txt").write_text("q2: dW1 = (1/m) * dZ1 @ X.T\n")
    status, _, _ = grade(capsys, path, subs, "-o", tmp_path / "r", "--jobs", "2")
    assert status == 0
    data = json.loads((tmp_path / "r" / "grades.json").read_text(encoding="utf-8"))
    problems = {s["student"]: s["problem"] for s in data["students"]}
    assert problems["big"] == "big.txt: the file is too large (2.1 MB; at most 1 MB)"
    assert problems["fifo"] == "fifo.txt: not a regular file (a FIFO, a device or a socket)"
    assert problems["ivy"] == "ivy.pdf: not a .txt, .md or .tex file (ivy.pdf)"
    assert problems["hal"] == "more than one submission (hal.md, hal.txt): keep one"
    assert problems["utf16"] is None and problems["bom"] is None and problems["gina"] is None
    rows = {(r["student"], r["question"]): r for r in csv.DictReader((tmp_path / "r" / "grades.csv").open())}
    assert rows[("utf16", "q1")]["verdict"] == rows[("bom", "q1")]["verdict"] == "holds"
    assert rows[("gina", "q1")]["verdict"] == rows[("gina", "q2")]["verdict"] == "holds"
    assert rows[("big", "q1")]["verdict"] == "unreadable"


def test_a_claim_that_takes_too_long_is_unreadable(tmp_path, capsys, monkeypatch):
    from derive.verify import scalar

    def spin(*args):  # a check that would never end, in the workers (forked after this)
        while True:
            pass

    monkeypatch.setattr(scalar, "CLAIM_SECONDS", 0.05)
    monkeypatch.setattr(scalar, "compare", spin)
    path, subs = make_class(tmp_path, students={"slow.txt": "q1: (yhat - y)*w1*a1*(1 - a1)*x1\n"})
    status, _, _ = grade(capsys, path, subs, "-o", tmp_path / "r", "--jobs", "2")
    assert status == 0
    data = json.loads((tmp_path / "r" / "grades.json").read_text(encoding="utf-8"))
    slow_q1 = data["students"][-1]["answers"][0]
    assert slow_q1["verdict"] == "unreadable" and slow_q1["reason"] == "checking the claim took longer than 0.05 s"


def test_the_whole_run_has_a_time_limit(tmp_path, capsys):
    path, subs = make_class(tmp_path)
    status, _, err = grade(capsys, path, subs, "-o", tmp_path / "r", "--time-limit", "0.001")
    assert status == 0, err
    data = json.loads((tmp_path / "r" / "grades.json").read_text(encoding="utf-8"))
    reasons = {a["reason"] for s in data["students"] for a in s["answers"] if s["problem"] is None and a["lines"] == []}
    assert "not checked: the run's time limit (0.001 s) was reached" in reasons


def test_the_pool_kills_a_task_that_hangs_or_dies_and_goes_on():
    def work(key):
        if key == "hang":
            time.sleep(60)
        if key == "die":
            os._exit(3)
        return key.upper()

    start = time.monotonic()
    out = pool.run(["a", "hang", "b", "die", "c", "d"], work, jobs=2, task_seconds=lambda key: 1.0, total_seconds=30)
    assert time.monotonic() - start < 20
    assert [out[k] for k in ("a", "b", "c", "d")] == ["A", "B", "C", "D"]
    assert out["hang"] == pool.Failed("checking took longer than 1 s")
    assert out["die"] == pool.Failed("the check stopped unexpectedly (its process died)")


def test_answer_lines_and_slip_names():
    assert answer_text("$x_1$.") == "$x_1$" and answer_text("`dW1 = X`") == "dW1 = X"
    assert answer_text("\\( a \\)") == "$a$" and answer_text("dW1 = x \\\\") == "dW1 = x"
    assert slip_name("keepdims left out: np.sum(…) gives a rank-1 array") == "keepdims left out"
    assert slip_name("a missing factor 1/m (the claim is m × the truth)") == "a missing factor 1/m"
    assert slip_name("a1 written for (1 − a1)") == "a1 written for (1 − a1)"
    assert slip_name("in the step (the part multiplied by alpha): a missing factor x1") == (
        "in the update's step: a missing factor x1"
    )
