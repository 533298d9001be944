"""The recurrence: one declared step, backpropagation through time (Goodfellow §10.2.2; Ng, course 5).

The derivation's equations as the course writes them; their values over a
concrete sequence against central finite differences; the symbolic-T result
against the per-unit chain rule of the network unrolled for T = 3; the
derivation independent of T and the widths; and bad declarations.
"""

import numpy as np
import pytest
import sympy as sp

from derive import (
    ChainruleError,
    Network,
    VecNetwork,
    binary_cross_entropy,
    cross_entropy,
    embed,
    sigmoid,
    tanh,
)
from derive.catalogue import load
from derive.gradcheck import dims_of, random_sequence
from derive.ir.numeric import NumPyEvaluator
from derive.ir.unroll import run_sequence


def elman(T=5, n=8, d=6, V=20, dense=False):
    """Many-to-one: h_t = tanh(W h_{t−1} + U x_t + b), ŷ = σ(V h_T + c)."""
    net = VecNetwork("rnn", doc="a small Elman RNN")
    n_, d_, nV, k = net.dims(n=n, d=d, nV=V, k=1)
    U, W, b = net.param("U", (n_, d_)), net.param("W", (n_, n_)), net.param("b", (n_, 1))
    E = None if dense else net.param("E", (d_, nV))
    net.sequence("T", T)
    with net.step():
        if dense:
            x = net.input("x", d_)
        else:
            x = net.let("x", embed(E, net.indices("w", 1, nV)))
        h_prev = net.state("h", n_)
        net.let("h", tanh(net.let("a", W * h_prev + U * x + b)))
    Y = net.target("Y", k)
    Vo, c = net.param("V", (k, n_)), net.param("c", (k, 1))
    yhat = net.let("yhat", sigmoid(net.let("o", Vo * net.handles["h"] + c)))
    net.cost(binary_cross_entropy(yhat, Y))
    return net


def language_model(T=5, n=8, d=6, V=7):
    """Many-to-many: a softmax and a cross-entropy at every step, J = (1/m) Σ_t Σ L_t."""
    net = VecNetwork("rnn_lm_small", doc="a small RNN language model")
    n_, d_, nV = net.dims(n=n, d=d, nV=V)
    E = net.param("E", (d_, nV))
    U, W, b = net.param("U", (n_, d_)), net.param("W", (n_, n_)), net.param("b", (n_, 1))
    Vo, c = net.param("V", (nV, n_)), net.param("c", (nV, 1))
    net.sequence("T", T)
    with net.step():
        w = net.indices("w", 1, nV)
        Y = net.target("Y", nV)
        x = net.let("x", embed(E, w))
        h_prev = net.state("h", n_)
        h = net.let("h", tanh(net.let("a", W * h_prev + U * x + b)))
        o = net.let("o", Vo * h + c)
        yhat = net.activation("yhat", "softmax", o)
    net.cost(cross_entropy(yhat, Y))
    return net


def texts(net) -> dict[str, str]:
    """Each equation's text by its target (the boundary at t = T under "boundary")."""
    return {("boundary" if e.kind == "boundary" else e.target): e.text for e in net.derive().equations}


# ----------------------------------------------------------- the equations
def test_many_to_one_reads_as_the_course_writes_it():
    t = texts(elman())
    assert t["a"] == "a_t = U x_t + W h_{t−1} + b"
    assert t["o"] == "o = V h_T + c"
    assert t["do"] == "do = yhat − Y"
    assert t["boundary"] == "at t = T, step t+1's term in dh_t is Vᵀ do (h_T is read after the last step)"
    assert t["dh_prev"] == "dh_{t−1} = Wᵀ da_t"
    assert t["dh"] == "dh_t = Wᵀ da_{t+1}"
    assert t["da"] == "da_t = dh_t ⊙ (1 − h_t²)"
    assert t["dW"] == "dW = (1/m) Σ_t da_t h_{t−1}ᵀ"
    assert t["dU"] == "dU = (1/m) Σ_t da_t x_tᵀ"
    assert t["db"] == "db = (1/m) Σ_t Σ_columns da_t"
    assert t["dE"] == "dE = (1/m) Σ_t scatter_add(dx_t, w_t)"
    assert t["dV"] == "dV = (1/m) do h_Tᵀ"


def test_many_to_many_collects_the_output_and_the_next_step():
    # Goodfellow §10.2.2: dh_t = Wᵀ δ_{t+1} + Vᵀ (ŷ_t − y_t), δ_t = dh_t ⊙ (1 − h_t²), at every t
    t = texts(language_model())
    assert t["J"] == "J = −(1/m) Σ_t Σ Y_t ⊙ log yhat_t"
    assert t["do"] == "do_t = yhat_t − Y_t"
    assert t["dh"] == "dh_t = Vᵀ do_t + Wᵀ da_{t+1}"
    assert t["da"] == "da_t = dh_t ⊙ (1 − h_t²)"
    assert t["dV"] == "dV = (1/m) Σ_t do_t h_tᵀ"
    assert t["boundary"] == "at t = T, step t+1's term in dh_t is 0 (there is no step T+1)"


def test_the_catalogue_language_model_has_goodfellows_delta_recursion():
    t = texts(load("rnn_lm"))
    assert t["dh"] == "dh_t = Vᵀ do_t + Wᵀ da_{t+1}"
    assert t["do"] == "do_t = yhat_t − Y_t"
    assert t["da"] == "da_t = dh_t ⊙ (1 − h_t²)"


def test_the_steps_say_what_time_adds():
    steps = [str(s) for s in elman().derive().steps]
    assert any(s.startswith("sum over time: dW = ") and "W is used at every step t = 1 … T" in s for s in steps)
    assert any("step t+1 reads h_t as h_prev" in s for s in steps)


# ------------------------------------------------------------- the values
def _sequence(net, m, seed):
    d = net.derive()
    static, steps = random_sequence(d, dims_of(net, m), m, np.random.default_rng(seed))
    return d, static, steps


@pytest.mark.parametrize("build", [elman, language_model, lambda: elman(dense=True)], ids=["elman", "lm", "dense"])
def test_bptt_matches_central_differences(build):
    net = build()
    m = 4
    d, static, steps = _sequence(net, m, seed=1)
    dims = dims_of(net, m)
    _check_central_differences(d, static, steps, dims, net.names("param"))


def _check_central_differences(d, static, steps, dims, params, h=1e-5):
    """Each d<param> of the BPTT equations against central differences of J over the same sequence."""
    out = run_sequence(d, static, steps, dims, NumPyEvaluator)

    def J():
        return float(run_sequence(d, static, steps, dims, NumPyEvaluator)["J"][0, 0])

    for p in params:
        numeric = np.zeros_like(static[p])
        for idx in np.ndindex(static[p].shape):
            keep = static[p][idx]
            static[p][idx] = keep + h
            up = J()
            static[p][idx] = keep - h
            down = J()
            static[p][idx] = keep
            numeric[idx] = (up - down) / (2 * h)
        error = np.max(np.abs(out[f"d{p}"] - numeric)) / max(np.max(np.abs(numeric)), 1e-12)
        assert error <= 1e-6, (p, error)


def unrolled(T=3, n=2):
    """The per-unit network of ``elman(dense=True)`` with d = 1, k = 1, unrolled for T steps by hand."""
    net = Network("unrolled", doc="an Elman RNN unrolled for T steps, unit by unit")
    xs = [net.inputs(f"x{t}") for t in range(1, T + 1)]
    y = net.targets("y")
    U = [net.params(f"U{i}") for i in range(1, n + 1)]
    W = [[net.params(f"W{i}{j}") for j in range(1, n + 1)] for i in range(1, n + 1)]
    b = [net.params(f"b{i}") for i in range(1, n + 1)]
    V = [net.params(f"V{i}") for i in range(1, n + 1)]
    c = net.params("c")
    h = [0] * n
    for t in range(1, T + 1):
        h = [
            net.let(f"h{t}_{i + 1}", tanh(sum(W[i][j] * h[j] for j in range(n)) + U[i] * xs[t - 1] + b[i]))
            for i in range(n)
        ]
    yhat = net.let("yhat", sigmoid(sum(V[i] * h[i] for i in range(n)) + c))
    net.loss(binary_cross_entropy(yhat, y))
    return net


def test_symbolic_T_equals_the_chain_rule_of_the_network_unrolled_for_T_3():
    T, n = 3, 2
    vec = elman(T=T, n=n, d=1, dense=True)
    d, static, steps = _sequence(vec, 1, seed=3)
    out = run_sequence(d, static, steps, dims_of(vec, 1), NumPyEvaluator)
    scalar = unrolled(T, n).derive()
    point = {f"x{t + 1}": float(steps[t]["x"][0, 0]) for t in range(T)}
    point["y"] = float(static["Y"][0, 0])
    for i in range(n):
        point[f"U{i + 1}"] = float(static["U"][i, 0])
        point[f"b{i + 1}"] = float(static["b"][i, 0])
        point[f"V{i + 1}"] = float(static["V"][0, i])
        for j in range(n):
            point[f"W{i + 1}{j + 1}"] = float(static["W"][i, j])
    point["c"] = float(static["c"][0, 0])
    grads = scalar.evaluate(point).gradients
    for i in range(n):
        assert grads[f"U{i + 1}"] == pytest.approx(out["dU"][i, 0], rel=1e-12, abs=1e-14)
        assert grads[f"b{i + 1}"] == pytest.approx(out["db"][i, 0], rel=1e-12, abs=1e-14)
        assert grads[f"V{i + 1}"] == pytest.approx(out["dV"][0, i], rel=1e-12, abs=1e-14)
        for j in range(n):
            assert grads[f"W{i + 1}{j + 1}"] == pytest.approx(out["dW"][i, j], rel=1e-12, abs=1e-14)
    assert grads["c"] == pytest.approx(out["dc"][0, 0], rel=1e-12)


def test_symbolic_T_equals_the_unrolled_chain_rule_exactly_for_one_unit():
    # with one unit, the per-unit gradient of W is an expression SymPy can compare with the BPTT one exactly
    T = 3
    vec = elman(T=T, n=1, d=1, dense=True)
    scalar = unrolled(T, 1)
    derivation = scalar.derive()
    sym = {name: sp.Symbol(name) for name in scalar.kinds}
    static = {
        "U": sp.Matrix([[sym["U1"]]]),
        "W": sp.Matrix([[sym["W11"]]]),
        "b": sp.Matrix([[sym["b1"]]]),
        "V": sp.Matrix([[sym["V1"]]]),
        "c": sp.Matrix([[sym["c"]]]),
        "Y": sp.Matrix([[sym["y"]]]),
    }
    steps = [{"x": sp.Matrix([[sym[f"x{t}"]]])} for t in range(1, T + 1)]
    from derive.ir.numeric import SymPyEvaluator

    out = run_sequence(vec.derive(), static, steps, dims_of(vec, 1), SymPyEvaluator)
    values = {sym[k]: v for k, v in zip(sorted(sym), np.linspace(-0.9, 0.8, len(sym)))}
    values[sym["y"]] = 1.0
    for p, q in (("W11", "dW"), ("U1", "dU"), ("b1", "db")):
        per_unit = derivation.gradient(p, expanded=True)
        difference = (per_unit - out[q][0, 0]).subs(values)
        assert abs(float(difference)) < 1e-12, p
        assert sp.simplify((per_unit - out[q][0, 0]).rewrite(sp.exp)) == 0, p


def test_the_derivation_does_not_grow_with_T_or_the_widths():
    short, long = elman(T=3, n=4), elman(T=300, n=64, d=32, V=500)
    a, b = short.derive(), long.derive()
    assert [e.text for e in a.equations] == [e.text for e in b.equations]
    assert len(a.steps) == len(b.steps)


def test_the_catalogue_rnn_derives_and_reads_its_reviews_word_by_word():
    net = load("elman_rnn")
    d = net.derive()
    assert net.dim_sizes[net.recurrence.T] == 24
    assert d.equation("dW").text == "dW = (1/m) Σ_t da_t h_{t−1}ᵀ"


# ------------------------------------------------------------- bad input
def _bad(declare, match):
    with pytest.raises(ChainruleError, match=match):
        declare()


def test_a_state_outside_the_step_is_refused():
    def declare():
        net = VecNetwork("bad", doc="bad")
        net.sequence("T", 3)
        net.state("h", net.dims(n=2))

    _bad(declare, "state 'h' must be declared inside 'with net.step\\(\\):'")


def test_a_step_needs_the_sequence():
    def declare():
        net = VecNetwork("bad", doc="bad")
        with net.step():
            pass

    _bad(declare, "needs the sequence length first")


def test_a_state_never_updated_is_refused():
    def declare():
        net = VecNetwork("bad", doc="bad")
        n = net.dims(n=2)
        net.sequence("T", 3)
        with net.step():
            net.state("h", n)

    _bad(declare, "the state 'h' is declared but never updated")


def test_a_quantity_of_each_step_cannot_be_read_after_the_step():
    def declare():
        net = VecNetwork("bad", doc="bad")
        n = net.dims(n=2)
        W = net.param("W", (n, n))
        net.sequence("T", 3)
        with net.step():
            x = net.input("x", n)
            h_prev = net.state("h", n)
            a = net.let("a", W * h_prev + x)
            net.let("h", tanh(a))
        net.let("o", W * a)

    _bad(declare, "'o' reads 'a', a quantity of each step; after the step only a state's last value \\(h\\)")


def test_a_loss_pairing_a_step_with_the_whole_sequence_is_refused():
    def declare():
        net = VecNetwork("bad", doc="bad")
        n, k = net.dims(n=2, k=2)
        W, V = net.param("W", (n, n)), net.param("V", (k, n))
        Y = net.target("Y", k)
        net.sequence("T", 3)
        with net.step():
            x = net.input("x", n)
            h_prev = net.state("h", n)
            h = net.let("h", tanh(W * h_prev + x))
            yhat = net.activation("yhat", "softmax", net.let("o", V * h))
        net.cost(cross_entropy(yhat, Y))

    _bad(declare, "the loss pairs 'yhat', a quantity of each step, with 'Y', which is not")


def test_a_state_updated_after_the_step_is_refused():
    def declare():
        net = VecNetwork("bad", doc="bad")
        n = net.dims(n=2)
        net.sequence("T", 3)
        with net.step():
            x = net.input("x", n)
            net.state("h", n)
            net.let("g", tanh(x))
        net.let("h", tanh(x))

    _bad(declare, "declared but never updated|must be updated inside the step")


def test_the_lstm_yields_ngs_backward_equations():
    # Ng, deeplearning.ai course 5, week 1 (lstm_cell_backward): eqs. 7–10 through the gates' σ / tanh, and
    # dc_prev = (dc_next + Γo ⊙ (1 − tanh² c) ⊙ da) ⊙ Γf, where dc_next is what step t+1 sends back
    t = texts(load("lstm_cell"))
    assert t["dΓo"] == "dΓo_t = da_t ⊙ tanh(c_t)"
    assert t["dZo"] == "dZo_t = dΓo_t ⊙ Γo_t ⊙ (1 − Γo_t)"  # eq. 7
    assert t["dctilde"] == "dctilde_t = dc_t ⊙ Γu_t"
    assert t["dZc"] == "dZc_t = dctilde_t ⊙ (1 − ctilde_t²)"  # eq. 8
    assert t["dΓu"] == "dΓu_t = dc_t ⊙ ctilde_t"
    assert t["dZu"] == "dZu_t = dΓu_t ⊙ Γu_t ⊙ (1 − Γu_t)"  # eq. 9
    assert t["dΓf"] == "dΓf_t = dc_t ⊙ c_{t−1}"
    assert t["dZf"] == "dZf_t = dΓf_t ⊙ Γf_t ⊙ (1 − Γf_t)"  # eq. 10
    assert t["dc"] == "dc_t = (1 − tanh(c_t)²) ⊙ da_t ⊙ Γo_t + dc_{t+1} ⊙ Γf_{t+1}"
    assert t["dc_prev"] == "dc_{t−1} = dc_t ⊙ Γf_t"
    assert t["dWf"] == "dWf = (1/m) Σ_t dZf_t a_{t−1}ᵀ"


@pytest.mark.unshared  # it sets the network's sizes
def test_the_lstm_gradients_match_central_differences():
    net = load("lstm_cell")
    net.dim_sizes.update({s: 3 for s in net.dim_sizes if s.name in ("d", "n")})
    net.dim_sizes.update({s: 12 for s in net.dim_sizes if s.name == "nV"})
    net.dim_sizes.update({net.recurrence.T: 4})
    d, static, steps = _sequence(net, 3, seed=2)
    dims = dims_of(net, 3)
    _check_central_differences(d, static, steps, dims, ("Wf", "Uc", "bo", "Wu", "E", "Vy"))


# ------------------------------------------------------------- verify
def _verdict(network, claim, latex=False):
    from codegen.cli.cmd_verify import load_target
    from derive.verify.scalar import verify_spec

    target = network if not isinstance(network, str) else load_target(network)
    return verify_spec(target, None, claim, latex=latex)


def test_verify_accepts_the_standard_bptt_formulas():
    for claim in (
        "dh_t = W.T @ da_{t+1}",
        "da_t = dh_t * (1 - h_t**2)",
        "dW = (1/m) Σ_t da_t @ h_{t−1}.T",
        "dU = (1/m) sum_t(da_t @ x_t.T)",
        "db = (1/m) Σ_t np.sum(da_t, axis=1, keepdims=True)",
        "dh_{t−1} = W.T @ da_t",
        "dV = (1/m) do @ h_T.T",
    ):
        assert _verdict("elman_rnn", claim).equal, claim


def test_verify_names_a_missing_sum_over_t_and_one_that_is_not_there():
    v = _verdict("elman_rnn", "dW = (1/m) da_t @ h_{t−1}.T")
    assert not v.equal and v.hint.startswith("the sum over t is missing: W is used at every step")
    v = _verdict("elman_rnn", "dV = (1/m) Σ_t do @ h_T.T")
    assert not v.equal and "V is used once" in v.hint


def test_verify_names_the_missing_term_from_step_t_plus_1():
    from derive.verify.recurrent import RecTarget

    lm = RecTarget(language_model())
    assert _verdict(lm, "dh_t = V.T @ do_t + W.T @ da_{t+1}").equal
    v = _verdict(lm, "dh_t = V.T @ do_t")
    assert not v.equal and v.counterexample is not None
    assert (
        v.hint.startswith("the term from step t+1 is missing: h_t is also read by step t+1") and "Wᵀ da_{t+1}" in v.hint
    )


def test_verify_accepts_ngs_lstm_backward_and_catches_the_dropped_carry():
    assert _verdict("lstm_cell", "dc_{t−1} = (dc_{t+1} * Γf_{t+1} + Γo_t * (1 - tanh(c_t)**2) * da_t) * Γf_t").equal
    assert _verdict("lstm_cell", "dZo_t = da_t * tanh(c_t) * Γo_t * (1 - Γo_t)").equal  # Ng's eq. 7
    eq10 = "dZf = (dc_{t+1} * Γf_{t+1} + Γo * (1 - tanh(c)**2) * da) * c_{t-1} * Γf * (1 - Γf)"
    assert _verdict("lstm_cell", eq10).equal
    v = _verdict("lstm_cell", "dc_t = Γo_t * (1 - tanh(c_t)**2) * da_t")
    assert not v.equal and "dc_{t+1} ⊙ Γf_{t+1}" in v.hint


def test_verify_through_the_cli(capsys):
    from codegen.cli.app import main

    assert main(["verify", "elman_rnn", "--claim", "dW = (1/m) Σ_t da_t @ h_{t−1}.T"]) == 0
    assert main(["verify", "elman_rnn", "--claim", "dW = (1/m) da_t @ h_{t−1}.T"]) == 1
    assert "likely slip: the sum over t is missing" in capsys.readouterr().out
    assert (
        main(
            [
                "verify",
                "elman_rnn",
                "--latex",
                r"\mathrm{d}W = \frac{1}{m} \sum_{t=1}^{T} \mathrm{d}a_{t} h_{t-1}^{\top}",
            ]
        )
        == 0
    )
    assert main(["verify", "elman_rnn", "--latex", r"\mathrm{d}W = W"]) == 1
    capsys.readouterr()
    assert main(["verify", "elman_rnn", "--latex", r"\mathrm{d}W = \frac{1}{m} \mathrm{d}a_{t} q_{t-1}^{\top}"]) == 2
    assert "unknown name 'qprev'" in capsys.readouterr().err
    assert main(["verify", "elman_rnn", "--latex", r"\left.\mathrm{d}W\right|_{t=T+1} = 0"]) == 2
    assert "only a state's adjoint has a value at t = T + 1 (dh_prev)" in capsys.readouterr().err
    assert main(["verify", "elman_rnn", "--claim", "W <- W - alpha*dW"]) == 0  # was a traceback


def test_verify_reads_bptt_in_the_handouts_latex():
    """The handout's notation: time alone or last in a subscript, \\Gamma, \\sum_{t=1}^{T}, the boundary at
    t = T + 1, the cost and the updates; the slips are named as for text."""
    accepted = {
        "elman_rnn": [
            r"\mathrm{d}h_{t} = W^{\top} \mathrm{d}a_{t+1}",
            r"\mathrm{d}a_{t} = \mathrm{d}h_{t} \odot \left(1 - {h_{t}}^{\odot 2}\right)",
            r"\mathrm{d}W = \frac{1}{m}\, \sum_{t=1}^{T} \left(\mathrm{d}a_{t} h_{t-1}^{\top}\right)",
            r"\mathrm{d}h_{t-1} = W^{\top} \mathrm{d}a_{t}",
            r"\left.\mathrm{d}h_{t-1}\right|_{t=T+1} = V^{\top} \mathrm{d}o",
            r"J = \frac{1}{m}\, \sum_{\text{columns}} L_{\mathrm{CE}}(\hat{y}, Y)",
            r"W \leftarrow W - \alpha\, \mathrm{d}W",
        ],
        "lstm_cell": [
            r"\mathrm{d}c_{t-1} = \mathrm{d}c_{t} \odot \Gamma_{f,t}",
            r"\mathrm{d}Z_{f,t} = \mathrm{d}\Gamma_{f,t} \odot \Gamma_{f,t} \odot (1 - \Gamma_{f,t})",
            (
                r"\mathrm{d}c_{t} = \left(1 - \left(\tanh(c_{t})\right)^{\odot 2}\right) \odot \mathrm{d}a_{t} \odot"
                r" \Gamma_{o,t} + \mathrm{d}c_{t+1} \odot \Gamma_{f,t+1}"
            ),
            r"\left.\mathrm{d}c_{t-1}\right|_{t=T+1} = 0",
        ],
        "rnn_lm": [
            r"\mathrm{d}h_{t} = V^{\top} \mathrm{d}o_{t} + W^{\top} \mathrm{d}a_{t+1}",
            r"J = \frac{1}{m}\, \sum_{t=1}^{T} \sum_{\text{columns}} L_{\mathrm{CE}}(\hat{y}_{t}, Y_{t})",
        ],
    }
    for network, claims in accepted.items():
        for claim in claims:
            v = _verdict(network, claim, latex=True)
            assert v.equal, (network, claim, v.report())
    v = _verdict("elman_rnn", r"\mathrm{d}W = \frac{1}{m} \mathrm{d}a_{t} h_{t-1}^{\top}", latex=True)
    assert not v.equal and v.hint.startswith("the sum over t is missing: W is used at every step")
    v = _verdict("elman_rnn", r"\mathrm{d}V = \frac{1}{m} \sum_t \mathrm{d}o\, h_T^{\top}", latex=True)
    assert not v.equal and "V is used once" in v.hint
    v = _verdict("rnn_lm", r"\mathrm{d}h_{t} = V^{\top} \mathrm{d}o_{t}", latex=True)
    assert not v.equal and v.hint.startswith("the term from step t+1 is missing")
    v = _verdict("rnn_lm", r"J = \frac{1}{m} \sum_{\text{columns}} L_{\mathrm{CE}}(\hat{y}_{t}, Y_{t})", latex=True)
    assert not v.equal and "a prediction and a loss at every step" in v.hint
    v = _verdict("lstm_cell", r"\left.\mathrm{d}c_{t-1}\right|_{t=T+1} = \mathrm{d}c_{t}", latex=True)
    assert not v.equal and v.counterexample is not None
    v = _verdict("elman_rnn", r"W \leftarrow W + \alpha\, \mathrm{d}W", latex=True)
    assert not v.equal


def test_nested_sums_over_time_in_a_claim_are_read(capsys):
    """Σ_t Σ_t Σ_t was 'source code string cannot contain null bytes': each Σ_t's operand is read, its own too."""
    from codegen.cli import main

    assert main(["verify", "elman_rnn", "--wrt", "W", "--claim", "Σ_t Σ_t Σ_t da_t h_prev_t.T"]) == 1
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("dW: WRONG") and "Σ_t Σ_t Σ_t" in out
