"""Declaring networks: every path summed, rules in node form, and bad input named."""

import subprocess
import sys
import warnings

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import (
    ChainruleError,
    DeclarationError,
    Network,
    UnreachableParameterWarning,
    binary_cross_entropy,
    gradcheck,
    mse,
    relu,
    sigmoid,
    tanh,
)
from derive.functions import RULES, Sigmoid, Tanh


def test_inputs_like_sympy_symbols():
    net = Network("n")
    x = net.inputs("x")
    pair = net.inputs("a b")
    assert isinstance(x, sp.Symbol) and [s.name for s in pair] == ["a", "b"]


def test_rules_table_has_one_record_per_function_with_node_forms():
    _a, z = sp.symbols("a z")
    assert RULES[Sigmoid].partial(Sigmoid(z), 0) == Sigmoid(z) * (1 - Sigmoid(z))
    assert RULES[Tanh].partial(Tanh(z), 0) == 1 - Tanh(z) ** 2
    for rule in RULES.values():
        assert rule.name and rule.latex and rule.why and callable(rule.numeric)


def test_tanh_derivative_in_node_form():
    net = Network("t")
    x = net.inputs("x")
    y = net.targets("y")
    w = net.params("w")
    a = net.let("a", tanh(w * x))
    net.loss(mse(a, y))
    d = net.derive()
    assert sp.expand(d.gradient("w") - (a - y) * (1 - a**2) * x) == 0


def test_weight_feeding_two_units_sums_both_paths():
    net = Network("shared")
    x = net.inputs("x")
    y = net.targets("y")
    w, v1, v2 = net.params("w v1 v2")
    h1 = net.let("h1", sigmoid(w * x))
    h2 = net.let("h2", sigmoid(2 * w * x))
    yhat = net.let("yhat", v1 * h1 + v2 * h2)
    net.loss(mse(yhat, y))
    d = net.derive()
    chain = d.steps("w")[0]
    assert len(chain.paths) == 2
    for seed in range(3):
        assert all(r.ok for r in gradcheck.check(d, gradcheck.random_point(net, seed)))


def test_parameter_used_twice_in_one_expression_and_node_used_by_several():
    net = Network("reuse")
    x = net.inputs("x")
    y = net.targets("y")
    w = net.params("w")
    z = net.let("z", w * x + w**2)
    a = net.let("a", sigmoid(z))
    b = net.let("b", a * a + 3 * a + z)
    net.loss(mse(b, y))
    d = net.derive()
    assert set(d.children["z"]) == {"a", "b"}
    assert len(d.steps("w")[0].paths) == 2
    for seed in range(3):
        assert all(r.ok for r in gradcheck.check(d, gradcheck.random_point(net, seed)))


def test_unreachable_parameter_warns():
    net = Network("unused")
    x = net.inputs("x")
    y = net.targets("y")
    w, _spare = net.params("w spare")
    yhat = net.let("yhat", sigmoid(w * x))
    net.loss(binary_cross_entropy(yhat, y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = net.derive()
    assert any(issubclass(c.category, UnreachableParameterWarning) and "spare" in str(c.message) for c in caught)
    assert d.gradient("spare") == 0


@pytest.mark.parametrize(
    "declare,message",
    [
        (lambda net, w, q, z: net.let("z", w * q), "undeclared symbol 'q' in 'z'"),
        (lambda net, w, q, z: net.let("x", w), "'x' is defined twice"),
        (lambda net, w, q, z: net.let("z", z + w), "cycle: 'z' depends on itself"),
        (lambda net, w, q, z: net.let("z", sp.Function("f")(w)), "unsupported function 'f' in 'z'"),
        (lambda net, w, q, z: net.let("z", sp.sin(w)), "unsupported function 'sin' in 'z'"),
    ],
)
def test_declaration_errors_name_problem_symbol_and_line(declare, message):
    net = Network("bad")
    net.inputs("x")
    w = net.params("w")
    with pytest.raises(DeclarationError) as info:
        declare(net, w, sp.Symbol("q"), sp.Symbol("z"))
    assert message in str(info.value)
    assert "test_core_declare.py:" in info.value.where


def test_missing_loss_is_an_error():
    net = Network("noloss")
    x = net.inputs("x")
    net.let("z", 2 * x)
    with pytest.raises(DeclarationError, match="declares no loss"):
        net.derive()


def test_unknown_name_in_gradient():
    d = _small().derive()
    with pytest.raises(ChainruleError, match="unknown name 'nope'"):
        d.gradient("nope")


def _small():
    net = Network("small")
    x = net.inputs("x")
    y = net.targets("y")
    w = net.params("w")
    net.loss(mse(relu(w * x), y))
    return net


# ----------------------------------------------------------------------- CLI
def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], check=False, capture_output=True, text=True, cwd=cwd
    )


SPEC_HEAD = "from derive import Network, sigmoid, mse\nimport sympy as sp\nnetwork = Network('s')\nx = network.inputs('x')\ny = network.targets('y')\nw = network.params('w')\n"


@pytest.mark.parametrize(
    "tail,message",
    [
        ("z = network.let('z', w * sp.Symbol('q'))\n", "spec.py:7: undeclared symbol 'q' in 'z'"),
        ("z = network.let('w', x)\n", "spec.py:7: 'w' is defined twice"),
        ("z = network.let('z', sp.Symbol('z') * w)\n", "spec.py:7: cycle: 'z' depends on itself"),
        ("z = network.let('z', sp.floor(w))\n", "spec.py:7: unsupported function 'floor' in 'z'"),
        ("1 / 0\n", "spec.py:7: the spec raised ZeroDivisionError: division by zero"),
        ("del network\n", "spec.py: the spec defines no 'network'"),
        ("def broken(:\n", "spec.py:7: syntax error in the spec"),
    ],
)
def test_cli_bad_spec_one_line_exit_2(tmp_path, tail, message):
    spec = tmp_path / "spec.py"
    spec.write_text(SPEC_HEAD + tail)
    proc = run_cli("derive", str(spec), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert proc.stdout == ""


def test_cli_unknown_network_and_unknown_wrt():
    proc = run_cli("derive", "no_such_net")
    assert proc.returncode == 2 and "unknown network 'no_such_net'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("derive", "xor", "--wrt", "W99")
    assert proc.returncode == 2 and "unknown name 'W99'" in proc.stderr


def test_cli_derive_prints_steps_and_warns_on_unreachable(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text(SPEC_HEAD + "spare = network.params('spare')\nnetwork.loss(mse(sigmoid(w * x), y))\n")
    proc = run_cli("derive", str(spec), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "chain rule: ∂L/∂w" in proc.stdout and "result: ∂L/∂w" in proc.stdout
    assert "warning: parameter 'spare' does not reach the loss" in proc.stderr


def test_cli_derive_lecture_result():
    proc = run_cli("derive", "two_layer_sigmoid", "--wrt", "W11")
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == "result: ∂L/∂W11 = (ŷ − y)·w1·a1·(1 − a1)·x1"
    assert lines[-1].startswith("check: derived") and "(ok," in lines[-1]


def test_cli_list_names_the_catalogue():
    proc = run_cli("list")
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    from derive.catalogue import names

    assert listed == names()


# ------------------------------------------------- random networks, every path
OPS = ["add", "mul", "sigmoid", "tanh", "relu", "exp_small", "square"]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=7),
    st.integers(0, 10**6),
)
def test_random_programs_match_finite_differences(program, seed):
    net = Network("random")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    w1, w2, w3 = net.params("w1 w2 w3")
    pool = [w1 * x1, w2 * x2 + w3, w1 * w3]
    names = []
    for i, (op, a, b) in enumerate(program):
        u, v = pool[a % len(pool)], pool[b % len(pool)]
        expr = {
            "add": u + v,
            "mul": u * v,
            "sigmoid": sigmoid(u),
            "tanh": tanh(u),
            "relu": relu(u + v),
            "exp_small": sp.exp(sigmoid(u)),
            "square": u**2,
        }[op]
        names.append(net.let(f"n{i}", expr))
        pool.append(names[-1])
    net.loss(mse(sum(pool[3:]) + w1, y))
    d = net.derive()
    point = gradcheck.smooth_point(d, seed=seed % 1000, margin=1e-2)
    scale = max(1.0, abs(d.forward(point)["L"]))  # round-off in the differences grows with the loss
    for row in gradcheck.check(d, point):
        assert (
            gradcheck.relative_error(row.analytic, row.numeric) <= 1e-6
            or abs(row.analytic - row.numeric) <= 1e-9 * scale
        )
