"""Handout content, options and the CLI (without compiling; see test_handout_latex.py)."""

import os

import pytest

from codegen.cli import main
from codegen.handout.builder import HandoutOptions, build_context, default_expanded, render, visible_width, wrap_terms
from codegen.render import graph_tikz
from derive import ChainruleError
from derive.catalogue import load


def test_default_expands_one_weight_and_one_bias_per_layer():
    assert default_expanded(load("two_layer_sigmoid").derive()) == ["W11", "b1", "w1", "b"]
    assert default_expanded(load("softmax_layer").derive()) == ["W11", "b1"]
    assert default_expanded(load("computation_graph").derive()) == ["a", "b", "c"]


def test_the_rest_is_summarised_as_likewise():
    tex = render(load("two_layer_sigmoid"))
    assert "likewise" in tex
    for name in ("W_{21}", "W_{12}", "W_{22}", "w_2", "b_2"):
        assert rf"\frac{{\partial L}}{{\partial {name}}} &=" in tex
    assert r"\subsection*{$\partial L / \partial W_{21}$}" not in tex


def test_the_handout_renders_the_derivation_steps():
    tex = render(load("two_layer_sigmoid"))
    # chain rule, a factor with its rule, the coloured cancellation, the boxed result
    assert (
        r"\frac{\partial L}{\partial W_{11}} &= \frac{\partial L}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial z}"
        in tex
    )
    assert r"\tag*{\footnotesize $\left[\sigma'(z) = \sigma(z)(1 - \sigma(z))\right]$}" in tex
    assert r"\frac{y}{\textcolor{red}{\hat{y}}}" in tex
    assert r"\boxed{\begin{aligned}" in tex
    assert r"&= \left(\hat{y} - y\right) w_1 a_1 \left(1 - a_1\right) x_1" in tex


def test_sections_can_be_left_out():
    net = load("two_layer_sigmoid")
    full = render(net)
    for title in (
        "The network",
        "A worked forward pass",
        "The backward pass",
        "The vectorised form",
        "The update rule",
    ):
        assert rf"\section{{{title}}}" in full
    short = render(net, HandoutOptions(sections=("backward",)))
    assert r"\section{The backward pass}" in short
    assert r"\section{The network}" not in short and r"\section{The update rule}" not in short


def test_exercise_has_blanks_and_solutions_in_an_appendix():
    net = load("two_layer_sigmoid")
    tex = render(net, HandoutOptions(exercise=True))
    assert r"\blank" in tex and r"\appendix" in tex
    body, appendix = tex.split(r"\appendix")
    assert r"\boxed{\begin{aligned}" not in body  # no answers before the appendix
    assert r"\boxed{\begin{aligned}" in appendix
    none = render(net, HandoutOptions(exercise=True, solutions="none"))
    assert r"\appendix" not in none and r"\blank" in none


def test_notation_options():
    net = load("two_layer_sigmoid")
    layer = render(net, HandoutOptions(output="layer"))
    assert r"\hat{y} &=" not in layer and "a^{[2]} - y" in layer  # (the generic rules keep their ŷ)
    assert r"\frac{\partial L}{\partial a^{[2]}}" in layer
    delta = render(net, HandoutOptions(delta="delta"))
    assert r"\delta^{[2]} &= A^{[2]} - Y" in delta
    assert r"\mathrm{d}Z^{[2]} &= A^{[2]} - Y" in render(net)


def test_expand_all_and_a_chosen_parameter():
    net = load("two_layer_sigmoid")
    ctx = build_context(net, HandoutOptions(expand=("W22",)))
    assert [b["param"] for b in ctx["backward"]["blocks"]] == ["W22"]
    ctx = build_context(net, HandoutOptions(expand=("all",)))
    assert len(ctx["backward"]["blocks"]) == 9 and not ctx["backward"]["likewise"]


def test_worked_example_values():
    ctx = build_context(load("single_unit"), HandoutOptions())
    rows = {n["rows"][0][0]: " ".join(r for _, r in n["rows"]) for n in ctx["forward"]["nodes"]}
    assert rows["z"].endswith("= 0.87")
    assert rows[r"\hat{y}"].endswith(r"= \sigma(0.87) = 0.7047")  # four significant digits by default
    ctx = build_context(load("single_unit"), HandoutOptions(digits=2))
    rows = {n["rows"][0][0]: " ".join(r for _, r in n["rows"]) for n in ctx["forward"]["nodes"]}
    assert rows[r"\hat{y}"].endswith(r"= \sigma(0.87) = 0.70")  # the lecture's 0.70
    ctx = build_context(load("two_layer_sigmoid"), HandoutOptions(digits=9))
    assert ctx["forward"]["loss"] == "0.795085788"
    with pytest.raises(ChainruleError, match="significant digits"):
        build_context(load("single_unit"), HandoutOptions(digits=0))


def test_the_example_point_is_stated():
    ctx = build_context(load("two_layer_sigmoid"), HandoutOptions())
    title = ctx["example"]["title"]
    assert title.startswith("the example $x_1 = 0.5$, $x_2 = -1$ (target $y = 1$), with the parameters $W_{11} = 0.1$")
    assert "seeded" not in title


def test_optimizers():
    net = load("logistic_regression")
    adam = render(net, HandoutOptions(optimizer="adam"))
    assert r"\hat{m} &= \frac{m}{1 - \beta_1^t}" in adam
    with pytest.raises(ChainruleError, match="unknown optimizer"):
        render(net, HandoutOptions(optimizer="lbfgs"))


def test_vectorised_section_links_entries_and_agrees_at_m_1():
    for name in ("two_layer_sigmoid", "softmax_layer", "xor", "two_layer_softmax"):
        ctx = build_context(load(name), HandoutOptions())
        v = ctx["vectorised"]
        assert v["available"], name
        assert v["agree"], name
        assert v["check"], name
    v = build_context(load("two_layer_sigmoid"), HandoutOptions())["vectorised"]
    # W21 joins input 2 to unit 1: entry (1, 2) of W^{[1]}
    assert v["example"]["scalar"] == "W_{21}" and v["example"]["entry"] == "W^{[1]}_{1,2}"
    assert [e["lhs"] for e in v["backward"]] == [
        r"\mathrm{d}Z^{[2]}",
        r"\mathrm{d}W^{[2]}",
        r"\mathrm{d}b^{[2]}",
        r"\mathrm{d}A^{[1]}",
        r"\mathrm{d}Z^{[1]}",
        r"\mathrm{d}W^{[1]}",
        r"\mathrm{d}b^{[1]}",
    ]
    assert build_context(load("computation_graph"), HandoutOptions())["vectorised"] == {"available": False}


def test_large_graphs_are_summarised():
    small = graph_tikz.build(load("two_layer_sigmoid"))
    assert not small.summarised and len(small.boxes) == 19
    big = graph_tikz.build(load("softmax_layer"))
    assert big.summarised
    assert max(len([b for b in big.boxes.values() if b.column == c]) for c in range(4)) <= graph_tikz.MAX_ROWS
    assert sorted(big.boxes["g0pW"].members) == sorted(f"W{i}{k}" for k in range(1, 7) for i in (1, 2))


def test_summarised_deep_graph_boxes_do_not_overlap():
    from codegen.handout.batch import scalar_network
    from codegen.render.graph_layout import box_width_cm, place
    from derive import mlp

    net, _ = scalar_network(mlp("deep", sizes=[2, 3, 3, 3, 1], hidden="sigmoid", output="sigmoid"))  # per unit
    ctx = build_context(net, HandoutOptions())
    graph = ctx["network"]["figure"].graph
    assert graph.summarised and graph.boxes["g0pW1"].label == r"W_{1,1,1 \dots 1,3,2}"
    placement = place(graph)
    boxes = list(graph.boxes.values())
    for a in boxes:
        for b in boxes:
            if a.column < b.column and abs(a.row - b.row) < 0.9:  # side by side: apart by their half-widths
                gap = placement.centre[b.key][0] - placement.centre[a.key][0]
                assert gap >= (box_width_cm(a) + box_width_cm(b)) / 2, (a.key, b.key)
    assert 0.6 < placement.scale <= 1


def test_long_sums_wrap_at_whole_terms():
    terms = [
        rf"\frac{{\partial L}}{{\partial \hat{{y}}_{k}}} \frac{{\partial \hat{{y}}_{k}}}{{\partial z_1}}"
        for k in range(9)
    ]
    lines = wrap_terms(terms, 40)
    assert len(lines) > 1 and all(visible_width(line) <= 40 + 1 or " + " not in line for line in lines)
    assert "".join(lines).count(r"\partial L") == 9


def test_deterministic():
    net = load("two_layer_softmax")
    assert render(net) == render(load("two_layer_softmax"))


def test_cli_writes_the_tex(tmp_path, capsys):
    out = tmp_path / "h.tex"
    assert main(["handout", "two_layer_sigmoid", "-o", str(out), "--omit", "vectorised"]) == 0
    assert out.read_text().startswith("% chainrule: generated file, sha256 ")  # the stamp (overwrite checks)
    assert out.read_text().splitlines()[1].startswith("% Generated by chainrule")
    assert r"\section{The vectorised form}" not in out.read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["handout", "no_such_net"], "unknown network 'no_such_net'"),
        (["handout", "two_layer_sigmoid", "--expand", "W99"], "--expand: 'W99' is not a parameter"),
        (["handout", "two_layer_sigmoid", "--omit", "intro"], "--omit: unknown section 'intro'"),
        (
            ["handout", "two_layer_sigmoid", "--example", "nope"],
            "--example: network 'two_layer_sigmoid' has no example",
        ),
        (["handout", "two_layer_sigmoid", "-o", "x.txt"], "-o: the output name must end in .tex"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []  # nothing half-written


def test_a_user_network_from_a_spec_file(tmp_path):
    spec = tmp_path / "unit.py"
    spec.write_text(
        "from derive import Network, sigmoid, squared_error\n"
        "network = Network('my_unit')\n"
        "x = network.inputs('x')\n"
        "y = network.targets('y')\n"
        "w, b = network.params('w b')\n"
        "z = network.let('z', w*x + b)\n"
        "a = network.let('a', sigmoid(z))\n"
        "network.loss(squared_error(a, y))\n"
    )
    out = tmp_path / "mine.tex"
    assert main(["handout", str(spec), "-o", str(out)]) == 0
    assert r"seeded values (\texttt{--seed} 0)" in out.read_text()


def test_a_network_declared_in_matrices_gets_the_handout_of_its_matrix_program_at_any_size():
    from derive import mlp

    tex = render(mlp("big", sizes=[784, 32, 10], output="softmax", loss="cross_entropy"))
    assert "a chain of layers declared in matrices" in tex  # never written out unit by unit
    assert r"\mathrm{d}Z^{[2]} &= A^{[2]} - Y" in tex
    assert r"W^{[1]} &\leftarrow W^{[1]} - \alpha\, \mathrm{d}W^{[1]}" in tex
    assert r"\section{The backward pass}" not in tex and r"\section{A worked example}" in tex
    assert "$n_{0} = 2, n_{1} = 2, n_{2} = 2$, $m = 3$" in tex  # worked at a stated small example


def test_small_backward_graphs_label_edges_with_local_derivatives():
    ctx = build_context(load("computation_graph"), HandoutOptions())
    graph = ctx["backward"]["graph"]
    assert r"\draw[edge] (b) -- (d) node[pos=0.35, above, sloped, edgelabel] {$2$};" in graph  # ∂d/∂b = 2
    assert r"\draw[edge] (e) -- (L) node[pos=0.35, above, sloped, edgelabel] {$-2$};" in graph  # ∂L/∂e = c
    # long edges run along their source's row and turn into the target, passing no box
    assert r"\draw[edge] (a) -| (e)" in graph and r"\draw[edge] (c) -| (L)" in graph
    assert "edgelabel]" not in build_context(load("softmax_layer"), HandoutOptions())["backward"]["graph"]


def test_an_exact_solution_is_not_the_worked_example():
    ctx = build_context(load("xor"), HandoutOptions())  # its examples are XOR's hand-set solution
    assert ctx["example"]["seeded"] and "every gradient is 0" in ctx["example"]["title"]
    assert build_context(load("xor"), HandoutOptions(example="hand_set_01"))["example"]["title"].startswith(
        "the example $x_1 = 0$, $x_2 = 1$ (target $y = 1$), with the parameters"
    )


def test_all_the_gradients_are_tagged_3_k_as_the_generated_module_cites_them():
    import re

    from codegen.emit.numpy_module import scalar_context

    net = load("two_layer_sigmoid")
    tex = render(net)
    backward = tex.split(r"\section{The backward pass}")[1].split(r"\section{The vectorised form}")[0]
    summary = backward.split(r"\subsection*{All the gradients}")[1]
    params = net.names("param")
    assert re.findall(r"\\tag\{(3\.\d+)\}", summary) == [f"3.{k}" for k in range(1, len(params) + 1)]
    assert (
        r"\frac{\partial L}{\partial W_{22}} &= \left(\hat{y} - y\right) w_2 a_2 \left(1 - a_2\right) x_2 \tag{3.4}"
        in summary
    )
    assert r"\frac{\partial L}{\partial b} &= \hat{y} - y \tag{3.9}" in summary
    comments = [line.comments[-1] for line in scalar_context(net, "two_layer_sigmoid")["backward"]]
    assert [c.split(":")[0] for c in comments] == [f"handout equation (3.{k})" for k in range(1, len(params) + 1)]
    assert comments[3] == "handout equation (3.4): ∂L/∂W22 = (ŷ − y)·w2·a2·(1 − a2)·x2"


def test_all_the_gradients_follows_the_section_switches():
    net = load("two_layer_sigmoid")
    assert "All the gradients" not in render(net, HandoutOptions(sections=("network", "forward", "update")))
    alone = render(net, HandoutOptions(sections=("backward",)))
    assert "All the gradients" in alone
    assert "\\setcounter{section}{2}\n\\section{The backward pass}" in alone  # still section 3: (3.k) holds
    body, appendix = render(net, HandoutOptions(exercise=True)).split(r"\appendix")
    assert "All the gradients" not in body and r"\tag{3.1}" in appendix  # answers only in the solutions
    assert "All the gradients" not in render(net, HandoutOptions(exercise=True, solutions="none"))


def test_one_index_convention_per_handout_stated_once():
    from codegen.handout.builder import index_convention

    conventions = {}
    for name in ("two_layer_sigmoid", "two_layer_relu", "xor", "softmax_layer", "two_layer_softmax"):
        conventions[name] = index_convention(load(name))
        tex = render(load(name))
        assert tex.count("every weight in this handout is indexed this way") == 1
    assert set(conventions.values()) == {"input-unit"}  # the lecture's: W_ij joins input i to unit j
    tex = render(load("two_layer_softmax"))
    assert r"u_1 &= U_{11} h_1 + U_{21} h_2" in tex  # the output layer too (J&M's z = Uh, U_jk)
    assert index_convention(load("embedding_classifier")) == "unit-input"  # J&M's E (d × |V|): stated as such
