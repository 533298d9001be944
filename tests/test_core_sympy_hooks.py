"""The lecture's functions are SymPy functions: each hook is checked against the same call on ``sympy.tanh``."""

import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive import Network, binary_cross_entropy, cross_entropy, mse, relu, sigmoid, softmax, step, tanh
from derive.errors import DeclarationError
from derive.functions import RULES, ReLU, Sigmoid, Tanh

z, y, u = sp.symbols("z y u")
POINTS = np.array([-1000.0, -3.5, -1.0, -0.25, 0.0, 0.25, 0.5, 2.0, 1000.0])


def test_tanh_is_sympy_tanh_for_every_hook():
    ours, theirs = tanh(z), sp.tanh(z)
    assert float(ours.subs(z, 0.5)) == float(theirs.subs(z, 0.5))
    assert sp.N(ours.subs(z, sp.Rational(1, 3)), 40) == sp.N(theirs.subs(z, sp.Rational(1, 3)), 40)
    assert ours.rewrite(sp.exp) == theirs.rewrite(sp.exp)
    assert sp.latex(ours) == sp.latex(theirs) == r"\tanh{\left(z \right)}"
    assert sp.latex(ours**2) == sp.latex(theirs**2)
    for modules in ("numpy", "math", "mpmath", None):
        f = sp.lambdify(z, ours, modules) if modules else sp.lambdify(z, ours)
        g = sp.lambdify(z, theirs, modules) if modules else sp.lambdify(z, theirs)
        for v in (-3.5, 0.0, 0.5, 2.0):
            assert f(v) == g(v), (modules, v)
    assert np.array_equal(sp.lambdify(z, ours, "numpy")(POINTS), np.tanh(POINTS))


def test_sigmoid_evaluates_rewrites_and_prints():
    s = sigmoid(z)
    assert float(s.subs(z, 0.5)) == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-15)
    assert sp.N(s.subs(z, 0), 30) == sp.Float("0.5", 30)
    assert s.rewrite(sp.exp) == 1 / (1 + sp.exp(-z))
    assert s.rewrite(sp.tanh) == (1 + sp.tanh(z / 2)) / 2
    assert sp.latex(s) == r"\sigma{\left(z \right)}"
    with np.errstate(all="raise"):  # stable: no overflow at |z| = 1000
        got = sp.lambdify(z, s, "numpy")(POINTS)
    want = np.array([1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in POINTS])
    assert np.allclose(got, want, rtol=1e-15, atol=1e-300)
    assert sp.lambdify(z, 2 * s + 1, "math")(0.5) == pytest.approx(2 / (1 + math.exp(-0.5)) + 1, rel=1e-15)


def test_relu_and_step_follow_the_lecture_at_zero():
    assert sp.latex(relu(z)) == r"\operatorname{ReLU}{\left(z \right)}"
    assert sp.latex(step(z)) == r"\mathbf{1}\left[z \geq 0\right]"
    assert relu(z).rewrite(sp.Max) == sp.Max(0, z)
    assert [float(relu(z).subs(z, v)) for v in (-2, 0, 1.5)] == [0.0, 0.0, 1.5]
    assert float(step(z).subs(z, 0)) == 1.0 and float(step(z).subs(z, -0.5)) == 0.0
    assert np.array_equal(sp.lambdify(z, relu(z), "numpy")(POINTS), np.maximum(POINTS, 0))
    assert np.array_equal(sp.lambdify(z, step(z), "numpy")(POINTS), (POINTS >= 0).astype(float))
    assert sp.lambdify(z, relu(z) + step(z), "math")(0.0) == 1


def test_softmax_and_losses():
    s1, s2 = softmax(z, u)
    assert float((s1 + s2).subs({z: 0.3, u: -1.2})) == pytest.approx(1.0, rel=1e-15)
    assert s1.rewrite(sp.exp) == sp.exp(z) / (sp.exp(z) + sp.exp(u))
    assert sp.latex(s1) == r"\operatorname{softmax}_{1}{\left(z, u \right)}"
    f = sp.lambdify((z, u), s1, "numpy")
    with np.errstate(over="ignore"):
        assert np.allclose(
            f(np.array([1000.0, 0.0, 0.3]), np.array([0.0, 1000.0, -1.2])), [1, 0, 1 / (1 + math.exp(-1.5))]
        )
    bce = binary_cross_entropy(sigmoid(z), y)
    want = -math.log(1 / (1 + math.exp(-0.3)))
    assert float(bce.subs({z: 0.3, y: 1})) == pytest.approx(want, rel=1e-14)
    assert sp.lambdify((z, y), bce, "numpy")(0.3, 1.0) == pytest.approx(want, rel=1e-14)
    assert sp.latex(bce) == r"L_{\mathrm{CE}}{\left(\sigma{\left(z \right)}, y \right)}"
    ce = cross_entropy([z, u], [1, 0])
    assert float(ce.subs({z: 0.25, u: 0.75})) == pytest.approx(-math.log(0.25), rel=1e-15)
    assert sp.latex(ce) == r"L_{\mathrm{CE}}{\left(z, u;\ 1, 0 \right)}"
    se = mse([z, u], [y, 0])
    assert float(se.subs({z: 1, u: 2, y: 0.5})) == 0.5 * (0.25 + 4)
    assert sp.lambdify((z, u, y), se)(1, 2, 0.5) == 0.5 * (0.25 + 4)


def test_every_rule_has_a_definition_used_by_the_hooks():
    for cls, rule in RULES.items():
        assert rule.definition is not None and rule.code is not None, cls.__name__


def test_chainrules_own_printers_keep_the_lecture_notation():
    from codegen.render.numpy_printer import numpy_code
    from derive.printing.latex import latex

    assert latex(sigmoid(z)) == r"\sigma(z)"
    assert numpy_code(sigmoid(z)) == "sigmoid(z)"


def test_expanded_gradients_lambdify_without_a_namespace():
    from derive.catalogue import load, names

    for name in names():
        net = load(name)
        if not hasattr(net, "nodes"):
            continue
        d = net.derive()
        leaves = [d.net.symbols[n] for n in d.net.leaves]
        rng = np.random.default_rng(0)
        point = {n: float(v) for n, v in zip(d.net.leaves, rng.uniform(0.1, 0.9, len(leaves)))}
        for k, group in enumerate(d.net.one_hot):  # a one-hot target: the first class
            for j, t in enumerate(group):
                point[t.name] = 1.0 if j == 0 else 0.0
        ev = d.evaluate(point)
        for p in d.net.names("param")[:3]:
            f = sp.lambdify(leaves, d.gradient(p, expanded=True), "numpy")
            assert f(*(point[n] for n in d.net.leaves)) == pytest.approx(ev.gradients[p], rel=1e-9, abs=1e-12), (
                name,
                p,
            )


def _net():
    net = Network("n")
    x = net.inputs("x")
    t = net.targets("t")
    w, b = net.params("w b")
    return net, x, t, w, b


def test_sympy_spellings_are_the_lecture_functions():
    net, x, t, w, b = _net()
    h = net.let("h", sp.tanh(w * x + b))
    r = net.let("r", sp.Max(0, h))
    a = net.let("a", 1 / (1 + sp.exp(-(w * r + b))))
    net.loss(binary_cross_entropy(a, t))
    assert isinstance(net.node("h").expr, Tanh)
    assert isinstance(net.node("r").expr, ReLU)
    # the unnamed argument of an activation is named for the chain rule (z_a), as the lectures write it
    assert net.node("a").expr == Sigmoid(net.node("z_a").symbol)
    assert net.node("z_a").expr == w * r + b
    d = net.derive()
    assert d.gradient("h") == w * (a - t) * step(h)


def test_the_exp_forms_of_sigmoid_declare_as_sigmoid():
    net, x, _t, w, b = _net()
    u = w * x + b
    for name, form in (
        ("p", 1 / (1 + sp.exp(-u))),
        ("q", sp.exp(u) / (1 + sp.exp(u))),
        ("r", sp.exp(u) / (sp.exp(u) + 1)),
    ):
        net.let(name, form)
        # u is held in the program's variable, so it is declared under that name, once
        assert net.node(name).expr == Sigmoid(net.node("u").symbol), (name, net.node(name).expr)
    assert net.node("u").expr == u


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda w, x: sp.Max(w, x), "unsupported function 'Max' in 'q' (write relu(z) for Max(0, z))"),
        (lambda w, x: sp.Min(0, x), "unsupported function 'Min' in 'q'"),
        (lambda w, x: sp.Heaviside(x), "unsupported function 'Heaviside' in 'q'"),
    ],
)
def test_other_sympy_functions_are_refused_in_one_line(make, message):
    net, x, _t, w, _b = _net()
    with pytest.raises(DeclarationError) as info:
        net.let("q", make(w, x))
    assert str(info.value).endswith(message) and "\n" not in str(info.value)


def test_max_in_a_spec_file_is_refused_by_generate_not_at_run_time(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text(
        "import sympy as sp\nfrom derive import Network, mse\n"
        "network = Network('m')\nx = network.inputs('x')\ny = network.targets('y')\nw = network.params('w')\n"
        "a = network.let('a', sp.Max(w*x, x))\nnetwork.loss(mse(a, y))\n"
    )
    out = tmp_path / "m.py"
    r = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "spec.py", "-o", "m.py"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and not out.exists()
    assert r.stderr.splitlines() == [
        "chainrule: error: spec.py:7: unsupported function 'Max' in 'a' (write relu(z) for Max(0, z))"
    ]


def test_max_zero_in_a_spec_file_generates_a_module_that_runs(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text(
        "import sympy as sp\nfrom derive import Network, mse\n"
        "network = Network('m')\nx = network.inputs('x')\ny = network.targets('y')\nw, b = network.params('w b')\n"
        "h = network.let('h', sp.tanh(w*x + b))\na = network.let('a', sp.Max(0, h))\nnetwork.loss(mse(a, y))\n"
    )
    out = tmp_path / "m.py"
    r = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", str(spec), "-o", str(out), "--no-tests"], check=False
    )
    assert r.returncode == 0
    code = (
        "import numpy as np, m\np = m.init_params()\nX = np.ones((1, 4)); Y = np.ones((1, 4))\nprint(m.loss(p, X, Y))"
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert math.isfinite(float(run.stdout))
