"""Per-unit derivation at depth: a node used more than once gets its own named gradient δ, so the sweep is
linear in the edges (Nielsen's δ recursion), and every result still agrees with finite differences."""

import numpy as np
import pytest
import sympy as sp

from codegen.handout.batch import scalar_network
from derive import mlp
from derive.catalogue import load
from derive.gradcheck import five_point


def deep(sizes, hidden="tanh", output="sigmoid", loss="binary_cross_entropy"):
    net, _ = scalar_network(mlp("deep", sizes, hidden, output, loss), limit=None)
    return net


def point(net, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for leaf in net.leaves:
        kind = net.kinds[leaf]
        out[leaf] = float(rng.integers(0, 2)) if kind == "target" else float(rng.normal(0, 0.8))
    return out


@pytest.mark.parametrize(
    "sizes, hidden, output, loss",
    [
        ([2, 4, 4, 4, 4, 1], "tanh", "sigmoid", "binary_cross_entropy"),
        ([2, 3, 3, 3], "sigmoid", "softmax", "cross_entropy"),
    ],
)
def test_deep_per_unit_gradients_match_finite_differences(sizes, hidden, output, loss):
    net = deep(sizes, hidden, output, loss)
    d = net.derive()
    assert d.named, "a deep network names the gradients of its shared nodes"
    at = point(net)
    if output == "softmax":  # one-hot targets
        ys = [n for n in net.leaves if net.kinds[n] == "target"]
        for i, y in enumerate(ys):
            at[y] = 1.0 if i == 0 else 0.0
    got = d.evaluate(at).gradients
    for p in net.names("param"):

        def shifted(h, p=p):
            return d.forward({**at, p: at[p] + h})[net.loss_name]

        numeric = five_point(shifted, 1e-4)
        assert abs(got[p] - numeric) <= 1e-6 * max(1.0, abs(numeric)), p


def test_deltas_are_defined_before_use_and_resolve_to_the_full_gradient():
    net = deep([2, 3, 3, 1])
    d = net.derive()
    seen = set()
    for symbol, node, definition in d.deltas():
        assert {s for s in definition.free_symbols if s.name.startswith("delta_")} <= seen
        seen.add(symbol)
    p = net.names("param")[0]
    short, full = d.gradient(p, deltas=True), d.gradient(p)
    assert any(s.name.startswith("delta_") for s in short.free_symbols)
    assert not any(s.name.startswith("delta_") for s in full.free_symbols)
    assert sp.count_ops(short) < sp.count_ops(full)


def test_the_lecture_networks_keep_their_single_chain_presentation():
    for name in ("two_layer_sigmoid", "two_layer_relu", "xor", "softmax_layer", "two_layer_softmax"):
        assert not load(name).derive().named, name


def test_a_deep_handout_states_the_delta_recursion_once_and_uses_it():
    from codegen.handout.builder import HandoutOptions, render

    net = deep([2, 3, 3, 3, 1], "sigmoid")
    tex = render(net, HandoutOptions())
    assert tex.count(r"\subsection*{The $\delta$ recursion}") == 1
    summary = tex[tex.index(r"\subsection*{All the gradients}") :]
    assert r"\delta_{" in summary
