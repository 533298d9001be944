"""``chainrule verify SPEC --steps FILE``: a student's derivation checked line by line; the two
example step sheets shipped in codegen/sheets/ (one right, one with a slip in line 3)."""

from __future__ import annotations

from importlib import resources

from codegen.cli import main

SHEETS = resources.files("codegen") / "sheets"


def run(capsys, *argv):
    status = main(["verify", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def rows(out: str) -> dict[str, list[str]]:
    table = out.split("\n\n")[0].splitlines()
    return {line.split()[0]: line.split() for line in table[1:]}


def test_right_steps_all_hold(capsys):
    status, out, err = run(capsys, "two_layer_sigmoid", "--steps", str(SHEETS / "steps_two_layer_sigmoid.txt"))
    assert status == 0, out + err
    table = rows(out)
    assert sorted(table, key=int) == [str(n) for n in range(2, 10)]
    assert all(r[2] == "holds" for r in table.values())
    assert table["8"][3] == "yes"  # "= …" follows from line 7
    assert "every step holds (8 lines)" in out


def test_slip_in_line_3_is_the_first_step_that_does_not_follow(capsys):
    path = str(SHEETS / "steps_mistake.txt")
    status, out, _ = run(capsys, "two_layer_sigmoid", "--steps", path)
    assert status == 1
    table = rows(out)
    assert table["2"][2] == "holds" and table["3"][2] == "WRONG" and table["4"][2] == "holds"
    assert out.splitlines()[2].endswith("differs at 24 of 24 points  a missing factor ŷ")
    assert table["7"][2] == "WRONG" and table["8"][2:4] == ["WRONG", "yes"]  # line 8 follows from the wrong line 7
    assert "first step that does not follow from the network or the line before: line 3" in out
    assert f"{path}:3: ∂yhat/∂z: WRONG" in out and "counterexample: at x1 = " in out
    assert "4 of 7 steps hold" in out


def test_steps_with_unreadable_lines_and_continuations(capsys, tmp_path):
    sheet = tmp_path / "steps.txt"
    sheet.write_text(
        "= x1\ndz1/dW11 = x1\n= q*x1\n$\\frac{\\partial a_1}{\\partial z_1} = a_1(1-a_1)$\n", encoding="utf-8"
    )
    status, out, _ = run(capsys, "two_layer_sigmoid", "--steps", str(sheet))
    assert status == 1
    table = rows(out)
    assert table["1"][2] == "unreadable" and table["3"][2] == "unreadable" and table["2"][2] == "holds"
    assert table["4"][2] == "holds"
    assert "first step that cannot be read: line 1" in out


def test_steps_for_wrt_and_nothing_readable(capsys, tmp_path):
    sheet = tmp_path / "steps.txt"
    sheet.write_text("(yhat - y)*w1*a1*(1 - a1)*x1\n= x1*w1*(yhat - y)*a1*(1 - a1)\n", encoding="utf-8")
    status, out, _ = run(capsys, "two_layer_sigmoid", "--steps", str(sheet), "--wrt", "W11")
    assert status == 0, out
    sheet.write_text("q\n", encoding="utf-8")
    status, out, err = run(capsys, "two_layer_sigmoid", "--steps", str(sheet), "--wrt", "W11")
    assert status == 2 and out == "" and err.startswith(f"chainrule: error: {sheet}:1: unknown name 'q'")
