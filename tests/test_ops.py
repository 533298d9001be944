"""The op table, one row per op: a small program that uses it, the exact equation it derives, and a
gradient check against central finite differences (float64) at shapes and values drawn by hypothesis."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from derive import (
    VecNetwork,
    avg_pool,
    binary_cross_entropy,
    causal_mask,
    concat,
    conv2d,
    dots,
    elu,
    embed,
    frobenius_sq,
    gelu,
    hadamard,
    identity,
    l1_norm,
    leaky_relu,
    max_pool,
    mean_columns,
    mean_rows,
    mse,
    pool_max,
    pool_mean,
    power,
    relu,
    rowsum,
    sigmoid,
    silu,
    softmax,
    softmax_rows,
    softplus,
    sum_columns,
    sum_rows,
    tanh,
    transpose,
)
from derive.gradcheck import check, random_instance, rel_errors, relative_error, worst
from derive.ir.numeric import NumPyEvaluator
from derive.ops import OPS, Apply, PullContext, pull_back, records


def network(n0: int, n1: int, body, cost_extra=None):
    """X (n0×m) → body → Q (n1×m) → A = σ(w Q + c) → BCE; ``body(net, X, W, V)`` declares Q
    (``V()`` declares a second n1×n0 weight, for the rows that use one)."""
    net = VecNetwork("op")
    d0, d1, d2 = net.dims(n0=n0, n1=n1, n2=1)
    X, Y = net.input("X", d0), net.target("Y", d2)
    W = net.param("W", (d1, d0))
    Q = body(net, X, W, lambda: net.param("V", (d1, d0)))
    w, c = net.param("w", (d2, d1)), net.param("c", (d2, 1))
    A = net.let("A", sigmoid(net.let("Z", w * Q + c)))
    J = binary_cross_entropy(A, Y)
    net.cost(J if cost_extra is None else J + cost_extra(net, W))
    return net


def _mask(net, X, W, V):
    D = net.input("D", net.matrices["W"].shape[0])
    return net.let("Q", hadamard(net.let("P", W * X), D))


ROWS = {
    # op: (body, cost_extra, (target, the equation it derives))
    "matmul": (lambda net, X, W, V: net.let("Q", W * X), None, ("dW", "dW = (1/m) dQ Xᵀ")),
    "broadcast": (
        lambda net, X, W, V: net.let("Q", W * X + net.param("b", (net.matrices["W"].shape[0], 1))),
        None,
        ("db", "db = (1/m) Σ_columns dQ"),
    ),
    "add": (
        lambda net, X, W, V: net.let("Q", net.let("P", W * X) + net.let("R", V() * X)),
        None,
        ("dR", "dR = dQ"),
    ),
    "transpose": (
        lambda net, X, W, V: net.let("Q", transpose(net.let("S", transpose(W) * 2)) * X),
        None,
        ("dS", "dS = (1/m) X dQᵀ"),
    ),
    "hadamard": (_mask, None, ("dP", "dP = dQ ⊙ D")),
    "sigmoid": (lambda net, X, W, V: net.let("Q", sigmoid(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ Q ⊙ (1 − Q)")),
    "tanh": (lambda net, X, W, V: net.let("Q", tanh(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ (1 − Q²)")),
    "relu": (lambda net, X, W, V: net.let("Q", relu(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ 1[P ≥ 0]")),
    "identity": (lambda net, X, W, V: net.let("Q", net.let("P", W * X)), None, ("dP", "dP = dQ")),
    # the activations with a record of their own file beyond the lecture's three
    "softplus": (lambda net, X, W, V: net.let("Q", softplus(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ σ(P)")),
    "gelu": (lambda net, X, W, V: net.let("Q", gelu(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ GELU'(P)")),
    "leaky_relu": (
        lambda net, X, W, V: net.let("Q", leaky_relu(net.let("P", W * X))),
        None,
        ("dP", "dP = dQ ⊙ LeakyReLU'(P)"),
    ),
    "elu": (lambda net, X, W, V: net.let("Q", elu(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ ELU'(P)")),
    "silu": (lambda net, X, W, V: net.let("Q", silu(net.let("P", W * X))), None, ("dP", "dP = dQ ⊙ SiLU'(P)")),
    "softmax": (
        lambda net, X, W, V: net.let("Q", softmax(net.let("P", W * X))),
        None,
        ("dP", "dP = Q ⊙ (dQ − Σ_rows(dQ ⊙ Q))"),
    ),
    "sum_columns": (
        lambda net, X, W, V: net.let("Q", net.let("P", W * X) + net.let("s", sum_columns(net.let("R", V() * X)))),
        None,
        ("dR", "dR = m ds 1ᵀ"),
    ),
    "mean_columns": (
        lambda net, X, W, V: net.let("Q", W * X - mean_columns(net.let("P", V() * X))),
        None,
        ("dP", "dP = −(1/m) (Σ_columns dQ) 1ᵀ"),
    ),
    "frobenius_sq": (
        lambda net, X, W, V: net.let("Q", W * X + V() * X),
        lambda net, W: net.constant("lam", 0.3) / (2 * net.m) * frobenius_sq(W),
        ("dW", "dW = (1/m) dQ Xᵀ + (λ/m) W"),
    ),
}


def _normalised(axis):
    """Q = γ ⊙ (P − μ)/√(σ² + ε) + β with both statistics over ``axis`` (batch or layer normalisation)."""
    mean = mean_columns if axis == "columns" else mean_rows

    def body(net, X, W, V):
        n1 = net.matrices["W"].shape[0]
        eps = net.constant("eps", 1e-3)
        P = net.let("P", W * X)
        mu = net.let("mu", mean(P))
        C = net.let("C", P - mu)
        var = net.let("var", mean(hadamard(C, C)))
        Phat = net.let("Phat", hadamard(C, power(var + eps, sp.Rational(-1, 2))))
        g, b = net.param("g", (n1, 1)), net.param("b", (n1, 1))
        return net.let("Q", hadamard(g, Phat) + b)

    return body


ROWS.update(
    {
        "l1_norm": (
            lambda net, X, W, V: net.let("Q", W * X + V() * X),
            lambda net, W: net.constant("lam", 0.3) / net.m * l1_norm(W),
            ("dW", "dW = (1/m) dQ Xᵀ + (λ/m) sign(W)"),
        ),
        "mean_rows": (
            lambda net, X, W, V: net.let("Q", W * X - mean_rows(net.let("P", V() * X))),
            None,
            ("dP", "dP = −(1/n1) Σ_rows(dQ)"),
        ),
        "power": (
            lambda net, X, W, V: net.let("Q", power(hadamard(P := net.let("P", W * X), P) + 1, sp.Rational(-1, 2))),
            None,
            ("dP", "dP = −dQ ⊙ ((P² + 1)^(−3/2)) ⊙ P"),
        ),
        "hadamard_broadcast": (
            lambda net, X, W, V: net.let("Q", hadamard(net.param("g", (net.matrices["W"].shape[0], 1)), W * X)),
            None,
            ("dg", "dg = (1/m) Σ_columns (dQ ⊙ W X)"),
        ),
        "dropout": (
            lambda net, X, W, V: net.let(
                "Q",
                hadamard(
                    net.let("P", W * X),
                    net.mask("D", net.matrices["W"].shape[0], net.constant("keep_prob", 0.7)),
                )
                / net.constants["keep_prob"],
            ),
            None,
            ("dP", "dP = (1/keep_prob) dQ ⊙ D"),
        ),
        "batchnorm": (
            _normalised("columns"),
            None,
            ("dP", "dP = (1/m) (g/√(var + ε)) ⊙ (m dQ − Σ_columns (dQ ⊙ Phat) ⊙ Phat − Σ_columns dQ)"),
        ),
        "layernorm": (
            _normalised("rows"),
            None,
            ("dP", "dP = (1/n1) (n1 dPhat − Σ_rows(dPhat ⊙ Phat) ⊙ Phat − Σ_rows(dPhat))/√(var + ε)"),
        ),
    }
)


def _attention(net, X, W, V):
    """H = W X, S = causal_mask(Hᵀ H) (m×m: the m columns as positions), P = softmax_rows(S), Q = H P."""
    H = net.let("H", W * X)
    P = net.let("P", softmax_rows(net.let("S", causal_mask(transpose(H) * H))))
    return net.let("Q", H * P)


ROWS.update(
    {
        # attention's ops (derive.ops.attention): the row softmax behind a causal mask, and rowsum
        "softmax_rows": (_attention, None, ("dS", "dS = P ⊙ (dP − rowsum(dP ⊙ P))")),
        "rowsum": (lambda net, X, W, V: net.let("Q", W * X + rowsum(V() * X)), None, ("dV", "dV = (1/m) dQ 1 Xᵀ")),
    }
)


def text_network(n: int, d: int, vocab: int, body):
    """Word indices W (n×m, ids 0 … vocab − 1, 0 padding) → E (d×vocab) → ``body(net, Emb)`` declares Q
    → A = σ(w Q + c) → BCE."""
    net = VecNetwork("text_op")
    dn, dd, dv, d2 = net.dims(n=n, d=d, V=vocab, n2=1)
    W, Y = net.indices("W", dn, dv), net.target("Y", d2)
    E = net.param("E", (dd, dv))
    Q = body(net, net.let("Emb", embed(E, W)))
    w, c = net.param("w", (d2, net.matrices[Q.name].shape[0])), net.param("c", (d2, 1))
    A = net.let("A", sigmoid(net.let("Z", w * Q + c)))
    net.cost(binary_cross_entropy(A, Y))
    return net


TEXT_ROWS = {
    # op: (body, (target, the equation it derives)); the adjoint nodes (ScatterAdd, SpreadMean, RouteMax,
    # RowBlock) are the rules' output, checked in these rows' equations and gradients
    "embed": (lambda net, Emb: Emb, ("dE", "dE = (1/m) scatter_add(dEmb, W)")),
    "pool_mean": (lambda net, Emb: net.let("X", pool_mean(Emb)), ("dEmb", "dEmb = spread_mean(dX, W)")),
    "pool_max": (lambda net, Emb: net.let("X", pool_max(Emb)), ("dEmb", "dEmb = route_max(dX, Emb)")),
    "concat": (
        lambda net, Emb: net.let("X", concat(net.let("P", pool_mean(Emb)), Emb)),
        ("dP", "dP = dX[0:d]"),
    ),
    # word2vec's scores: each column's n looked-up vectors dotted with a d-vector of the same column (here their
    # mean, so both operands carry a gradient); a word repeated in a column adds its terms in dE
    "dots": (lambda net, Emb: net.let("X", dots(Emb, net.let("P", pool_mean(Emb)))), ("dP", "dP = Emb dX")),
}
ADJOINTS = {"ScatterAdd", "SpreadMean", "RouteMax", "RowBlock", "Tril"}  # Tril: the causal mask's adjoint
ADJOINTS |= {"DotsMix", "DotsOuter"}  # the dots row's equations: dP = Emb dX and dEmb = P dXᵀ + …


def test_time_sum_row():
    # Σ_t Q_t is linear: G goes to every step's Q unchanged; it prints as the course writes it
    from derive.ir.reasons import rule_text
    from derive.ops import pull_back
    from derive.ops.nodes import TimeSum
    from derive.printing.matrix import matrix_text

    n, m = sp.symbols("n m", positive=True, integer=True)
    A, B, G = (sp.MatrixSymbol(x, n, m) for x in "ABG")
    assert pull_back(TimeSum(A), G) == [(A, G, "time_sum")]
    # the path of ops passed through, outermost first; the reason names the sum over t, not the inner sum
    assert pull_back(TimeSum(A + B), G) == [(A, G, "time_sum>sum"), (B, G, "time_sum>sum")]
    assert rule_text("time_sum>sum") == rule_text("time_sum")
    assert matrix_text(sp.MatMul(1 / m, TimeSum(A * B.T))) == "(1/m) Σ_t A Bᵀ"
    assert matrix_text(TimeSum(A + B)) == "Σ_t (A + B)"


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_diag_row(n, seed):
    """diag(s) of a row s: G pulls back to the row of G's diagonal entries (against central differences of
    ⟨G, diag(s)⟩), it moves linearly (R{diag(s)} = diag(R{s})), and it prints as CS229 writes it."""
    from derive.ops.base import push_forward
    from derive.ops.diag import Diag
    from derive.printing.latex import latex
    from derive.printing.matrix import matrix_text

    s, G, V = sp.MatrixSymbol("s", 1, n), sp.MatrixSymbol("G", n, n), sp.MatrixSymbol("V", 1, n)
    ((operand, contribution, key),) = pull_back(Diag(s), G)
    assert operand == s and key == "diag"
    rng = np.random.default_rng(seed)
    s0, g = rng.normal(size=(1, n)), rng.normal(size=(n, n))
    got = NumPyEvaluator({"s": s0, "G": g}, {})(contribution)
    h, numeric = 1e-6, np.zeros_like(s0)
    for j in range(n):
        up, down = s0.copy(), s0.copy()
        up[0, j] += h
        down[0, j] -= h
        numeric[0, j] = (np.sum(g * np.diag(up[0])) - np.sum(g * np.diag(down[0]))) / (2 * h)
    np.testing.assert_allclose(np.asarray(got, dtype=float).reshape(1, n), numeric, rtol=1e-6, atol=1e-9)
    assert push_forward(Diag(s), lambda x: V if x == s else None) == Diag(V)
    assert push_forward(Diag(s), lambda x: None) is None
    assert matrix_text(Diag(s)) == "diag(s)"
    assert latex(Diag(s)) == r"\operatorname{diag}\left(s\right)"


def test_every_op_of_the_table_has_a_row():
    covered = {"MatMul", "MatAdd", "Transpose", "HadamardProduct", "Apply", "FrobeniusSq", "LossSum", "HadamardPower"}
    covered |= {"Causal", "RowSum"}  # the rows softmax_rows (behind the causal mask) and rowsum
    covered |= {"TimeSum"}  # Σ_t of a recurrence: test_time_sum_row below, and BPTT in tests/test_recurrence.py
    covered |= {"Diag"}  # diag(s) of a Hessian's block: test_diag_row below, and tests/test_second_order.py
    text = {"Embed", "PoolMean", "PoolMax", "Concat", "Dots"}
    image = {"Im2col", "Mat", "Unmat", "MaxPool", "AvgPool"}
    by_name = {cls.__name__: op for cls, op in OPS.items()}
    assert {by_name[k].name for k in text} == set(TEXT_ROWS)
    assert {by_name[k].name for k in image} == set(IMAGE_ROWS)
    assert set(by_name) == covered | text | image | ADJOINTS | IMAGE_ADJOINTS | {"L1Norm", "Sign"}
    assert {r.name for r in records("activation")} <= set(ROWS)  # every activation's record, its own row


@pytest.mark.parametrize("op", sorted(TEXT_ROWS))
def test_printed_text_equation(op):
    body, (target, text) = TEXT_ROWS[op]
    d = text_network(3, 2, 5, body).derive()
    assert d.equation(target).text == text


@pytest.mark.parametrize("op", sorted(TEXT_ROWS))
@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(1, 4), d=st.integers(1, 3), vocab=st.integers(2, 6), m=st.integers(2, 5), seed=st.integers(0, 10**6)
)
def test_text_gradients_match_finite_differences(op, n, d, vocab, m, seed):
    """Random word indices with padding (id 0) among them: a padded position passes no gradient to E."""
    body, _ = TEXT_ROWS[op]
    deriv = text_network(n, d, vocab, body).derive()
    # max pooling has a kink wherever two words tie: the batch is drawn 0.05 from every tie where it can be, and
    # the check's step shrinks below the nearest one (a fixed step of 1e-6 left round-off of 2e-6 of dE's entries)
    errors = rel_errors(check(deriv, m=m, seed=seed))
    assert max(errors.values()) <= 1e-6, errors


def test_the_embedding_gradient_is_a_scatter_add_into_the_words_present():
    """dE is non-zero only in the columns of the words of the batch; padding (column 0) gets none;
    a word seen twice adds its two blocks."""
    from derive.gradcheck import evaluate, random_instance

    d = text_network(3, 2, 6, TEXT_ROWS["pool_mean"][0]).derive()
    env = random_instance(d, m=2, seed=1)
    env["W"] = np.array([[4, 2], [4, 0], [0, 0]])
    values = evaluate(d, env, 2)
    dE = values["dE"]
    assert np.all(dE[:, [0, 1, 3, 5]] == 0) and np.all(dE[:, [2, 4]] != 0)
    dX = values["dX"]
    np.testing.assert_allclose(dE[:, 4], (dX[:, 0] / 2 + dX[:, 0] / 2) / 2)  # twice in text 0 (2 words), 1/m
    np.testing.assert_allclose(dE[:, 2], dX[:, 1] / 2)  # once in text 1 (1 word), 1/m


def test_max_pooling_routes_each_entry_to_its_arg_max_word():
    from derive.gradcheck import evaluate, random_instance

    d = text_network(3, 2, 6, TEXT_ROWS["pool_max"][0]).derive()
    env = random_instance(d, m=1, seed=2)
    env["E"] = np.array([[0.0, 0.0, 1.0, 5.0, 2.0, 0.0], [0.0, 0.0, 7.0, 3.0, 2.0, 0.0]])
    env["W"] = np.array([[2], [3], [0]])
    values = evaluate(d, env, 1)
    np.testing.assert_allclose(values["X"][:, 0], [5.0, 7.0])
    dEmb, dX = values["dEmb"][:, 0], values["dX"][:, 0]
    np.testing.assert_allclose(dEmb, [0.0, dX[1], dX[0], 0.0, 0.0, 0.0])


def test_embed_needs_word_indices_and_a_matching_vocabulary():
    from derive import DeclarationError

    net = VecNetwork("bad")
    n, d, V, U = net.dims(n=2, d=2, V=5, U=4)
    X, W = net.input("X", n), net.indices("W", n, V)
    E, F = net.param("E", (d, V)), net.param("F", (d, U))
    with pytest.raises(DeclarationError, match="X is not word indices"):
        net.let("Q", embed(E, X))
    with pytest.raises(DeclarationError, match="shape mismatch.*F is d×U but W indexes V words"):
        net.let("Q", embed(F, W))
    with pytest.raises(DeclarationError, match="pools word vectors"):
        net.let("Q", pool_mean(X))


@pytest.mark.parametrize("op", sorted(ROWS))
def test_printed_equation(op):
    body, extra, (target, text) = ROWS[op]
    d = network(3, 2, body, extra).derive()
    assert d.equation(target).text == text


@pytest.mark.parametrize("op", sorted(ROWS))
@settings(max_examples=10, deadline=None)
@given(n0=st.integers(1, 4), n1=st.integers(1, 4), m=st.integers(2, 5), seed=st.integers(0, 10**6))
def test_gradients_match_finite_differences(op, n0, n1, m, seed):
    # normalising W X with one input, or over two entries (two examples for batch norm, two units for layer
    # norm), makes J nearly constant in W (Ẑ = ±1 whatever W is): dW is round-off, nothing to compare
    assume(n0 >= 2 or op not in ("batchnorm", "layernorm"))
    assume(m >= 3 or op != "batchnorm")
    assume(n1 >= 3 or op != "layernorm")
    body, extra, _ = ROWS[op]
    d = network(n0, n1, body, extra).derive()
    # a normalisation's J is invariant to scaling a row of W, so dW can be all but 0 (4e-8 where J = 0.3, when
    # every label is the same): its entries are checked down to the differences' round-off (derive.gradcheck)
    errors = rel_errors(check(d, m=m, seed=seed))
    assert max(errors.values()) <= 1e-6, errors


@pytest.mark.parametrize(
    "op, sizes, m, seed",
    [
        ("elu", (2, 1), 3, 1027),  # an input 0.0017 from 0, where ELU'' jumps from 1 to 0
        ("batchnorm", (3, 3), 4, 412),  # σ² + ε = 2.4e-3 in a row: (σ² + ε)^(−1/2) curves within a step of 1e-3
        ("batchnorm", (3, 1), 3, 2382),  # every label 0: dW is 4e-8 (J = 0.3), its differences' round-off 5e-14
    ],
)
def test_a_first_draw_near_a_kink_or_all_but_0_is_checked_as_it_is(op, sizes, m, seed):
    """Draws that failed the check at 1.1e-5, 1.1e-6 and 1.2e-6, taken as drawn (margin 0: not redrawn away
    from their kinks): the step shrinks below the nearest kink or singularity, the round-off of the
    differences is no error."""
    d = network(*sizes, *ROWS[op][:2]).derive()
    errors = rel_errors(check(d, random_instance(d, m, seed, margin=0.0), m=m, seed=seed))
    assert max(errors.values()) <= 1e-6, errors


def test_the_differences_round_off_is_no_error_but_a_wrong_entry_is():
    """At a step of 1e-6 (the one pool_max's row once took) the differences of dE's entries of 4e-5 are off by
    7e-11 of round-off (1.8e-6 of them): no error; dE with one entry off by 1e-8 is one."""
    d = text_network(1, 2, 5, TEXT_ROWS["pool_max"][0]).derive()
    (row,) = [r for r in check(d, m=4, seed=131073, h=1e-6) if r.name == "E"]
    assert row.rel_error <= 1e-6
    wrong = row.analytic.copy()
    wrong[0, 2] += 1e-8
    assert relative_error(wrong, row.numeric, noise=row.noise) > 1e-6


def scaled_error(a, n) -> float:
    """The largest |a − n| over the largest |a| or |n| (0 when both are 0)."""
    a, n = np.asarray(a, dtype=float), np.asarray(n, dtype=float)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))))
    return float(np.max(np.abs(a - n))) / scale if scale > 0 else 0.0


def test_sum_rows_feeds_a_one_row_output():
    net = VecNetwork("rows")
    n0, n1 = net.dims(n0=3, n1=4)
    X, Y = net.input("X", n0), net.target("Y", 1)
    W, c = net.param("W", (n1, n0)), net.param("c", (1, 1))
    A = net.let("A", sigmoid(net.let("Z", sum_rows(net.let("P", tanh(W * X))) + c)))
    net.cost(binary_cross_entropy(A, Y))
    d = net.derive()
    assert d.equation("dP").text == "dP = 1 dZ"
    assert worst(check(d, m=3)) <= 1e-6


@settings(max_examples=20, deadline=None)
@given(p=st.sampled_from([2, 3, -1]), seed=st.integers(0, 10**6))
def test_power_rule_matches_finite_differences(p, seed):
    """``A^p`` entry by entry pulls G back to p G ⊙ A^(p−1)."""
    A, G = sp.MatrixSymbol("A", 2, 3), sp.MatrixSymbol("G", 2, 3)
    ((_, contribution, key),) = pull_back(sp.HadamardPower(A, p), G)
    assert key == "power"
    rng = np.random.default_rng(seed)
    a, g = rng.uniform(0.5, 2.0, (2, 3)), rng.normal(size=(2, 3))
    got = NumPyEvaluator({"A": a, "G": g}, {})(contribution)
    h = 1e-6
    numeric = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        up, down = a.copy(), a.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (np.sum(g * up**p) - np.sum(g * down**p)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-6)


def test_a_missing_rule_names_the_op():
    from derive import ChainruleError

    class Mystery(sp.MatrixExpr):
        shape = (sp.S(2), sp.S(2))

    with pytest.raises(ChainruleError, match="no vector-Jacobian rule for the op 'Mystery'"):
        pull_back(Mystery(), sp.MatrixSymbol("G", 2, 2), PullContext())


def test_activation_rule_is_written_in_the_output():
    Z, A, G = (sp.MatrixSymbol(n, 2, 3) for n in "ZAG")
    ((_, contribution, _),) = pull_back(Apply("sigmoid", Z), G, PullContext({Apply("sigmoid", Z): A}))
    from derive.printing.matrix import matrix_text

    assert matrix_text(contribution) == "G ⊙ A ⊙ (1 − A)"


# ---- second order: each op's Jacobian-vector rule, through the R-operator (derive.ir.rop)
NO_JVP = {"Embed", "PoolMean", "PoolMax", "Concat", "ScatterAdd", "SpreadMean", "RouteMax", "RowBlock"}
# the image ops (conv_net) have no Jacobian-vector rule yet: the R-operator names them, conv_net's module has no hvp
NO_JVP |= {"Im2col", "Col2im", "Mat", "Unmat", "MaxPool", "AvgPool", "UnpoolMax", "UnpoolAvg"}
NO_JVP |= {"Dots", "DotsMix", "DotsOuter"}  # word2vec's dots: text ops too


def test_every_op_but_the_text_ops_has_a_jacobian_vector_rule():
    """The MLPs' ops (every row of ROWS) push a tangent forward; a text op without a rule is named."""
    missing = {cls.__name__ for cls, op in OPS.items() if op.jvp is None}
    assert missing == NO_JVP


@pytest.mark.parametrize("op", sorted(ROWS))
@settings(max_examples=8, deadline=None)
@given(n0=st.integers(1, 4), n1=st.integers(1, 4), m=st.integers(2, 5), seed=st.integers(0, 10**6))
def test_hessian_vector_products_match_differences_of_the_gradients(op, n0, n1, m, seed):
    """R{dP} (the R-operator over the row's program) against five-point differences of the derived
    gradients along a random direction V, float64."""
    from derive.gradcheck import check_hvp

    assume(n0 >= 2 or op not in ("batchnorm", "layernorm"))
    assume(m >= 3 or op != "batchnorm")
    assume(n1 >= 3 or op != "layernorm")
    body, extra, _ = ROWS[op]
    rows = check_hvp(network(n0, n1, body, extra).derive(), m=m, seed=seed)
    errors = {r.name: scaled_error(r.analytic, r.numeric) for r in rows}
    assert max(errors.values()) <= 1e-6, errors


def test_the_r_operator_writes_the_product_rule():
    """R{dW} of Q = W X through a σ output: both factors of dW = (1/m) dZ Aᵀ move."""
    from derive.ir.rop import r_operator

    d = network(3, 2, ROWS["sigmoid"][0]).derive()
    rop = r_operator(d)
    text = {e.target: e.text for e in rop.equations}
    assert text["RP"] == "RP = VW X"
    assert text["RQ"] == "RQ = RP ⊙ Q ⊙ (1 − Q)"
    assert text["Rdw"] == "Rdw = (1/m) RdZ Qᵀ + (1/m) dZ RQᵀ"
    assert rop.hvp == {"W": "RdW", "w": "Rdw", "c": "Rdc"}


def test_every_activation_moves_under_the_r_operator():
    """R{g'(Z)} = R{Z} ⊙ g''(Z): where g' is a function of its own (GELU'), the record gives g'' a NumPy form
    (GELU''), else g' is piecewise constant (LeakyReLU') or written in functions that have their own rules."""
    from derive.ir.rop import r_operator

    for record in records("activation"):
        prime = record.prime
        if prime is None or prime.record.derivative(None, sp.Symbol("z")).is_zero:
            continue
        assert prime.record.prime is not None, record.name
        assert prime.record.prime.record.numpy, record.name
    d = network(3, 2, ROWS["gelu"][0]).derive()
    assert {e.target: e.text for e in r_operator(d).equations}["RdP"] == "RdP = GELU'(P) ⊙ RdQ + dQ ⊙ GELU''(P) ⊙ RP"


def test_an_activation_without_a_second_derivative_is_refused_in_one_line(monkeypatch):
    from derive import ChainruleError
    from derive.ir.rop import r_operator
    from derive.ops.activation import PRIMES
    from derive.ops.activations.gelu import GELU

    monkeypatch.delitem(PRIMES, PRIMES[GELU])  # GELU' as a record that gave no second_numpy
    with pytest.raises(ChainruleError) as caught:
        r_operator(network(3, 2, ROWS["gelu"][0]).derive())
    assert str(caught.value).count("\n") == 0
    assert "the R-operator needs gelu'' (the derivative of gelu') on matrices" in str(caught.value)
    assert "the record of gelu gives no NumPy form for it (second_numpy)" in str(caught.value)


def test_a_missing_jacobian_vector_rule_names_the_op():
    from derive import ChainruleError
    from derive.ir.rop import r_operator

    d = text_network(3, 2, 5, TEXT_ROWS["pool_mean"][0]).derive()
    with pytest.raises(ChainruleError, match="no Jacobian-vector \\(R-operator\\) rule for the op 'embed'"):
        r_operator(d)


def test_every_reason_names_the_ops_it_explains():
    # dγ of Z̃ = γ ⊙ Ẑ + β passes through ⊙ and γ's broadcast: the reason names both, not the bias alone;
    # μ = (1/m) Σ_columns Z sums Z's columns: its reason is the column sum, not a broadcast
    from derive.catalogue import load
    from derive.ir.steps import VecChainRule

    steps = {(s.target, s.via): s.rule for s in load("batchnorm_mlp").derive().steps if isinstance(s, VecChainRule)}
    assert steps[("dgamma1", "Ztilde1")].startswith("A ⊙ B pulls G back to G ⊙ B for A; b 1ᵀ adds b to every column")
    assert steps[("dbeta1", "Ztilde1")].startswith("b 1ᵀ adds b to every column")
    assert steps[("dZ1", "mu1")].startswith("Σ_columns Q = Q 1, so G pulls back to G 1ᵀ")
    assert "A^p (entry-wise)" in steps[("dvar1", "Zhat1")] and "A ⊙ B" in steps[("dvar1", "Zhat1")]


# ------------------------------------------------------------------ images
def image_network(c: int, h: int, w: int, body):
    """Images X (c×h×w per column) → ``body(net, X)`` declares Q → A = v Q + c0 → MSE.  A linear read-out: v Q
    sums up to 72 entries, and σ(17.7) = 1 − 2e-8, where BCE's log(1 − A) keeps 8 of 16 digits (J's differences
    had dKP off by 5e-5 there)."""
    net = VecNetwork("image_op")
    dc, dh, dw, _, d2 = net.dims(c=c, h=h, w=w, f=2, n2=1)
    X, Y = net.image("X", dc, dh, dw), net.target("Y", d2)
    Q = body(net, X)
    v, c0 = net.param("v", (d2, net.shape_of(Q.name)[0])), net.param("c0", (d2, 1))
    net.cost(mse(net.let("A", identity(net.let("Z", v @ Q + c0))), Y))
    return net


def _conv(net, X, geometry, name="Q"):
    """``name = conv2d(X, K, b)`` with f = 2 filters of k×k at stride s with pad p, ``geometry = (k, s, p)``."""
    k, s, p = geometry
    f = next(d for d in net.dim_sizes if d.name == "f")
    K = net.filters(f"K{name}", f, net.images[X.name][0], k, k)
    b = net.param(f"b{name}", (f, 1))
    return net.let(name, conv2d(X, K, b, stride=s, pad=p))


IMAGE_ROWS = {
    # op: (body(net, X, geometry, pool), (target, the equation it derives)); geometry (k, s, p) of the
    # convolution, pool (size, stride); the adjoints Col2im, UnpoolMax, UnpoolAvg are the rules' output
    "mat": (lambda net, X, g, pool: _conv(net, X, g), ("dKQ", "dKQ = (1/m) mat(dQ) mat(X_col)ᵀ")),
    "unmat": (lambda net, X, g, pool: _conv(net, X, g), ("dbQ", "dbQ = (1/m) Σ_columns mat(dQ)")),
    "im2col": (
        lambda net, X, g, pool: _conv(net, net.let("H", relu(_conv(net, X, (1, 1, 0), "P"))), g),
        ("dH", "dH = col2im(dH_col)"),
    ),
    "max_pool": (
        lambda net, X, g, pool: net.let("Q", max_pool(_conv(net, X, g, "P"), *pool)),
        ("dP", "dP = unpool_max(dQ, P)"),
    ),
    "avg_pool": (
        lambda net, X, g, pool: net.let("Q", avg_pool(_conv(net, X, g, "P"), *pool)),
        ("dP", "dP = unpool_avg(dQ)"),
    ),
}
IMAGE_ADJOINTS = {"Col2im", "UnpoolMax", "UnpoolAvg"}


@pytest.mark.parametrize("op", sorted(IMAGE_ROWS))
def test_printed_image_equation(op):
    body, (target, text) = IMAGE_ROWS[op]
    d = image_network(2, 4, 4, lambda net, X: body(net, X, (3, 1, 1), (2, 2))).derive()
    assert d.equation(target).text == text


def test_the_convolution_is_derived_in_its_im2col_form():
    d = image_network(2, 4, 4, lambda net, X: _conv(net, X, (3, 1, 1))).derive()
    assert [e.text for e in d.equations if e.target in ("X_col", "Q")] == [
        "X_col = im2col(X, 3×3, s=1, p=1)",
        "Q = unmat(KQ mat(X_col) + bQ)",
    ]
    # the patches of the input images carry no gradient: no dX_col is derived
    assert "dX_col" not in [e.target for e in d.backward]
    # a convolution of a computed image: dX_col = W_rowᵀ dout, then col2im
    body = IMAGE_ROWS["im2col"][0]
    d = image_network(2, 5, 5, lambda net, X: body(net, X, (3, 2, 1), (2, 2))).derive()
    assert d.equation("dH_col").text == "dH_col = unmat(KQᵀ mat(dQ))"
    assert d.equation("dH").text == "dH = col2im(dH_col)"


@st.composite
def _image_case(draw):
    """A convolution (k, s, p) and a pooling (size, stride) that tile images of h×w, c channels."""
    k, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    size = draw(st.integers(1, 2))
    pool_stride = draw(st.integers(1, size))
    # output positions first, then the image size they come from: every window fits exactly
    ho, wo = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ho, wo = (ho - 1) * pool_stride + size, (wo - 1) * pool_stride + size  # the convolution's output
    h, w = (ho - 1) * s + k - 2 * p, (wo - 1) * s + k - 2 * p
    assume(h >= 1 and w >= 1 and k <= h + 2 * p and k <= w + 2 * p)
    return draw(st.integers(1, 2)), h, w, (k, s, p), (size, pool_stride)


@pytest.mark.parametrize("op", sorted(set(IMAGE_ROWS) - {"unmat"}))  # unmat's program is mat's: one conv layer
@settings(max_examples=6, deadline=None)
@given(case=_image_case(), m=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_image_gradients_match_finite_differences(op, case, m, seed):
    c, h, w, geometry, pool = case
    body, _ = IMAGE_ROWS[op]
    d = image_network(c, h, w, lambda net, X: body(net, X, geometry, pool)).derive()
    # ReLU and max pooling have kinks (Z = 0, two entries of a window tied): a draw 0.01 from every one, and
    # the step shrinks below the nearest (check)
    point = random_instance(d, m, seed, margin=1e-2)
    errors = rel_errors(check(d, point, m=m, seed=seed))
    assert max(errors.values()) <= 1e-6, errors
