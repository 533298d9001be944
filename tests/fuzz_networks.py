"""Random networks for the fuzz test (tests/test_fuzz.py) and scripts/fuzz.py.

``unit_spec(rng)`` and ``layer_spec(rng)`` write the source of a spec file: a per-unit network (depth,
widths, activations, a loss matched to its output or not, skip connections, tied weights, product
terms, names with ``_`` or letters outside ASCII) or a layer network (depth, widths, activations,
losses, a residual sum, tied (transposed) weights, an L2 cost term).  ``run_all(path, stages)`` takes
one spec file through derive (gradients against central differences), generate (the module imported
and its gradients against central differences of its own loss), handout (the .tex rendered) and verify
(a right and a wrong claim).  The outcome is "ok" or a one-line ChainruleError; anything else raises.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

from codegen.emit.load import load_file
from derive import ChainruleError, VecNetwork, gradcheck
from derive.catalogue import load_spec

TOLERANCE = 1e-6
STAGES = ("derive", "generate", "handout", "verify")


# ------------------------------------------------------------------ per-unit networks
def unit_spec(rng: random.Random) -> str:
    n_in = rng.randint(1, 3)
    depth = rng.randint(0, 2)
    style = rng.choice(["plain", "plain", "underscore", "unicode"])
    weight = {"plain": "W", "underscore": "W_", "unicode": "Wé"}[style]
    lines = [
        "from derive import Network, binary_cross_entropy, cross_entropy, relu, sigmoid, softmax, squared_error, tanh",
        "",
        "",
        "",
        "def many(declared):",
        "    return declared if isinstance(declared, tuple) else (declared,)",
        "",
        "",
        f'net = Network("fuzz_unit", doc="depth {depth}, {style} names")',
    ]
    inputs = [f"x{i + 1}" for i in range(n_in)]
    lines.append(f'{", ".join(inputs)}, = many(net.inputs("{" ".join(inputs)}"))')
    params: list[str] = []
    prev = list(inputs)
    tied = rng.random() < 0.25
    skip = rng.random() < 0.3
    for layer in range(1, depth + 1):
        width = rng.randint(1, 3)
        g = rng.choice(["sigmoid", "tanh", "relu"])
        units = []
        for j in range(1, width + 1):
            terms = []
            for i, a in enumerate(prev, start=1):
                w = f"{weight}{layer}{i}{j}" if not (tied and j > 1) else f"{weight}{layer}{i}1"  # tied: one weight
                if w not in params:
                    params.append(w)
                terms.append(f"{w} * {a}")
            if skip and layer > 1:
                terms.append(inputs[0])  # a skip connection from the input
            b = f"b{layer}{j}"
            params.append(b)
            z, a = f"z{layer}{j}", f"a{layer}{j}"
            lines.append(f'{z} = net.let("{z}", {" + ".join(terms)} + {b})')
            lines.append(f'{a} = net.let("{a}", {g}({z}))')
            units.append(a)
        if rng.random() < 0.2 and len(units) >= 2:  # a product term
            p = f"p{layer}"
            lines.append(f'{p} = net.let("{p}", {units[0]} * {units[1]})')
            units.append(p)
        prev = units
    output = rng.choice(["sigmoid_bce", "sigmoid_bce", "softmax_ce", "identity_se", "sigmoid_se", "product_bce"])
    k = rng.randint(2, 3) if output == "softmax_ce" else 1
    targets = [f"y{i + 1}" for i in range(k)] if k > 1 else ["y"]
    lines.append(
        f'{", ".join(targets)}, = many(net.targets("{" ".join(targets)}"{", one_hot=True" if output == "softmax_ce" else ""}))'
    )
    zs = []
    for c in range(1, k + 1):
        terms = []
        for i, a in enumerate(prev, start=1):
            w = f"v{i}{c}"
            params.append(w)
            terms.append(f"{w} * {a}")
        params.append(f"c{c}")
        zs.append(f"zo{c}")
        lines.append(f'zo{c} = net.let("zo{c}", {" + ".join(terms)} + c{c})')
    if output == "softmax_ce":
        outs = [f"yhat{c}" for c in range(1, k + 1)]
        lines.append(f'{", ".join(outs)} = net.let("{" ".join(outs)}", softmax({", ".join(zs)}))')
        lines.append(f"net.loss(cross_entropy([{', '.join(outs)}], [{', '.join(targets)}]))")
    elif output == "identity_se":
        lines.append(f"net.loss(squared_error({zs[0]}, y))")
    elif output == "product_bce":
        lines.append('q1 = net.let("q1", sigmoid(zo1))')
        lines.append('q2 = net.let("q2", sigmoid(0.5 * zo1 + 0.1))')
        lines.append('q = net.let("q", q1 * q2)')
        lines.append("net.loss(binary_cross_entropy(q, y))")
    else:
        lines.append('yhat = net.let("yhat", sigmoid(zo1))')
        loss = "binary_cross_entropy" if output == "sigmoid_bce" else "squared_error"
        lines.append(f"net.loss({loss}(yhat, y))")
    lines.insert(9, f'{", ".join(params)}, = many(net.params("{" ".join(params)}"))')
    lines.append("network = net")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ layer networks
def layer_spec(rng: random.Random) -> str:
    depth = rng.randint(1, 3)
    widths = [rng.randint(1, 4) for _ in range(depth)]
    output = rng.choice(["sigmoid_bce", "sigmoid_bce", "softmax_ce", "identity_mse", "sigmoid_mse"])
    n_out = rng.randint(2, 3) if output == "softmax_ce" else rng.randint(1, 2)
    tied = rng.random() < 0.2 and depth == 1
    sizes = [rng.randint(1, 4)] + widths + [n_out]
    if tied:  # an autoencoder: the decoder is the transposed encoder
        sizes[-1] = sizes[0]
        n_out = sizes[0]
        output = "sigmoid_bce"
    dims = ", ".join(f"n{i}={s}" for i, s in enumerate(sizes))
    lines = [
        "from derive import VecNetwork, binary_cross_entropy, cross_entropy, frobenius_sq, mse, transpose",
        "",
        'net = VecNetwork("fuzz_layers", doc="a random layer network")',
        f"{', '.join(f'n{i}' for i in range(len(sizes)))}, = net.dims({dims})",
        f'X, Y = net.input("X", n0), net.target("Y", n{0 if tied else len(sizes) - 1})',
    ]
    previous, last = "X", len(sizes) - 1
    dim = {0: "n0"}
    for layer in range(1, last + 1):
        g = rng.choice(["sigmoid", "tanh", "relu"]) if layer < last else output.split("_")[0]
        residual = 1 < layer < last and rng.random() < 0.4  # H = A_l + A_{l-1}: A_l keeps A_{l-1}'s rows
        dim[layer] = dim[layer - 1] if residual else "n0" if (tied and layer == last) else f"n{layer}"
        if tied and layer == last:
            lines.append(f'b{layer} = net.param("b{layer}", ({dim[layer]}, 1))')
            lines.append(f'Z{layer} = net.let("Z{layer}", transpose(W1) * {previous} + b{layer})')
        else:
            lines.append(
                f'W{layer}, b{layer} = net.param("W{layer}", ({dim[layer]}, {dim[layer - 1]})), '
                f'net.param("b{layer}", ({dim[layer]}, 1))'
            )
            lines.append(f'Z{layer} = net.let("Z{layer}", W{layer} * {previous} + b{layer})')
        lines.append(f'A{layer} = net.activation("A{layer}", "{g}", Z{layer})')
        previous = f"A{layer}"
        if residual:
            lines.append(f'H{layer} = net.let("H{layer}", A{layer} + A{layer - 1})')
            previous = f"H{layer}"
    loss = {"bce": "binary_cross_entropy", "ce": "cross_entropy", "mse": "mse"}[output.split("_")[1]]
    cost = f"{loss}(A{last}, Y)"
    if rng.random() < 0.3:  # an L2 penalty on the first weights
        lines.append('lam = net.constant("lam", 0.1)')
        cost += " + lam / (2 * net.m) * frobenius_sq(W1)"
    lines.append(f"net.cost({cost})")
    lines.append("network = net")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the stages
def run_derive(net) -> None:
    if isinstance(net, VecNetwork):
        d = net.derive()
        # an entry all but 0 (vanishing through a narrow tanh/σ layer) is held to the differences' round-off
        worst = gradcheck.worst(gradcheck.check(d, seed=0))
        assert worst <= TOLERANCE, f"layer gradients differ from finite differences: {worst:.2e}"
        return
    d = net.derive()
    point = gradcheck.smooth_point(d, seed=0, margin=1e-2)
    scale = max(1.0, abs(d.forward(point)[net.loss_name]))
    for row in gradcheck.check(d, point):
        err = gradcheck.relative_error(row.analytic, row.numeric)
        assert err <= TOLERANCE or abs(row.analytic - row.numeric) <= 1e-9 * scale, (row, err)


def run_generate(spec: Path, folder: Path) -> None:
    from codegen.cli.cmd_generate import generate

    name = f"fuzz_module_{abs(hash(str(spec))) % 10**8}"
    module_path = folder / f"{name}.py"
    generate(str(spec), str(module_path), force=True)
    mod = load_file(module_path)
    try:
        X, Y = mod.demo_data(4) if "m" in mod.demo_data.__code__.co_varnames else mod.demo_data()
    except TypeError:
        X, Y = mod.demo_data()
    X, Y = X[:, :4], Y[:, :4]
    rng = np.random.default_rng(0)
    params = {k: np.asarray(v + 0.3 * rng.standard_normal(np.shape(v))) for k, v in mod.init_params(0).items()}
    grads = mod.gradients(params, X, Y)
    h = 1e-6
    for name_, value in params.items():
        flat = value.reshape(-1)
        for i in range(min(flat.size, 4)):
            keep = flat[i]
            flat[i] = keep + h
            up = mod.loss(params, X, Y)
            flat[i] = keep - h
            down = mod.loss(params, X, Y)
            flat[i] = keep
            numeric = (up - down) / (2 * h)
            analytic = float(np.asarray(grads[name_]).reshape(-1)[i])
            err = abs(analytic - numeric) / max(1e-6, abs(analytic), abs(numeric))
            assert err <= 1e-4 or abs(analytic - numeric) <= 1e-7, f"{name_}[{i}]: {analytic} vs {numeric}"
    sys.modules.pop(name, None)


def run_handout(net) -> None:
    from codegen.cli.cmd_handout import HandoutOptions
    from codegen.handout.builder import render

    tex = render(net, HandoutOptions())
    assert tex.count(r"\begin{document}") == 1 and r"\end{document}" in tex


def run_verify(spec: Path) -> None:
    from codegen.cli.cmd_verify import load_target
    from derive.verify.scalar import verify_spec

    target = load_target(str(spec))
    net = load_spec(str(spec))
    if isinstance(net, VecNetwork):
        eq = next(e for e in net.derive().backward if e.target.startswith("dW"))
        right, wrong = eq.text, f"{eq.target} = 2 ({eq.text.split(' = ', 1)[1]})"
        wrt = None
    else:
        wrt = net.names("param")[0]
        gradient = net.derive().gradient(wrt)
        right, wrong = str(gradient), f"({gradient}) + 1"
    holds = verify_spec(target, wrt, right, where="--claim")
    assert holds.equal, f"the derivation's own gradient does not hold: {right}\n{holds.report()}"
    fails = verify_spec(target, wrt, wrong, where="--claim")
    assert not fails.equal, f"a wrong claim holds: {wrong}"


def run_all(spec: Path, folder: Path, stages=STAGES) -> str:
    """'ok', or the one-line message of the ChainruleError a stage raised (its first)."""
    try:
        net = load_spec(str(spec))
        for stage in stages:
            if stage == "derive":
                run_derive(net)
            elif stage == "generate":
                run_generate(spec, folder)
            elif stage == "handout":
                run_handout(net)
            elif stage == "verify":
                run_verify(spec)
    except ChainruleError as exc:
        message = str(exc)
        assert "\n" not in message, message
        return message
    return "ok"
