"""Worked numbers students can check: ``chainrule evaluate``, ``--digits``, exact constants, no no-op steps."""

from __future__ import annotations

import itertools
import json

import pytest

from codegen.cli import main
from derive import Network, sigmoid
from derive.catalogue import load

POINT = """# the example of two_layer_sigmoid
x1 = 0.5
x2 = -1
y = 1
W11 = 0.1
W21 = 0.2
W12 = 0.3
W22 = -0.4   # a comment
b1 = 0
b2 = 0.1
w1 = 1
w2 = -1
b = 0
"""


def evaluate(capsys, tmp_path, content, *extra, spec="two_layer_sigmoid", name="point.txt"):
    path = tmp_path / name
    path.write_text(content)
    status = main(["evaluate", spec, "--at", str(path), *extra])
    out, err = capsys.readouterr()
    return status, out, err


def test_evaluate_prints_every_value_and_gradient(capsys, tmp_path):
    status, out, err = evaluate(capsys, tmp_path, POINT)
    assert status == 0, err
    net = load("two_layer_sigmoid")
    ev = net.derive().evaluate(net.examples["seeded"])
    pairs = (line.strip().rsplit(" = ", 1) for line in out.splitlines() if " = " in line)
    lines = {" ".join(k.split()): v for k, v in pairs}
    assert lines["L = BCE(ŷ, y)"] == f"{ev.loss:.4g}" == "0.7951"
    assert lines["∂L/∂W11"] == "-0.06817" and lines["∂L/∂b"] == "-0.5485"
    assert lines["yhat = σ(z)"] == "0.4515"
    for p in net.names("param"):  # every gradient, to the digits printed
        assert float(lines[f"∂L/∂{p}"]) == pytest.approx(ev.gradients[p], rel=1e-3, abs=1e-12)
    status, out, _ = evaluate(capsys, tmp_path, POINT, "--digits", "9")
    assert "∂L/∂W11 = -0.0681729953" in out  # the worked value, digit by digit


def test_evaluate_reads_json(capsys, tmp_path):
    status, out, _ = evaluate(
        capsys, tmp_path, json.dumps({"a": 3, "b": 1, "c": -2}), spec="computation_graph", name="p.json"
    )
    assert status == 0
    assert "L = c·e = -10" in out and "∂L/∂b = -4" in out and "∂L/∂c = 5" in out


@pytest.mark.parametrize(
    "content, message",
    [
        ("x1 = foo\n", "point.txt:1: 'foo' is not a number"),
        ("x1 0.5\n", "point.txt:1: expected 'name = value'"),
        ("q = 1\n", "point.txt:1: unknown name 'q'"),
        ("z1 = 1\n", "point.txt:1: 'z1' is computed by the network"),
        ("x1 = 1\nx1 = 2\n", "point.txt:2: 'x1' is given twice"),
        ("x1 = inf\n", "not a finite number"),
        ("x1 = 0.5\n", "no value for x2, y, W11"),
        ("[1, 2]", "the JSON must be one object"),
        ('{"x1": ', "not valid JSON"),
    ],
)
def test_evaluate_bad_point_is_one_line_and_exit_2(capsys, tmp_path, content, message):
    status, out, err = evaluate(capsys, tmp_path, content)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("chainrule: error: ") and message in err


def test_evaluate_missing_file_and_bad_digits(capsys, tmp_path):
    assert main(["evaluate", "xor", "--at", str(tmp_path / "nothing.txt")]) == 2
    assert "cannot read the point file" in capsys.readouterr().err
    status, _, err = evaluate(capsys, tmp_path, POINT, "--digits", "0")
    assert status == 2 and "significant digits" in err


def test_handout_digits_option(tmp_path, capsys):
    out = tmp_path / "h.tex"
    assert main(["handout", "single_unit", "-o", str(out), "--digits", "2"]) == 0
    assert r"\sigma(0.87) = 0.70" in out.read_text()
    assert main(["handout", "single_unit", "-o", str(out)]) == 0
    assert r"\sigma(0.87) = 0.7047" in out.read_text()


def _consts_network():
    net = Network("consts")
    x = net.inputs("x")
    y = net.targets("y")
    w, b = net.params("w b")
    f = net.let("f", w * x + b)
    g = net.let("g", -10.0 / f)
    q = net.let("q", sigmoid(g) / f)
    net.loss(0.5 * (q - y) ** 2)
    return net


def test_declared_floats_become_exact_constants():
    d = _consts_network().derive()
    shown = "\n".join(str(s) for s in d.steps("w"))
    assert "0.5" not in shown and "1.0" not in shown and "10.0" not in shown
    assert "factor: ∂g/∂f = 10/f²" in shown and "factor: ∂L/∂q = q − y" in shown
    net = Network("keeps")
    x = net.inputs("x")
    w = net.params("w")
    net.loss(0.123456789012345 * w * x)  # not a short decimal: kept as a float
    assert net.nodes[0].expr.atoms(__import__("sympy").Float)


def test_no_step_prints_as_x_equals_x():
    for name in ("computation_graph", "two_layer_sigmoid", "two_layer_softmax", "logistic_regression"):
        d = load(name).derive()
        for p in d.net.names("param"):
            for step in d.steps(p):
                sides = str(step).split("    [")[0].split(": ", 1)[1].split(" = ")
                assert all(a != b for a, b in itertools.pairwise(sides)), str(step)
    step = load("computation_graph").derive().steps("c")[0]
    assert str(step) == "chain rule: ∂L/∂c: one link (L uses c directly)"
