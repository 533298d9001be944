"""The verify bugs reported with ``chainrule grade`` (issue 23), each as it was found: ``m`` silently 1 in
per-unit claims; parse errors in doubled backslashes or Python's tokenizer words; ``--wrt dW1`` suggested
to a per-unit network; ``--steps --json`` printing the table; a claim running past two minutes; sheets that
were slow, unbounded, unreadable with a BOM, or killed by an overflow; ``--steps`` on a folder, a FIFO or
/dev/zero said to be "no such claims file"."""

from __future__ import annotations

import json
import os
import time

import pytest

from codegen.cli import main


def verify(capsys, *argv):
    status = main(["verify", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_m_is_an_unknown_name_in_a_per_unit_claim(capsys):
    status, out, err = verify(capsys, "two_layer_sigmoid", "--wrt", "W11", "--claim", "m*m*(yhat-y)*w1*a1*(1-a1)*x1")
    assert status == 2 and out == ""
    assert one_line(err).startswith("chainrule: error: --claim: unknown name 'm' (network 'two_layer_sigmoid' has: x1,")


@pytest.mark.parametrize(
    ("flag", "claim", "message"),
    [
        (
            "--latex",
            r"\frac{\partial \mathscr{L}}{\partial W_{11}} = x_1",
            r"cannot read the LaTeX at column 16: \mathscr is not supported",
        ),
        ("--latex", r"x_1 \foo{2}", r"cannot read the LaTeX at column 5: \foo is not supported"),
        ("--latex", r"\frac{1}{2", "unbalanced parenthesis at column 9: '{' is never closed"),
        ("--claim", "(yhat - y*w1", "unbalanced parenthesis at column 1: '(' is never closed"),
        ("--claim", "x1)", "unbalanced parenthesis at column 3: ')' closes nothing"),
        ("--claim", "(x1 + [2)]", "unbalanced parenthesis at column 9: ')' closes nothing"),
    ],
)
def test_parse_errors_name_the_problem_in_the_users_own_text(capsys, flag, claim, message):
    status, _, err = verify(capsys, "two_layer_sigmoid", "--wrt", "W11", flag, claim)
    line = one_line(err)
    assert status == 2 and line == f"chainrule: error: {flag}: {message}", line
    assert "\\\\" not in line


def test_a_per_unit_network_suggests_its_own_names(capsys):
    status, _, err = verify(capsys, "two_layer_sigmoid", "--claim", "x1")
    line = one_line(err)
    assert status == 2 and "--wrt W11" in line and "dW1," not in line and "dW1 " not in line
    status, _, err = verify(capsys, "two_layer_sigmoid", "--wrt", "W13", "--claim", "x1")
    assert "unknown name 'W13'" in one_line(err) and "did you mean 'W" in err
    status, _, err = verify(capsys, "one_hidden_layer", "--claim", "dW1 = dZ11 @ X.T")
    assert "did you mean 'dZ1'" in one_line(err)


def test_steps_json_is_json(capsys):
    status, out, _ = verify(capsys, "two_layer_sigmoid", "--steps", "codegen/sheets/steps_mistake.txt", "--json")
    data = json.loads(out)
    assert status == 1 and data["first_wrong"] == 3 and data["total"] == len(data["lines"])
    assert {"line", "holds", "follows", "hint", "counterexample"} <= set(data["lines"][0])


def test_a_sum_of_a_billion_terms_is_refused_at_once(capsys):
    start = time.monotonic()
    status, _, err = verify(capsys, "two_layer_sigmoid", "--wrt", "W11", "--latex", r"\sum_{i=1}^{1000000000} x_1")
    assert time.monotonic() - start < 5
    assert status == 2 and "the sum over i has 1000000000 terms (at most 1000)" in one_line(err)


def test_a_claim_that_runs_too_long_is_stopped(capsys, monkeypatch):
    from derive.verify import scalar

    def spin(*args):
        while True:
            pass

    monkeypatch.setattr(scalar, "CLAIM_SECONDS", 0.1)
    monkeypatch.setattr(scalar, "compare", spin)
    status, _, err = verify(capsys, "two_layer_sigmoid", "--wrt", "W11", "--claim", "x1")
    assert status == 2 and one_line(err) == "chainrule: error: --claim: checking the claim took longer than 0.1 s"


def test_every_sheet_has_an_overall_limit(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text("W11: (yhat - y)*w1*a1*(1 - a1)*x1\nW12: (yhat - y)*w2*a2*(1 - a2)*x1\n", encoding="utf-8")
    status, out, _ = verify(capsys, "two_layer_sigmoid", "--claims", sheet, "--time-limit", "1e-9")
    assert status == 1 and "not checked: the sheet's time limit (1e-09 s) was reached" in out


def test_a_sheet_saved_with_a_bom_is_read(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_bytes("\ufeffW11: (yhat - y)*w1*a1*(1 - a1)*x1\n".encode())
    status, out, _ = verify(capsys, "two_layer_sigmoid", "--claims", sheet)
    assert status == 0 and "1 of 1 claims hold" in out


def test_a_repeated_line_is_checked_once_and_reported_on_every_line(capsys, tmp_path):
    sheet = tmp_path / "claims.txt"
    sheet.write_text("W11: (yhat - y)*w1*a1*a1*x1\n" * 500, encoding="utf-8")
    status, out, _ = verify(capsys, "two_layer_sigmoid", "--claims", sheet)
    assert status == 1 and "0 of 500 claims hold" in out and out.count("a1 written for (1 − a1)") == 1000


@pytest.mark.parametrize(
    ("network", "claim"),
    [
        ("one_hidden_layer", "dW1: np.exp(1000) * dW1"),
        ("one_hidden_layer", "db1: np.exp(1000) * db1"),
        ("one_hidden_layer", "dW1: np.log(0) * dZ1 @ X.T"),
        ("two_layer_sigmoid", "W11: np.exp(1000)*(yhat - y)*w1*a1*(1-a1)*x1"),
        ("two_layer_sigmoid", "W11: np.log(0)*x1"),
    ],
)
def test_an_overflow_in_a_sheet_is_a_verdict(capsys, tmp_path, network, claim):
    sheet = tmp_path / "claims.txt"
    good = {"one_hidden_layer": "dW1: (1/m) dZ1 @ X.T", "two_layer_sigmoid": "W11: (yhat - y)*w1*a1*(1-a1)*x1"}
    sheet.write_text(f"{claim}\n{good[network]}\n", encoding="utf-8")
    status, out, err = verify(capsys, network, "--claims", sheet)
    assert status == 1 and "Traceback" not in err and "1 of 2 claims hold" in out, err


def test_a_huge_constant_factor_is_said_briefly(capsys):
    status, out, _ = verify(
        capsys, "two_layer_sigmoid", "--wrt", "W11", "--claim", "np.exp(700)*(yhat - y)*w1*a1*(1-a1)*x1"
    )
    assert status == 1 and "likely slip: a wrong constant factor (the claim is 1.01e+304 × the derivation)" in out


@pytest.mark.parametrize("flag", ["--steps", "--claims"])
def test_a_folder_a_fifo_or_a_device_gets_its_own_message(capsys, tmp_path, flag):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    what = "steps file" if flag == "--steps" else "claims file"
    for path, message in (
        (tmp_path, f"cannot read the {what}: a folder, not a file"),
        (fifo, f"cannot read the {what}: not a regular file (a FIFO, a device or a socket)"),
        ("/dev/zero", f"cannot read the {what}: not a regular file (a FIFO, a device or a socket)"),
        (tmp_path / "none.txt", f"no such {what}"),
    ):
        status, _, err = verify(capsys, "two_layer_sigmoid", flag, path)
        assert status == 2 and message in one_line(err)


def test_a_layer_claim_on_a_per_unit_network_with_a_hessian(capsys):
    """single_unit's layer view keeps its Hessian's diag(s)² (a matrix power): it evaluates, and an expression the
    evaluator has no rule for would be one line, not a traceback."""
    status, out, _ = verify(capsys, "single_unit", "--claim", "Z1 = W1 @ X + b1")
    assert status == 0 and "agrees" in out


def test_an_expression_verify_cannot_evaluate_is_one_line(capsys, monkeypatch):
    from derive.ir.numeric import Evaluator

    monkeypatch.delattr(Evaluator, "_MatPow")
    status, _, err = verify(capsys, "single_unit", "--claim", "Z1 = W1 @ X + b1")
    assert status == 2 and "cannot check this claim numerically yet (cannot evaluate MatPow)" in one_line(err)
