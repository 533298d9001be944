"""A per-unit network of about 500 edges derives within 5 s (CPU time: the engine's cost is linear, and
the one-hot rewrite is tried on small sums only), and a large network announces itself on stderr before
the long work rather than leaving the user with silence."""

from __future__ import annotations

import time

from codegen.cli import report
from derive import Network, cross_entropy, sigmoid, softmax


def dense(n_in: int, width: int, classes: int) -> Network:
    """n_in inputs, one sigmoid layer of ``width`` units, a softmax over ``classes`` with cross-entropy."""
    net = Network("dense")
    xs = net.inputs(" ".join(f"x{i}" for i in range(1, n_in + 1)))
    ys = net.targets(" ".join(f"y{c}" for c in range(1, classes + 1)), one_hot=True)
    hidden = []
    for j in range(1, width + 1):
        ws = net.params(" ".join(f"W_{i}_{j}" for i in range(1, n_in + 1)))
        b = net.params(f"b_{j}")
        z = net.let(f"z{j}", sum(w * x for w, x in zip(ws, xs)) + b)
        hidden.append(net.let(f"a{j}", sigmoid(z)))
    zs = []
    for c in range(1, classes + 1):
        vs = net.params(" ".join(f"V_{j}_{c}" for j in range(1, width + 1)))
        zs.append(net.let(f"o{c}", sum(v * a for v, a in zip(vs, hidden)) + net.params(f"c_{c}")))
    qs = net.let(" ".join(f"q{c}" for c in range(1, classes + 1)), list(softmax(*zs)))
    net.loss(cross_entropy(list(qs), list(ys)))
    return net


def test_about_500_edges_derive_within_5_s():
    net = dense(16, 14, 3)
    edges = sum(len(node.deps) for node in net.nodes)
    assert 500 <= edges <= 600
    start = time.process_time()
    d = net.derive()
    assert time.process_time() - start < 5.0
    assert d.gradient("W_1_1") != 0


def test_a_large_network_announces_itself(capsys):
    report.announce_size(dense(20, 12, 2))
    assert "has 562 edges and 278 parameters: deriving every gradient takes a while" in capsys.readouterr().err
    report.announce_size(dense(2, 2, 2))
    assert capsys.readouterr().err == ""
