"""Programs declared as a user writes them, not the catalogue's: NumPy's spelling, unnamed sub-expressions, a GRU
over numeric inputs, penalties unit by unit, a cost summed over the examples, and the names that would collide.

Each derives readably (the lecture's names for what the user left unnamed, no sub-expression twice in one
equation, equations of a recurrence's size within 160 characters), its gradients agree with central differences,
and it generates a module whose own generated tests pass.
"""

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from codegen.cli.app import main
from codegen.cli.cmd_generate import render
from derive import (
    ChainruleError,
    DeclarationError,
    Network,
    VecNetwork,
    binary_cross_entropy,
    cross_entropy,
    gelu,
    gradcheck,
    hadamard,
    leaky_relu,
    mean_columns,
    mse,
    relu,
    sigmoid,
    softmax,
    sum_columns,
    sum_rows,
    tanh,
)
from derive.catalogue import load, names

REL = 1e-6
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"  # the programs of this file, as a user reads them
GRU, UNIT_L2, SUM_COST = (EXAMPLES / f"{n}.py" for n in ("gru", "unit_l2", "sum_cost"))


def mlp_numpy_style():
    net = VecNetwork("mlp_np")
    n0, n1, n2, n3 = net.dims(n0=4, n1=8, n2=8, n3=3)
    X, Y = net.input("X", n0), net.target("Y", n3)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    W3, b3 = net.param("W3", (n3, n2)), net.param("b3", (n3, 1))
    A1 = net.let("A1", relu(W1 @ X + b1))
    A2 = net.let("A2", relu(W2 @ A1 + b2))
    net.cost(cross_entropy(softmax(W3 @ A2 + b3), Y))
    return net


def passes(test_file, *flags) -> None:
    """The generated test file runs green in a fresh interpreter (as a user runs it)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags, str(test_file)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=Path(test_file).parent,
    )
    assert run.returncode == 0, run.stdout[-2000:]


def spec(tmp_path, name, body):
    """``body`` (a program's text, or the path of an example) as the spec file ``name``.py in ``tmp_path``."""
    text = body.read_text(encoding="utf-8") if isinstance(body, Path) else textwrap.dedent(body)
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return str(path)


def one_layer(tmp_path, name, line, cost="net.cost(mse(w2 @ A, Y))"):
    """A one-layer program ``name``.py (inputs X: 2×m, W1: 3×2, w2: 1×3) whose line 9 is ``line``, a user's own
    way to write its layer A, and whose line 10 is ``cost``."""
    return spec(
        tmp_path,
        name,
        f"""
        import numpy as np
        import sympy as sp
        from derive import VecNetwork, mse
        net = VecNetwork("{name}")
        n0, n1 = net.dims(n0=2, n1=3)
        X, Y = net.input("X", n0), net.target("Y", 1)
        W1, w2 = net.param("W1", (n1, n0)), net.param("w2", (1, n1))
        {line}
        {cost}
        network = net
        """,
    )


def equation_texts(d):
    return {e.target: e.text for e in d.equations}


def longest_backward(d) -> int:
    return max(len(e.text) for e in d.backward)


def repeated_subexpression(expr):
    """A compound sub-expression (not a name, a transpose of one, or a broadcast ones matrix) that occurs twice in
    ``expr``, else None."""
    seen = set()
    for node in sp.preorder_traversal(expr):
        if node.is_Atom or isinstance(node, (sp.MatrixSymbol, sp.OneMatrix)) or not isinstance(node, sp.MatrixExpr):
            continue
        if isinstance(node, sp.Transpose) and isinstance(node.arg, sp.MatrixSymbol):
            continue
        if isinstance(node, sp.MatMul) and any(isinstance(f, sp.OneMatrix) for f in node.args) and len(node.args) == 2:
            continue
        if node in seen:
            return node
        seen.add(node)
    return None


# ------------------------------------------------------------------ declarations
def test_matmul_transpose_softmax_and_an_unnamed_output_read_like_numpy():
    d = mlp_numpy_style().derive()
    t = equation_texts(d)
    assert t["Z1"] == "Z1 = W1 X + b1"
    assert t["A3"] == "A3 = softmax(Z3)"  # the cost's unnamed output: A3 after A1, A2, and its pre-activation Z3
    assert t["dZ3"] == "dZ3 = A3 − Y"
    assert t["dZ1"] == "dZ1 = dA1 ⊙ 1[Z1 ≥ 0]"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_transpose_as_an_attribute():
    net = VecNetwork("tied")
    n0, n1 = net.dims(n0=4, n1=2)
    X, Y = net.input("X", n0), net.target("Y", n0)
    W, b1, b2 = net.param("W", (n1, n0)), net.param("b1", (n1, 1)), net.param("b2", (n0, 1))
    A1 = net.let("A1", sigmoid(W @ X + b1))
    net.cost(binary_cross_entropy(sigmoid(W.T @ A1 + b2), Y))
    d = net.derive()
    t = equation_texts(d)
    assert (t["Z2"], t["A2"]) == ("Z2 = Wᵀ A1 + b2", "A2 = σ(Z2)")  # the output after A1: A2, and Z2
    assert t["dW"] == "dW = (1/m) dZ1 Xᵀ + (1/m) A1 dZ2ᵀ"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_at_on_numbers_and_t_on_scalars_are_still_refused():
    x, y = sp.symbols("x y")
    with pytest.raises(TypeError):
        x @ y
    assert not hasattr(x, "T")


def test_an_unnamed_pre_activation_is_named_as_a_lecturer_names_it():
    net = VecNetwork("rnn_out")
    n, k = net.dims(n=4, k=1)
    h, Y = net.input("h", n), net.target("Y", k)
    V, bv = net.param("V", (k, n)), net.param("bv", (k, 1))
    net.let("yhat", sigmoid(V @ h + bv))
    net.cost(binary_cross_entropy(net.handles["yhat"], Y))
    t = equation_texts(net.derive())
    assert t["z"] == "z = V h + bv" and t["yhat"] == "yhat = σ(z)" and t["dz"] == "dz = yhat − Y"


def test_a_per_unit_loss_of_an_unnamed_output_reads_as_the_lecture():
    net = Network("unit_unnamed")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    w1, w2, b = net.params("w1 w2 b")
    net.loss(binary_cross_entropy(sigmoid(w1 * x1 + w2 * x2 + b), y))
    d = net.derive()
    assert [n.name for n in net.nodes] == ["z", "yhat", "L"]
    assert str(d.steps("w1")[0]) == "chain rule: ∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1"
    assert str(d.steps("w1")[-1]) == "result: ∂L/∂w1 = (ŷ − y)·x1"


def test_the_programs_own_variables_name_what_it_left_undeclared():
    """H1 = gelu(…), H2 = H1 + leaky_relu(…) held in variables, never given to net.let: the equations use H1 and
    H2, and a part used twice is computed once (its adjoint sums both uses)."""
    from derive.catalogue import load_spec

    d = load_spec(str(EXAMPLES / "residual_gelu.py")).derive()
    t = equation_texts(d)
    assert [e.target for e in d.forward] == ["Z1", "H1", "Z2", "H2", "Yhat", "J"]
    assert (t["H2"], t["Yhat"]) == ("H2 = LeakyReLU(Z2) + H1", "Yhat = W3ᵀ H2")
    assert t["dH1"] == "dH1 = W2ᵀ dZ2 + dH2" and t["dW3"] == "dW3 = (1/m) H2 dYhatᵀ + λ W3"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_an_activation_used_twice_and_never_named_is_named_once():
    """The same GELU(W1 X + b1) twice inside the cost, no variables: one pre-activation, every parameter reaches
    the cost (the naming once lost W2 here)."""
    net = VecNetwork("shared")
    n0, n1, n2 = net.dims(n0=3, n1=5, n2=2)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2, W3 = net.param("W2", (n1, n1)), net.param("b2", (n1, 1)), net.param("W3", (n1, n2))
    net.cost(mse(W3.T @ (gelu(W1 @ X + b1) + leaky_relu(W2 @ gelu(W1 @ X + b1) + b2)), Y))
    d = net.derive()
    assert [a.name for a in net.assignments] == ["Z1", "A1", "Z2", "Yhat"]
    assert equation_texts(d)["Z2"] == "Z2 = W2 A1 + b2"  # the hidden layers named as a lecturer numbers them
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_per_unit_parts_take_the_programs_variable_names():
    net = Network("unit_vars")
    x1, x2 = net.inputs("x1 x2")
    y = net.targets("y")
    w1, w2, w3, w4, b1, b2, v1, v2, c = net.params("w1 w2 w3 w4 b1 b2 v1 v2 c")
    hid1 = tanh(w1 * x1 + w2 * x2 + b1)
    hid2 = tanh(w3 * x1 + w4 * x2 + b2)
    score = v1 * hid1 + v2 * hid2 + c
    net.loss(binary_cross_entropy(sigmoid(score), y))
    d = net.derive()
    assert [n.name for n in net.nodes] == ["z_hid1", "hid1", "z_hid2", "hid2", "score", "yhat", "L"]
    assert (
        str(d.steps("w1")[0]) == "chain rule: ∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂score · ∂score/∂hid1 · ∂hid1/∂z_hid1 · ∂z_hid1/∂w1"
    )


def test_star_between_two_equal_shapes_hints_at_hadamard():
    net = VecNetwork("star")
    n = net.dims(n=3)
    A, B = net.input("A", n), net.input("B", n)
    with pytest.raises(DeclarationError, match="for the entry-by-entry product write hadamard"):
        net.let("C", A * B)


# ------------------------------------------------------------------------- a GRU
@pytest.fixture(scope="module")
def gru(tmp_path_factory):
    from derive.catalogue import load_spec

    return load_spec(spec(tmp_path_factory.mktemp("gru"), "gru_user", GRU))


def test_the_gru_derives_readably(gru):
    d = gru.derive()
    t = equation_texts(d)
    assert t["dZ_z"] == "dZ_z_t = dz_t ⊙ z_t ⊙ (1 − z_t)"  # the gate's pre-activation, named by the engine
    assert t["dz"] == "dz_t = dh_t ⊙ (h_{t−1} − hc_t)"  # the common factor written once
    assert t["dUh"] == "dUh = (1/m) Σ_t dZ_hc_t (h_{t−1} ⊙ r_t)ᵀ"
    boundary = next(e.text for e in d.backward if e.kind == "boundary")
    assert boundary == "at t = T, step t+1's term in dh_t is Vᵀ dZ (h_T is read after the last step)"
    assert "T+1}" not in " ".join(e.text for e in d.backward)
    assert longest_backward(d) <= 160
    for e in d.backward:
        assert repeated_subexpression(e.expr) is None, e.text


def test_the_gru_gradients_match_central_differences(gru):
    assert gradcheck.worst(gradcheck.check(gru.derive(), max_entries=6)) <= REL


def test_the_gru_generates_a_module_whose_tests_pass(tmp_path, capsys):
    path = spec(tmp_path, "gru_spec", GRU)
    assert main(["generate", path, "-o", str(tmp_path / "gru.py")]) == 0
    text = (tmp_path / "gru.py").read_text()
    assert "X is T×3×m, time first" in text and "x = X[t]" in text
    passes(tmp_path / "test_gru.py")


# ---------------------------------------------------------------- losses, scaled
def test_a_per_unit_penalty_is_named_and_generated(tmp_path, capsys):
    from derive.catalogue import load_spec

    path = spec(tmp_path, "unit_l2", UNIT_L2)
    d = load_spec(path).derive()
    steps = [str(s) for s in d.steps("W11")]
    assert steps[0] == "chain rule: ∂L/∂W11 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂a1 · ∂a1/∂z1 · ∂z1/∂W11 + ∂L/∂R · ∂R/∂W11"
    assert "factor: ∂R/∂W11 = λ·W11" in steps  # the constant keeps its name: λ, not 1/100
    assert all("1/100" not in s for s in steps)
    assert main(["generate", path, "-o", str(tmp_path / "l2.py")]) == 0
    assert "LAM = 0.01" in (tmp_path / "l2.py").read_text()
    passes(tmp_path / "test_l2.py")
    # every medium (the constant is no box of the graph, and its name is printed λ, not lam)
    for out in ("l2.tex", "l2.html", "l2.ipynb", "l2_slides.tex"):
        assert main(["handout", path, "-o", str(tmp_path / out), *(["--slides"] if "slides" in out else [])]) == 0
    tex = (tmp_path / "l2.tex").read_text()
    assert r"\lambda W_{11}" in tex and "lam " not in tex
    assert r"$\lambda$ & constant & scalar & the value $0.01$" in tex  # in the symbol table, with its value
    assert r"\lambda W_{11}" in (tmp_path / "l2_slides.tex").read_text()


def test_a_cost_summed_over_the_examples(tmp_path, capsys):
    from derive.catalogue import load_spec

    path = spec(tmp_path, "sum_cost", SUM_COST)
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert t["J"] == "J = Σ_columns binary_cross_entropy(A2, Y)"  # printed as it is
    assert t["dZ2"] == "dZ2 = A2 − Y" and t["dW2"] == "dW2 = dZ2 A1ᵀ"  # no 1/m: J is a sum
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", path, "-o", str(tmp_path / "summed.py")]) == 0
    passes(tmp_path / "test_summed.py")


# -------------------------------------------------------------- names that collide
@pytest.mark.parametrize(
    "declare, message",
    [
        (
            lambda net: (net.constant("lam", 0.1), net.constant("Lam", 0.2)),
            "constants 'lam' and 'Lam' are both LAM in the generated module",
        ),
        (
            lambda net: net.constant("lr", 0.1),
            "constant 'lr' would clash with train()'s argument 'lr' in the generated module",
        ),
        (
            lambda net: net.constant("epochs", 3),
            "constant 'epochs' would clash with train()'s argument 'epochs' in the generated module",
        ),
        (
            lambda net: net.constant("optimizer", 1),
            "constant 'optimizer' would clash with train()'s argument 'optimizer' in the generated module",
        ),
        (
            lambda net: net.constant("batch_size", 8),
            "constant 'batch_size' would clash with train()'s argument 'batch_size' in the generated module",
        ),
    ],
)
@pytest.mark.parametrize("kind", [VecNetwork, Network])
def test_names_that_would_collide_in_the_module_are_refused(kind, declare, message):
    net = kind("collide")
    with pytest.raises(DeclarationError) as err:
        declare(net)
    assert str(err.value).endswith(message) and "\n" not in str(err.value)


def test_a_module_named_after_numpy_is_refused(tmp_path, capsys):
    assert main(["generate", "xor", "-o", str(tmp_path / "numpy.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "would shadow the module numpy" in err
    assert not (tmp_path / "numpy.py").exists()


# ------------------------------------------------- catalogue copies, under other names
def _copy_spec(tmp_path, name):
    """The catalogue's own declaration of ``name`` in a spec file, the network renamed copy_of_<name>: ``model()``
    where the catalogue trains one (an NLP model), else ``build()``."""
    module = importlib.import_module(f"derive.catalogue.{name}")
    text = Path(module.__file__).read_text(encoding="utf-8")
    copy = f"copy_of_{name}"
    assert text.count(f'"{name}"') >= 1, name
    made = "model" if hasattr(module, "model") else "build"
    text = text.replace(f'"{name}"', f'"{copy}"', 1) + f"\n\nnetwork = {made}()\n"
    return spec(tmp_path, copy, text), copy


def _as_catalogue(module: str, name: str, copy: str) -> str:
    """A copy's module text with its names written as the catalogue's (the stamp line, which holds the hash, out)."""
    body = module.split("\n", 1)[1]
    body = body.replace(f"`{copy}.py`", f"`{name}`").replace(f"{copy}.py -o", f"{name} -o")
    body = body.replace(f"chainrule handout {copy}.py", f"chainrule handout {name}")
    return body.replace(copy, name)


@pytest.mark.parametrize("name", names())
def test_a_copy_under_another_name_generates_the_same_module(tmp_path, name):
    """The copy's module is the catalogue's golden module in generated/ (itself byte-compared with a fresh
    render by tests/test_codegen_golden.py), but for the names."""
    path, copy = _copy_spec(tmp_path, name)
    golden = ROOT / "generated" / f"{name}.py"
    if not golden.exists():  # nothing to train (the computation graph): the copy is refused alike
        with pytest.raises(ChainruleError) as refused:
            render(name, name)
        with pytest.raises(ChainruleError) as err:
            render(path, name)
        assert str(err.value).replace(copy, name) == str(refused.value)
        return
    mine, _ = render(path, name)
    assert _as_catalogue(mine, name, copy) == golden.read_text(encoding="utf-8").split("\n", 1)[1]


@pytest.mark.parametrize("name", ["elman_rnn", "xor"])
def test_a_copys_own_tests_pass(tmp_path, name):
    path, _ = _copy_spec(tmp_path, name)
    assert main(["generate", path, "-o", str(tmp_path / "module.py")]) == 0
    passes(tmp_path / "test_module.py")


# ---------------------------------------------------------- readable derivations
@pytest.mark.parametrize("name", [n for n in names() if isinstance(load(n), VecNetwork)])
def test_no_catalogue_equation_repeats_a_sub_expression(name):
    d = load(name).derive()
    for e in d.backward:
        assert repeated_subexpression(e.expr) is None, e.text


# ---------------------------------------------------------------- attention with a linear read-out
def test_attention_with_an_identity_read_out_generates_a_module_whose_tests_pass(tmp_path, capsys):
    """A = identity(Z) after a quantity the general printer computes (Z = Wo Oᵀ + bo) names the same array; the
    demo's regression targets are of order one, so training has something to reduce."""
    path = spec(tmp_path, "readout_spec", EXAMPLES / "attention_readout.py")
    assert main(["generate", path, "-o", str(tmp_path / "readout.py")]) == 0
    text = (tmp_path / "readout.py").read_text()
    assert "A = Z  # (9) A = identity(Z)" in text
    passes(tmp_path / "test_readout.py")


@pytest.mark.parametrize(
    "example, shown",
    [
        # X with a column per position enters the products over positions as Xᵀ and X; a product with no
        # position left (a weight's gradient, Xᵀ dP X Wk) is summed over the sequences
        ("attention_unnamed", ("per_sequence(X.T, T).transpose(0, 2, 1)", ").sum(axis=0)")),
        # a recurrence read out with no output activation: the loss reads the read-out itself
        ("rnn_regression", ("Yhat = Wy @ h[-1] + by",)),
    ],
)
def test_a_users_program_generates_for_both_backends_and_their_tests_pass(tmp_path, capsys, example, shown):
    path = spec(tmp_path, f"{example}_spec", EXAMPLES / f"{example}.py")
    for backend, stem in (("numpy", example), ("jax", f"{example}_jax")):
        assert main(["generate", path, "-o", str(tmp_path / f"{stem}.py"), "--backend", backend]) == 0
        passes(tmp_path / f"test_{stem}.py")
    text = (tmp_path / f"{example}.py").read_text()
    assert all(s in text for s in shown), text


def test_a_penalty_on_activations_gets_a_right_hessian_vector_product(tmp_path, capsys):
    """dA1 = W2ᵀ dZ2 + 2mλ A1: the module's dA1 holds (1/m)·dA1, so the penalty's term is 2λ A1 there, in the
    gradients and in the R-operator's R{dA1} alike (hvp had 2mλ A1: m times too large); the module's tests check
    hvp against differences of the gradients."""
    path = spec(tmp_path, "penalty_spec", EXAMPLES / "activation_penalty.py")
    assert main(["generate", path, "-o", str(tmp_path / "penalty.py")]) == 0
    text = (tmp_path / "penalty.py").read_text()
    assert "RdA1 = (2 * lam) * RA1 + VW2.T @ dZ2 + W2.T @ RdZ2" in text
    passes(tmp_path / "test_penalty.py")


def test_layer_norm_written_out_by_hand_derives_as_the_lecture_writes_it(tmp_path, capsys):
    """Z = W1 @ X + b1 held in a variable and used twice, once inside Z - mu (which SymPy writes W1 X + b1 − mu), is
    named once; -0.5 is read as −1/2; the layer-norm backward collapses to its one line; the module's tests pass."""
    from derive.catalogue import load_spec

    d = load_spec(str(EXAMPLES / "layernorm_by_hand.py")).derive()
    text = {e.target: e.text for e in [*d.forward, *d.backward]}
    assert text["C"] == "C = Z − 1 mu" and text["Zhat"] == "Zhat = C/√(var + ε)"
    assert text["dW1"] == "dW1 = (1/m) dZ Xᵀ"  # one path from W1, not two
    assert text["dZ"] == "dZ = (1/n1) (n1 dZhat − Σ_rows(dZhat ⊙ Zhat) ⊙ Zhat − Σ_rows(dZhat))/√(var + ε)"
    path = spec(tmp_path, "layernorm_spec", EXAMPLES / "layernorm_by_hand.py")
    assert main(["generate", path, "-o", str(tmp_path / "layernorm.py")]) == 0
    passes(tmp_path / "test_layernorm.py")


# ---------------------------------------------------------------- an autoencoder: the input is its own target
@pytest.fixture(scope="module")
def tied_autoencoder():
    from derive.catalogue import load_spec

    net = load_spec(EXAMPLES / "tied_autoencoder.py")
    return net, net.derive()


def test_an_autoencoder_reads_its_input_as_its_target(tied_autoencoder):
    """binary_cross_entropy(Xhat, X): the target Y is declared as the input itself, and a plain number prints as
    typed (0.001, and 0.002 for its derivative), never 1/1000 or 0.00100000000000."""
    net, d = tied_autoencoder
    assert net.reconstructs == "X" and net.names("target") == ["Y"]
    t = equation_texts(d)
    assert t["dZ"] == "dZ = Xhat − Y"
    assert t["dW"] == "dW = (1/m) dZ_code Xᵀ + (1/m) code dZᵀ + 0.002 W"  # the tied weight: both uses summed
    assert t["J"].endswith("+ 0.001 ‖W‖²")
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_an_autoencoders_handout_and_module(tmp_path, capsys, tied_autoencoder):
    path = str(EXAMPLES / "tied_autoencoder.py")
    assert main(["handout", path, "-o", str(tmp_path / "ae.tex")]) == 0
    tex = (tmp_path / "ae.tex").read_text()
    assert "The target is the input itself, $Y = X$" in tex and "0.001\\," in tex and "1000" not in tex
    assert main(["generate", path, "-o", str(tmp_path / "ae.py")]) == 0
    assert "LAM" not in (text := (tmp_path / "ae.py").read_text()) and "0.001" in text
    passes(tmp_path / "test_ae.py")


# ---------------------------------------------------------------- layers written inside one expression
def test_a_layer_inside_an_expression_is_named_and_its_row_weight_is_a_weight(tmp_path, capsys):
    """v @ silu(W @ X + b) + c: the hidden layer is Z1, A1 (as a lecturer numbers it), ŷ = v A1 + c is affine, and
    the 1×h row v starts as a weight (random), not a bias (zeros: the demo once had nothing to learn)."""
    from derive.catalogue import load_spec

    path = EXAMPLES / "silu_regression.py"
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert (t["Z1"], t["A1"], t["yhat"]) == ("Z1 = W X + b", "A1 = SiLU(Z1)", "yhat = v A1 + c")
    assert t["dv"] == "dv = (1/m) dyhat A1ᵀ" and t["dZ1"] == "dZ1 = dA1 ⊙ SiLU'(Z1)"
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", str(path), "-o", str(tmp_path / "silu.py")]) == 0
    text = (tmp_path / "silu.py").read_text()
    assert '"v": ((1, 8), "small", 8),  # weight of yhat' in text and '"c": ((1, 1), "zeros", 1)' in text
    passes(tmp_path / "test_silu.py")


def test_two_hidden_layers_inside_one_expression():
    net = VecNetwork("nested")
    n, h, k = net.dims(n=4, h=5, k=3)
    X, Y = net.input("X", n), net.target("Y", k)
    W1, b1, W2, b2 = net.param("W1", (h, n)), net.param("b1", (h, 1)), net.param("W2", (h, h)), net.param("b2", (h, 1))
    W3, b3 = net.param("W3", (k, h)), net.param("b3", (k, 1))
    net.cost(cross_entropy(softmax(W3 @ tanh(W2 @ leaky_relu(W1 @ X + b1) + b2) + b3), Y))
    d = net.derive()
    assert [a.name for a in net.assignments] == ["Z1", "A1", "Z2", "A2", "Z", "Yhat"]
    t = equation_texts(d)
    assert t["dZ"] == "dZ = Yhat − Y" and t["dW2"] == "dW2 = (1/m) dZ2 A1ᵀ" and t["Z"] == "Z = W3 A2 + b3"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


# ---------------------------------------------------------------- a per-unit squared error written out
def test_a_squared_error_written_out_is_the_lectures_loss(tmp_path, capsys):
    """(out - y)**2/2 unit by unit is SE(ŷ, y): the chain rule reads ∂L/∂ŷ = ŷ − y and the module generates."""
    body = textwrap.dedent(
        """
        from derive import Network, softplus, tanh
        network = Network("unit_se")
        x1, x2 = network.inputs("x1 x2")
        y = network.targets("y")
        w11, w12, w21, w22, v1, v2, b1, b2, c = network.params("w11 w12 w21 w22 v1 v2 b1 b2 c")
        h1 = softplus(w11 * x1 + w21 * x2 + b1)
        h2 = softplus(w12 * x1 + w22 * x2 + b2)
        out = tanh(v1 * h1 + v2 * h2 + c)
        network.loss((y - out) ** 2 / 2)
        """
    )
    from derive.catalogue import load_spec

    path = spec(tmp_path, "unit_se", body)
    d = load_spec(path).derive()
    steps = [str(s) for s in d.steps("w11")]
    assert steps[1] == "factor: ∂L/∂ŷ = ŷ − y    [∂L/∂ŷᵢ = ŷᵢ − yᵢ  (L = ½ Σ (ŷᵢ − yᵢ)²)]"
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", path, "-o", str(tmp_path / "se.py")]) == 0
    passes(tmp_path / "test_se.py")


def test_a_squared_error_beside_a_penalty_and_a_square_that_is_not_one():
    from derive.ops.losses.squared_error import SquaredError

    net = Network("se_penalty")
    x = net.inputs("x")
    y = net.targets("y")
    a, b = net.params("a b")
    net.loss(((y - a * x) ** 2 + b**2) / 2)  # ½ b² is a penalty on b, beside SE(a x, y)
    assert net.node("yhat").expr == a * x
    assert net.nodes[-1].expr == SquaredError(net.node("yhat").symbol, y) + b**2 / 2
    net = Network("not_se")
    x = net.inputs("x")
    y = net.targets("y")
    a = net.params("a")
    net.loss((y - a * x) ** 2 / 3)  # not ½: stays as typed
    assert net.nodes[-1].expr == (y - a * x) ** 2 / 3


# ---------------------------------------------------------------- word indices as the input
def test_a_program_over_word_indices_makes_demo_texts_of_indices(tmp_path, capsys):
    """A user's classifier over three words' vectors: its demo data are word indices (the module refuses floats for X),
    so its generated gradient checks and training tests run (they once failed on X = N(0, 1))."""
    body = textwrap.dedent(
        """
        from derive import VecNetwork, cross_entropy, embed, softmax, tanh
        network = VecNetwork("bag")
        n, d, nv, k = network.dims(n=3, d=4, nv=12, k=3)
        W, Y = network.indices("W", n, nv), network.target("Y", k)
        E, V, c = network.param("E", (d, nv)), network.param("V", (k, n * d)), network.param("c", (k, 1))
        network.cost(cross_entropy(softmax(V @ tanh(embed(E, W)) + c), Y))
        """
    )
    path = spec(tmp_path, "bag", body)
    assert main(["generate", path, "-o", str(tmp_path / "bag_mod.py")]) == 0
    assert "X = rng.integers(1, N_WORDS, (N_INPUTS, 128))" in (tmp_path / "bag_mod.py").read_text()
    passes(tmp_path / "test_bag_mod.py")


# ---------------------------------------------------------------- losses and penalties in NumPy's spelling
WEIGHT_DECAY, BCE_BY_HAND = EXAMPLES / "weight_decay_numpy.py", EXAMPLES / "bce_by_hand.py"


@pytest.fixture(scope="module")
def spelled():
    """The two examples of NumPy's spelling, each declared and derived once: path -> (network, derivation)."""
    from derive.catalogue import load_spec

    return {path: (net := load_spec(path), net.derive()) for path in (WEIGHT_DECAY, BCE_BY_HAND)}


def test_weight_decay_in_numpys_spelling_is_the_l2_penalty(tmp_path, spelled):
    """lam / 2 * ((W1**2).sum() + (W2**2).sum()) is the catalogue's (λ/2)(‖W1‖²_F + ‖W2‖²_F): dW gains λ W."""
    from derive.catalogue import load_spec

    net, d = spelled[WEIGHT_DECAY]
    t = equation_texts(d)
    assert t["J"] == "J = −(1/m) Σ Y ⊙ log A2 + (λ/2) (‖W1‖² + ‖W2‖²)"
    assert t["dW1"] == "dW1 = (1/m) dZ1 Xᵀ + λ W1" and t["dZ2"] == "dZ2 = A2 − Y"
    text = WEIGHT_DECAY.read_text().replace("((W1**2).sum() + (W2**2).sum())", "(frobenius_sq(W1) + frobenius_sq(W2))")
    ref = load_spec(spec(tmp_path, "frobenius", text.replace("import VecNetwork,", "import VecNetwork, frobenius_sq,")))
    assert "frobenius_sq(W1)" in text and net.cost_expr == ref.cost_expr
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_binary_cross_entropy_written_out_is_the_lectures_loss(spelled):
    """−mean_columns(Y * log(A2) + (1 − Y) * log(1 − A2)) is BCE(A2, Y): σ and the loss cancel to A2 − Y."""
    net, d = spelled[BCE_BY_HAND]
    t = equation_texts(d)
    assert net.loss == "binary_cross_entropy" and net.classic_cost and net.chain
    assert t["J"] == "J = −(1/m) Σ (Y ⊙ log A2 + (1 − Y) ⊙ log(1 − A2))"
    assert t["dZ2"] == "dZ2 = A2 − Y" and t["dZ1"] == "dZ1 = dA1 ⊙ (1 − A1²)"
    assert any(str(s).startswith("simplify: dZ2 = ") and str(s).endswith("of ∂L/∂A]") for s in d.steps)
    assert gradcheck.worst(gradcheck.check(d)) <= REL


@pytest.mark.parametrize("example", [WEIGHT_DECAY, BCE_BY_HAND], ids=lambda p: p.stem)
def test_a_loss_or_penalty_in_numpys_spelling_generates_and_compiles(tmp_path, capsys, example):
    """The module's own tests pass, and the handout names the loss and the penalty as the catalogue's do."""
    assert main(["generate", str(example), "-o", str(tmp_path / "mod.py")]) == 0
    passes(tmp_path / "test_mod.py")
    assert main(["handout", str(example), "-o", str(tmp_path / "h.tex")]) == 0
    tex = (tmp_path / "h.tex").read_text()
    assert r"\lVert W^{[1]} \rVert_F^2" in tex if example == WEIGHT_DECAY else r"L_{\mathrm{CE}}(A^{[2]}, Y)" in tex


def _by_hand(cost, rows=1, output=sigmoid):
    """A 3-4-rows network whose cost is ``cost(Y, A2, m)``, A2 = output(W2 @ A1 + b2) held in a variable."""
    net = VecNetwork("by_hand")
    n0, n1, k = net.dims(n0=3, n1=4, k=rows)
    X, Y = net.input("X", n0), net.target("Y", k)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (k, n1)), net.param("b2", (k, 1))
    A1 = tanh(W1 @ X + b1)
    A2 = output(W2 @ A1 + b2)
    net.cost(cost(Y, A2, net.m))
    return net


@pytest.mark.parametrize(
    "cost",
    [
        lambda Y, A, m: -mean_columns((1 - Y) * sp.log(1 - A) + Y * sp.log(A)),
        lambda Y, A, m: -(1 / m) * sum_columns(Y * sp.log(A) + (1 - Y) * sp.log(1 - A)),
        lambda Y, A, m: mean_columns(-Y * sp.log(A) - (1 - Y) * sp.log(1 - A)),
        lambda Y, A, m: -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)),
        lambda Y, A, m: -mean_columns(hadamard(Y, sp.log(A))) - mean_columns(hadamard(1 - Y, sp.log(1 - A))),
        lambda Y, A, m: -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1, keepdims=True) / m,
        lambda Y, A, m: -(Y * np.log(A)).sum(axis=0).mean() - ((1 - Y) * np.log(1 - A)).mean(),
    ],
)
def test_the_variants_of_binary_cross_entropy_written_out(cost):
    ref = _by_hand(lambda Y, A, m: binary_cross_entropy(A, Y))
    assert _by_hand(cost).cost_expr == ref.cost_expr


@pytest.mark.parametrize(
    "cost",
    [
        lambda Y, A, m: -mean_columns(sum_rows(Y * sp.log(A))),
        lambda Y, A, m: -sum_rows(mean_columns(Y * sp.log(A))),
        lambda Y, A, m: -np.mean(np.sum(Y * np.log(A), axis=0)),
        lambda Y, A, m: -(Y * np.log(A)).sum() / m,
    ],
)
def test_the_variants_of_cross_entropy_written_out(cost):
    ref = _by_hand(lambda Y, A, m: cross_entropy(A, Y), rows=3, output=softmax)
    assert _by_hand(cost, rows=3, output=softmax).cost_expr == ref.cost_expr


def test_a_loss_written_out_and_summed_is_a_summed_cost():
    net = _by_hand(lambda Y, A, m: -(Y * sp.log(A) + (1 - Y) * sp.log(1 - A)).sum())
    assert net.cost_expr == _by_hand(lambda Y, A, m: m * binary_cross_entropy(A, Y)).cost_expr
    d = net.derive()
    assert d.example_scale == 1 and equation_texts(d)["dW2"] == "dW2 = dZ2 A1ᵀ"
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    net = _by_hand(lambda Y, A, m: -np.mean(Y * np.log(A)), rows=3, output=softmax)  # every entry's mean: 1/(k m)
    assert equation_texts(net.derive())["J"] == "J = (1/(km)) Σ_columns cross_entropy(A2, Y)"


def test_numpys_sum_mean_and_power_on_layer_quantities():
    from derive import mean_rows, power

    net = VecNetwork("np_ops")
    n, k = net.dims(n=3, k=2)
    X, Y = net.input("X", n), net.target("Y", k)
    W = net.param("W", (k, n))
    spelled = {
        "S1": (X.sum(axis=0), sum_rows(X)),
        "S2": (np.sum(X, axis=1, keepdims=True), sum_columns(X)),
        "S3": (X.mean(axis=-2, keepdims=True), mean_rows(X)),
        "S4": (np.mean(X, axis=1, keepdims=True), mean_columns(X)),
        "S5": (X**3 + X**0.5, power(X, 3) + power(X, sp.Rational(1, 2))),
    }
    for name, (numpy_form, form) in spelled.items():
        net.let(name, numpy_form)
        net.let(f"{name}_ref", form)
        assert net.assignment(name).value == net.assignment(f"{name}_ref").value, name
    net.cost(mse(W @ X, Y) + (W**2).mean() + X.sum())  # (W**2).mean() is ‖W‖²_F/(k n); X.sum() every entry
    assert equation_texts(net.derive())["dW"] == "dW = (1/m) dYhat Xᵀ + (2/(kn)) W"
    x = sp.Symbol("x")  # SymPy's own symbols keep SymPy's meaning
    assert x**2 == sp.Pow(x, 2) and not hasattr(x, "sum") and not hasattr(x, "mean") and not hasattr(x, "log")
    sq = VecNetwork("square")
    n = sq.dims(n=3)
    Q, T = sq.input("Q", n), sq.target("T", n)
    V = sq.param("V", (n, n))
    with pytest.raises(DeclarationError, match="raises a matrix to a power"):  # V @ V is a product, never V ⊙ V
        sq.cost(mse(V @ V @ Q, T))


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "network.cost(mean_columns(Y * sp.log(A2) + (1 - Y) * sp.log(1 - A2)))",
            "is −binary cross-entropy (it would be maximised): the loss written out needs its minus sign",
        ),
        (
            "network.cost(-mean_columns(Y * sp.log(A2) + sp.log(1 - A2)))",
            (
                "the cost's term '-mean_columns(Y*log(A2) + log(1 - A2))' holds a log but spells no loss chainrule"
                " knows: write J = −(1/m) Σ (Y ⊙ log A + (1 − Y) ⊙ log(1 − A)), or binary_cross_entropy(A, Y);"
            ),
        ),
        (
            "network.cost(-mean_columns(Y3 * sp.log(softmax(W3 @ A1))))",
            "sums Y3's entries over the columns only, so it is not a scalar: sum its rows too",
        ),
        (
            "B = network.let('B', sp.log(A1 + 1))",
            "'log(1 + A1)' in 'B = log(1 + A1)': log is read only in a loss written out in the cost:",
        ),
        (
            "network.cost(binary_cross_entropy(A2, Y) + np.sum(A1, axis=1).sum())",
            "A1.sum(axis=1) is 1-D in NumPy and broadcasts as a row, not a column: write A1.sum(axis=1, keepdims=True)",
        ),
        ("S = A1.mean(axis=2)", "A1.mean(axis=2) is not a layer op: write A1.mean() (every entry)"),
    ],
)
def test_a_log_or_an_axis_that_is_not_read_is_refused_in_one_line(tmp_path, capsys, line, message):
    head = textwrap.dedent(
        """
        import numpy as np
        import sympy as sp
        from derive import VecNetwork, binary_cross_entropy, mean_columns, sigmoid, softmax, tanh
        network = VecNetwork("refused")
        n0, n1, n3 = network.dims(n0=3, n1=4, n3=3)
        X, Y, Y3 = network.input("X", n0), network.target("Y", 1), network.target("Y3", n3)
        W1, W2, W3 = network.param("W1", (n1, n0)), network.param("W2", (1, n1)), network.param("W3", (n3, n1))
        A1 = network.let("A1", tanh(W1 @ X))
        A2 = network.let("A2", sigmoid(W2 @ A1))
        """
    )
    path = spec(tmp_path, "refused", head + line + "\n")
    assert main(["derive", path]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"refused.py:{len(head.splitlines()) + 1}: " in err and message in err, err


# -------------------------------------------------------------- NumPy's functions
def test_numpys_spelling_of_activations_is_read_as_the_ops_it_computes(tmp_path):
    from derive.catalogue import load_spec

    path = spec(tmp_path, "np_act", EXAMPLES / "numpy_activations.py")
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert t["H1"] == "H1 = tanh(Z1)" and t["H2"] == "H2 = ReLU(Z2) + softplus(Z2)"  # np.maximum(0, Z), np.logaddexp
    assert t["dZ2"] == "dZ2 = dH2 ⊙ (σ(Z2) + 1[Z2 ≥ 0])" and t["dZ_P"] == "dZ_P = P − Y"  # np.log's BCE cancels
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", path, "-o", str(tmp_path / "npact.py")]) == 0
    passes(tmp_path / "test_npact.py")
    # the pre-activation written twice, as NumPy code computes it, is one quantity, not Z2 and Z3
    text = Path(path).read_text().replace("Z2 = W2 @ H1 + b2\n", "").replace("(0, Z2)", "(0, W2 @ H1 + b2)")
    twice = load_spec(spec(tmp_path, "np_twice", text)).derive()
    assert equation_texts(twice) == t


def test_numpys_functions_on_scalars_and_entry_by_entry(tmp_path):
    from derive.catalogue import load_spec

    per_unit = spec(
        tmp_path,
        "np_unit",
        """
        import numpy as np
        from derive import Network, binary_cross_entropy, sigmoid
        net = Network("np_unit")
        x1, x2 = net.inputs("x1 x2")
        y = net.targets("y")
        w1, w2, b, v, c = net.params("w1 w2 b v c")
        h = net.let("h", np.tanh(w1 * x1 + w2 * x2 + b))
        g = net.let("g", np.maximum(v * h + c, 0))
        net.loss(binary_cross_entropy(net.let("yhat", sigmoid(g + np.exp(-h) + np.sqrt(np.square(c) + 1))), y))
        network = net
        """,
    )
    d = load_spec(per_unit).derive()
    assert [type(d.net.node(n).expr).__name__ for n in ("h", "g")] == ["Tanh", "ReLU"]
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    layers = spec(
        tmp_path,
        "np_layers",
        """
        import numpy as np
        from derive import VecNetwork, mse
        net = VecNetwork("np_layers")
        n0, n1 = net.dims(n0=2, n1=4)
        X, Y = net.input("X", n0), net.target("Y", 1)
        W1, w2, b2 = net.param("W1", (n1, n0)), net.param("w2", (1, n1)), net.param("b2", (1, 1))
        Z = W1 @ X
        H = np.multiply(np.tanh(Z), np.sqrt(np.square(Z) + 1)) / 2
        net.cost(mse(np.add(np.matmul(w2, H), b2), Y))
        network = net
        """,
    )
    d = load_spec(layers).derive()
    assert equation_texts(d)["Yhat"] == "Yhat = (1/2) w2 (tanh(Z) ⊙ √(Z² + 1)) + b2"  # np.multiply is ⊙
    assert gradcheck.worst(gradcheck.check(d)) <= REL


@pytest.mark.parametrize(
    ("line", "message", "at"),
    [
        ("A = np.arcsin(W1 @ X)", "np.arcsin is not an op chainrule can differentiate in a declaration", 9),
        ("A = np.maximum(W1 @ X, 1)", "np.maximum is not an op chainrule can differentiate", 9),
        # an exp is read where it is used (σ or softmax written out): A is refused where the cost uses it
        ("A = np.exp(W1 @ X)", "'exp(W1 X)' in the cost: exp of a layer quantity is no op of the table", 10),
    ],
)
def test_a_numpy_function_chainrule_cannot_read_is_refused_at_its_line(tmp_path, capsys, line, message, at):
    path = one_layer(tmp_path, "np_bad", line)
    assert main(["derive", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"np_bad.py:{at}:" in err and message in err, err


def test_numpy_keeps_its_own_meaning_for_expressions_among_arrays():
    x = sp.Symbol("x")
    both = np.array([1.0, 2.0]) * x  # an array among the arguments: NumPy's object arithmetic, as without the hook
    assert both.dtype == object and list(both) == [1.0 * x, 2.0 * x]
    assert np.add(np.array([x]), 1)[0] == x + 1


def test_sigmoid_and_a_stable_softmax_written_out_with_numpy_are_the_lectures(tmp_path):
    from derive.catalogue import load_spec

    path = spec(tmp_path, "by_hand", EXAMPLES / "softmax_by_hand.py")
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert t["A1"] == "A1 = σ(Z1)" and t["A2"] == "A2 = softmax(Z2)"  # 1/(1 + np.exp(-Z)); exp(Z − max) / Σ
    assert t["dZ2"] == "dZ2 = A2 − Y" and t["dZ1"] == "dZ1 = dA1 ⊙ A1 ⊙ (1 − A1)"
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", path, "-o", str(tmp_path / "hand.py")]) == 0
    passes(tmp_path / "test_hand.py")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("A = sp.tanh(W1 @ X)", "A = tanh(Z_A)"),  # SymPy's own tanh, as a unit-by-unit program is read
        ("A = np.exp(W1 @ X) / (1 + np.exp(W1 @ X))", "A = σ(Z_A)"),  # inside w2 @ A: w2 exp(Z) (1 + exp(Z))⁻¹
        ("A = np.exp(W1 @ X) / np.sum(np.exp(W1 @ X), axis=0)", "A = softmax(Z_A)"),
    ],
)
def test_a_function_spelled_out_in_a_layer_program_is_the_record(tmp_path, written, read):
    from derive.catalogue import load_spec

    path = one_layer(tmp_path, "spelled", written)
    d = load_spec(path).derive()
    assert equation_texts(d)["A"] == read
    assert gradcheck.worst(gradcheck.check(d)) <= REL


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("A = np.exp(W1 @ X)", "exp of a layer quantity is no op of the table; it is read inside σ or softmax"),
        ("A = np.exp(W1 @ X - (W1 @ X).max(axis=1))", "Q.max(axis=1) is read only as the shift of a softmax"),
        ("A = W1 @ X - (W1 @ X).max(axis=1, keepdims=True)", "a row's maximum is read only as the shift"),
        ("A = W1 @ X - (W1 @ X).max(axis=0)", "a column's maximum is read only as the shift of a softmax"),
    ],
)
def test_an_exp_or_max_that_spells_no_function_is_refused_in_one_line(tmp_path, capsys, line, message):
    path = one_layer(tmp_path, "np_exp", f"A = net.let('A', {line.split(' = ', 1)[1]})")
    assert main(["derive", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "np_exp.py:9:" in err and message in err, err


def test_sigmoid_written_out_inline_inside_a_product(tmp_path):
    from derive.catalogue import load_spec

    # no variable: SymPy writes the cost's product w2 exp(Z) (1 + exp(Z))⁻¹, three factors
    path = one_layer(tmp_path, "inline", "", cost="net.cost(mse(w2 @ (np.exp(W1 @ X) / (1 + np.exp(W1 @ X))), Y))")
    d = load_spec(path).derive()
    assert equation_texts(d)["A1"] == "A1 = σ(Z1)"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_a_float_a_program_writes_for_a_half_is_the_lectures_half(tmp_path):
    from derive.catalogue import load_spec

    path = spec(
        tmp_path,
        "half",
        """
        import numpy as np
        from derive import VecNetwork
        net = VecNetwork("half")
        n0, n1 = net.dims(n0=3, n1=4)
        X, Y = net.input("X", n0), net.target("Y", 1)
        W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
        W2, b2 = net.param("W2", (1, n1)), net.param("b2", (1, 1))
        P = W2 @ np.maximum(0, W1 @ X + b1) + b2
        net.cost(0.5 * np.sum((P - Y) ** 2) / net.m + 0.01 * np.sum(np.square(W1)))
        network = net
        """,
    )
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert t["J"] == "J = (1/(2m)) Σ (P − Y)² + 0.01 ‖W1‖²" and t["dP"] == "dP = P − Y"  # 0.5 is ½; 0.01 stays
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    # NumPy's mean squared error reads as the lecture writes it (its loss record's ½ made it (2/m) Σ_columns mse)
    mean = spec(
        tmp_path,
        "mean_sq",
        Path(path).read_text().replace("0.5 * np.sum((P - Y) ** 2) / net.m", "np.mean((P - Y) ** 2)"),
    )
    d = load_spec(mean).derive()
    assert equation_texts(d)["J"] == "J = (1/m) Σ (P − Y)² + 0.01 ‖W1‖²"
    assert gradcheck.worst(gradcheck.check(d)) <= REL


def test_attention_with_its_row_softmax_written_out_with_numpy(tmp_path):
    from derive.catalogue import load_spec

    path = spec(tmp_path, "att_np", EXAMPLES / "attention_numpy.py")
    d = load_spec(path).derive()
    t = equation_texts(d)
    assert t["S"] == "S = (1/2) Q Kᵀ" and t["P"] == "P = softmax_rows(S)"  # np.sqrt(4) is 2; max shift read as none
    assert t["dS"] == "dS = P ⊙ (dP − rowsum(dP ⊙ P))"
    assert gradcheck.worst(gradcheck.check(d)) <= REL
    assert main(["generate", path, "-o", str(tmp_path / "attnp.py")]) == 0
    passes(tmp_path / "test_attnp.py")
