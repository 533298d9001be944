"""``chainrule verify``: exit status 0 / 1 / 2, the report, and a whole sheet as a table."""

from __future__ import annotations

from codegen.cli import main


def run(capsys, *argv):
    status = main(["verify", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_true_text_claim_exits_0(capsys):
    status, out, err = run(capsys, "two_layer_sigmoid", "--wrt", "W11", "--claim", "(yhat - y)*w1*a1*(1 - a1)*x1")
    assert status == 0, err
    assert "holds" in out and "symbolic: proved" in out


def test_true_latex_claim_exits_0(capsys):
    status, out, _ = run(
        capsys, "two_layer_sigmoid", "--latex", r"\frac{\partial L}{\partial W_{11}} = (\hat{y}-y) w_1 a_1 (1-a_1) x_1"
    )
    assert status == 0
    assert "∂L/∂W11" in out


def test_wrong_claim_exits_1_with_counterexample_and_hint(capsys):
    status, out, _ = run(capsys, "two_layer_sigmoid", "--wrt", "W11", "--claim", "(yhat - y)*w1*a1*a1*x1")
    assert status == 1
    assert "WRONG" in out
    assert "counterexample: at x1 = " in out and "claimed " in out and "true " in out
    assert "likely slip: a1 written for (1 − a1)" in out


def test_vectorised_claims(capsys):
    status, _, _ = run(capsys, "one_hidden_layer", "--claim", "dW1 = (1/m) dZ1 X.T")
    assert status == 0
    status, out, _ = run(capsys, "one_hidden_layer", "--wrt", "db1", "--claim", "(1/m) np.sum(dZ1, axis=1) + 0*b1")
    assert status == 1
    assert "keepdims" in out


def test_bad_input_exits_2_with_one_line(capsys):
    for argv in (
        ["two_layer_sigmoid", "--wrt", "W11", "--claim", "q*x1"],
        ["two_layer_sigmoid", "--wrt", "nope", "--claim", "x1"],
        ["two_layer_sigmoid", "--claim", "x1"],
        ["two_layer_sigmoid", "--wrt", "W12", "--latex", r"\frac{\partial L}{\partial W_{11}} = x_1"],
        ["two_layer_sigmoid", "--wrt", "W11", "--latex", r"\frac{1}{"],
        ["no_such_network", "--wrt", "W11", "--claim", "x1"],
    ):
        status, out, err = run(capsys, *argv)
        assert status == 2, argv
        assert out == ""
        assert len(err.strip().splitlines()) == 1 and err.startswith("chainrule: error: "), err


SHEET = r"""# a student's sheet: text and $…$ LaTeX
W11: (yhat - y)*w1*a1*(1 - a1)*x1
b1: $(\hat{y} - y) w_1 a_1 (1 - a_1)$
w1: (yhat - y)*a1*(1 - a1)

$\frac{\partial L}{\partial W_{22}} = (\hat{y} - y) w_2 a_2 (1 - a_2) x_2$
W11 := W11 - alpha*dW11
"""


def test_sheet_prints_a_table_and_exits_1_when_one_is_wrong(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text(SHEET, encoding="utf-8")
    status, out, _ = run(capsys, "two_layer_sigmoid", "--claims", str(sheet))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].split() == ["line", "claim", "verdict", "symbolic", "numeric", "likely", "slip"]
    rows = {line.split()[0]: line for line in lines[1:5]}
    assert "holds" in rows["2"] and "holds" in rows["3"] and "holds" in rows["6"]
    assert "WRONG" in rows["4"] and "extra factor (1 − a1)" in rows["4"]
    assert f"{sheet}:4: ∂L/∂w1" in out
    assert "4 of 5 claims hold" in out


def test_sheet_all_true_exits_0(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text(
        "dW1: (1/m) dZ1 X.T\ndb2: $\\frac{1}{m} np.sum(dZ^{[2]}, axis=1, keepdims=True)$\n", encoding="utf-8"
    )
    status, out, _ = run(capsys, "one_hidden_layer", "--claims", str(sheet))
    assert status == 0
    assert "2 of 2 claims hold" in out


def test_sheet_unreadable_line_is_one_row_and_the_sheet_goes_on(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text(
        "W11: (yhat - y)*w1*a1*(1 - a1)*x1\n\nW12: q*x1\nW21:\nW22: (yhat - y)*w2*a2*(1 - a2)*x2\n", encoding="utf-8"
    )
    status, out, err = run(capsys, "two_layer_sigmoid", "--claims", str(sheet))
    assert status == 1, err
    assert err == ""
    rows = {line.split()[0]: line.split(None, 3) for line in out.splitlines()[1:5]}
    assert rows["1"][2] == "holds" and rows["5"][2] == "holds"
    assert rows["3"][1:3] == ["W12", "unreadable"]
    assert rows["3"][3].strip() == (
        "unknown name 'q' (network 'two_layer_sigmoid' has: x1, x2, y, W11, W21, W12, W22, b1, b2, w1, w2, b, "
        "z1, a1, z2, a2, z, yhat, L)"
    )
    assert rows["4"][1:3] == ["W21", "unreadable"] and rows["4"][3].strip() == "no formula after 'W21:'"
    assert f"{sheet}:3: W12: unreadable" in out
    assert "2 of 4 claims hold (2 unreadable)" in out


def test_sheet_with_nothing_readable_exits_2_with_one_line(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text("W12: q*x1\nW11: 9**9**9\n", encoding="utf-8")
    status, out, err = run(capsys, "two_layer_sigmoid", "--claims", str(sheet))
    assert status == 2 and out == ""
    assert err.startswith(f"chainrule: error: {sheet}:1: unknown name 'q'") and len(err.strip().splitlines()) == 1


def test_sheet_missing_file_and_empty_formula(capsys, tmp_path):
    status, _, err = run(capsys, "two_layer_sigmoid", "--claims", str(tmp_path / "none.txt"))
    assert status == 2 and "no such claims file" in err
    sheet = tmp_path / "claims.txt"
    sheet.write_text("W11:\n", encoding="utf-8")
    status, _, err = run(capsys, "two_layer_sigmoid", "--claims", str(sheet))
    assert status == 2 and f"{sheet}:1: no formula" in err


def test_demo_checks_the_example_sheets(capsys, tmp_path):
    from codegen.cli.cmd_verify import DEMO_SHEETS, demo

    assert demo(str(tmp_path))
    out, _ = capsys.readouterr()
    assert out.count(": ok") == len(DEMO_SHEETS)
    for sheet in DEMO_SHEETS:
        assert (tmp_path / "verify" / sheet).read_text(encoding="utf-8").rstrip().endswith("claims hold")
