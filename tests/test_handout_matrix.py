"""The handout of a matrix program (``codegen/handout/matrix.py``): its graph, its worked numbers, its layout.

Each section is written from the program's own derivation, never from a network written out unit by unit; the
media that render it (PDF, HTML, slides, notebook) are checked in test_handout_{latex,html,slides,notebook}.py.
"""

from __future__ import annotations

import re

import handout_media
import numpy as np
import pytest

from codegen.cli import main
from codegen.handout import html as handout_html
from codegen.handout import matrix, worked
from codegen.handout.builder import HandoutOptions, build_context, render
from codegen.handout.document import Display, Items
from codegen.render import program_graph
from codegen.render.graph_layout import place
from derive.catalogue import load, load_spec
from derive.ir.numeric import NumPyEvaluator, run
from derive.ir.unroll import run_sequence

# programs a user declares, as the issue tries them: a residual MLP, a GRU with numeric inputs, attention
OWN = {
    "residual.py": """
from derive import VecNetwork, binary_cross_entropy, relu, sigmoid
network = VecNetwork("my_residual", doc="2-3-3-1 with a skip around the second layer")
n0, n1, n2 = network.dims(n0=2, n1=3, n2=1)
X, Y = network.input("X", n0), network.target("Y", n2)
W1, b1 = network.param("W1", (n1, n0)), network.param("b1", (n1, 1))
W2, b2 = network.param("W2", (n1, n1)), network.param("b2", (n1, 1))
W3, b3 = network.param("W3", (n2, n1)), network.param("b3", (n2, 1))
A1 = network.let("A1", relu(network.let("Z1", W1 * X + b1)))
A2 = network.let("A2", relu(network.let("Z2", W2 * A1 + b2)))
H = network.let("H", A1 + A2)
network.cost(binary_cross_entropy(network.let("A3", sigmoid(network.let("Z3", W3 * H + b3))), Y))
""",
    "gru.py": """
from derive import VecNetwork, binary_cross_entropy, hadamard, sigmoid, tanh
network = VecNetwork("my_gru", doc="a GRU over 4 numeric features per step, a label from the last state")
d, n, k = network.dims(d=4, n=5, k=1)
Wz, Uz, bz = network.param("Wz", (n, d)), network.param("Uz", (n, n)), network.param("bz", (n, 1))
Wr, Ur, br = network.param("Wr", (n, d)), network.param("Ur", (n, n)), network.param("br", (n, 1))
Wh, Uh, bh = network.param("Wh", (n, d)), network.param("Uh", (n, n)), network.param("bh", (n, 1))
network.sequence("T", 6)
with network.step():
    x = network.input("x", d)
    h_prev = network.state("h", n)
    z = network.let("z", sigmoid(network.let("Zz", Wz * x + Uz * h_prev + bz)))
    r = network.let("r", sigmoid(network.let("Zr", Wr * x + Ur * h_prev + br)))
    hc = network.let("hc", tanh(network.let("Zh", Wh * x + Uh * hadamard(r, h_prev) + bh)))
    network.let("h", hadamard(1 - z, h_prev) + hadamard(z, hc))
V, c = network.param("V", (k, n)), network.param("c", (k, 1))
Y = network.target("Y", k)
network.cost(binary_cross_entropy(network.let("yhat", sigmoid(network.let("o", V * network.handles["h"] + c))), Y))
""",
    "attention.py": """
import sympy as sp
from derive import VecNetwork, mse, softmax_rows, transpose
network = VecNetwork("my_attention", doc="one attention head over 3 features per position, a regression target")
dm, d, k = network.dims(dm=3, d=2, k=1)
X0, Y = network.input("X0", dm), network.target("Y", k)
Wq, Wk, Wv = network.param("Wq", (dm, d)), network.param("Wk", (dm, d)), network.param("Wv", (dm, d))
Wo, bo = network.param("Wo", (k, d)), network.param("bo", (k, 1))
X = network.let("X", transpose(X0))
P = network.let("P", softmax_rows(network.let("Q", X * Wq) * transpose(network.let("K", X * Wk)) / sp.sqrt(d)))
A = network.activation("A", "identity", network.let("Z", Wo * transpose(P * network.let("V", X * Wv)) + bo))
network.cost(mse(A, Y))
""",
}


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("own")
    out = {}
    for name, source in OWN.items():
        (folder / name).write_text(source)
        out[name] = load_spec(str(folder / name))
    return out


def _label(vn):
    def label(name, when):
        rec = vn.recurrence
        if rec is not None and name in rec.previous:
            name = rec.previous[name]
        return f"{name}_{when}" if when else name

    return label


# ------------------------------------------------------------------ the graph
def test_the_lstm_graph_draws_both_states_its_gates_and_their_parameters_apart():
    vn = load("lstm_cell")
    graph = program_graph.program(vn, _label(vn), len)
    labels = {b.label: b for b in graph.boxes.values() if b.kind != "slot"}
    for quantity in ("c_t", "a_t", "Γf_t", "Γu_t", "Γo_t", "ctilde_t"):  # c_t as well as a_t; the gates by name
        assert labels[quantity].kind == "node"
    assert labels["c_t-1"].kind == labels["a_t-1"].kind == "state"
    assert labels["Wf, Uf, bf"].kind == "param"  # the parameters entering Z_f, in one box of their own
    carried = {(graph.boxes[h].label, graph.boxes[p].label) for h, p in graph.carries}
    assert carried == {("a_t", "a_t-1"), ("c_t", "c_t-1")}  # each state carried to the next step
    placement = place(graph)
    drawn = [b for b in graph.boxes.values() if b.kind != "slot"]
    for i, a in enumerate(drawn):  # no box on another: boxes of one column sit a row apart
        for b in drawn[i + 1 :]:
            if a.column == b.column:
                assert abs(placement.centre[a.key][1] - placement.centre[b.key][1]) >= 0.9, (a.label, b.label)


def test_the_unrolled_lstm_has_both_states_in_every_step_and_no_edge_labels():
    vn = load("lstm_cell")
    graph = program_graph.unrolled(vn, _label(vn), len, 3)
    labels = sorted(b.label for b in graph.boxes.values())
    assert {"a_0", "c_0", "a_1", "c_1", "a_3", "c_3", "w_3"} <= set(labels)
    edges = {(graph.boxes[a].label, graph.boxes[b].label) for a, b in graph.edges}
    assert {("a_1", "c_2"), ("c_1", "c_2"), ("a_1", "a_2"), ("c_2", "a_2")} <= edges
    tikz = handout_media.tex("lstm_cell").split(r"\section{Backpropagation through time}")[1].split("tikzpicture}")[1]
    assert "edgelabel]" not in tikz  # the weights are named once, in the caption, not printed on each other


def test_a_long_edge_passes_through_its_own_slot_in_every_column_it_crosses(own):
    vn = own["gru.py"]
    graph = program_graph.program(vn, _label(vn), len)
    for (a, b), keys in graph.slots.items():
        assert [graph.boxes[k].column for k in keys] == list(range(graph.boxes[a].column + 1, graph.boxes[b].column))
    assert graph.slots  # x_t and h_{t−1} reach Z_h and h_t past other columns
    assert r"\draw[edge] (x.east) -- (" in render(vn)


# ------------------------------------------------------------------ worked numbers
@pytest.mark.parametrize("name", ["batchnorm_mlp", "lstm_cell", "residual_mlp", "self_attention", "dropout_mlp"])
def test_the_worked_gradients_are_the_cost_s_derivatives_at_the_example(name):
    vn = load(name)
    vd = vn.derive()
    ex = worked.example(vn, vd, seed=3)
    gradients = ex.values if vn.recurrence is None else ex.after
    rng = np.random.default_rng(0)
    for p in vn.names("param"):
        value = ex.leaves[p]
        index = tuple(rng.integers(s) for s in value.shape)
        h = 1e-6
        costs = []
        for step in (h, -h):
            moved = {**ex.leaves, p: value.copy()}
            moved[p][index] += step
            costs.append(_cost(vn, vd, ex, moved))
        numeric = (costs[0] - costs[1]) / (2 * h)
        assert gradients[f"d{p}"][index] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (p, index)


def _cost(vn, vd, ex, leaves) -> float:
    if vn.recurrence is None:
        return float(run(vd.forward, leaves, ex.dims)["J"][0, 0])
    return float(run_sequence(vd, leaves, ex.steps, ex.dims, NumPyEvaluator)["J"][0, 0])


def test_the_example_is_stated_small_and_honours_the_digits():
    vn = load("batchnorm_mlp")
    two = render(vn, HandoutOptions(digits=2))
    six = render(vn, HandoutOptions(digits=6))
    worked_section = re.compile(r"\\section\{A worked example\}(.*?)\\section", re.DOTALL)
    assert "$n_{0} = 2, n_{1} = 2, n_{2} = 1$, $m = 3$ examples" in two  # 8 hidden units become 2

    def digits(tex):  # the significant digits of every number worked out (exact ones, 1.08, print as they are)
        numbers = re.findall(r"-?\d+\.\d{3,}|-?\d+\.\d+(?= \\times)", worked_section.search(tex).group(1))
        return [len(re.sub(r"^[-0.]+", "", n).replace(".", "")) for n in numbers]

    assert max(digits(two)) == 2 and max(digits(six)) == 6


# ------------------------------------------------------------------ layout
def test_each_equation_number_is_on_its_equation_s_line():
    ctx = build_context(load("batchnorm_mlp"), HandoutOptions())
    rows = [
        r for s in ctx["document"] if s.key == "network" for b in s.blocks if isinstance(b, Display) for r in b.rows
    ]
    numbered = {r.number: r for r in rows if r.number}
    assert sorted(numbered) == list(range(1, 20))
    assert numbered[18].lhs == r"\mathrm{d}Z^{[1]}"  # (18), too long for a line, is broken after its number
    assert [r.lhs for r in rows].count("") == 1
    tex = handout_media.tex("batchnorm_mlp")
    assert re.search(r"\\mathrm\{d\}Z\^\{\[1\]\} &= .*\\tag\{18\} \\\\\n\s+&\s+\\quad \\left\. \\odot .* \\notag", tex)


def test_each_equation_is_pulled_back_through_once_and_every_reason_names_its_op():
    ctx = build_context(load("batchnorm_mlp"), HandoutOptions())
    steps = next(b for s in ctx["document"] if s.key == "steps" for b in s.blocks if isinstance(b, Items))
    through = [re.match(r"Through \((\d+)\)", item.lead).group(1) for item in steps.items if "Through" in item.lead]
    assert len(through) == len(set(through)) == 10  # once each, the cost and the 9 forward equations
    six = next(item for item in steps.items if item.lead.startswith("Through (6)"))
    rows = [b.rows[0].lhs for b in six.blocks if isinstance(b, Display)]
    assert rows == [r"\mathrm{d}\beta^{[1]}", r"\mathrm{d}\gamma^{[1]}", r"\mathrm{d}\hat{Z}^{[1]}"]
    reasons = [b.tex for b in six.blocks if not isinstance(b, Display)]
    assert reasons[1].startswith(r"($A \odot B$ pulls $G$ back to $G \odot B$ for $A$; $b\,\mathbf{1}^{\top}$")


def test_the_html_has_the_pdf_s_numbered_equations_for_every_program_a_user_declares(own):
    for name, vn in own.items():
        tex = matrix.equations_of(build_context(vn, HandoutOptions()))
        page = handout_html.equations(handout_html.render(vn))
        assert [int(t) for t, _ in page] == [n for n, _ in tex], name


def test_exercise_sheet_leaves_the_backward_equations_blank_and_answers_them_in_the_appendix():
    tex = render(load("residual_mlp"), HandoutOptions(exercise=True))
    body, appendix = tex.split(r"\appendix")
    assert body.count(r"\blank[5cm]") == len(load("residual_mlp").derive().backward)
    assert r"\section{The derivation, step by step}" not in body and r"\blank" not in appendix
    assert r"\mathrm{d}Z^{[3]} &= A^{[3]} - Y" in appendix


def test_cli_writes_every_medium_of_a_matrix_program(tmp_path, capsys):
    for out, extra in (("l.html", []), ("l.ipynb", []), ("l.tex", ["--slides"])):
        assert main(["handout", "lstm_cell", "-o", str(tmp_path / out), *extra]) == 0
    assert "The computation graph of the program" in (tmp_path / "l.html").read_text()
    assert r"\documentclass[aspectratio=169,11pt]{beamer}" in (tmp_path / "l.tex").read_text()
    assert "attachment:graph1.svg" in (tmp_path / "l.ipynb").read_text()
    assert "no HTML form" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--expand", "W9"], "--expand: 'W9' is not a parameter of 'residual_mlp' (it has: W1, b1, W2, b2, W3, b3)"),
        (["--example", "nope"], "--example: network 'residual_mlp' has no example 'nope' (examples: none;"),
        (["--digits", "0"], "--digits: the number of significant digits must be 1 to 15, not 0"),
    ],
)
def test_bad_options_of_a_matrix_handout_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    assert main(["handout", "residual_mlp", "-o", str(tmp_path / "r.html"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not list(tmp_path.iterdir())
