"""Layer modules for every hidden/output/loss pair the templates express: gradients against
finite differences, in place on the workspace, and the same result as fresh arrays."""

import numpy as np
import pytest

from codegen.cli.cmd_generate import generate
from codegen.emit.load import load_file

CONFIGS = [
    (hidden, output, loss, sizes)
    for hidden in ("relu", "sigmoid", "tanh")
    for output, loss, sizes in (
        ("sigmoid", "binary_cross_entropy", [3, 5, 1]),
        ("softmax", "cross_entropy", [4, 6, 5, 3]),
        ("identity", "mse", [2, 3, 2]),
        ("sigmoid", "mse", [3, 4, 4, 2]),
    )
]


def build(tmp_path, body, name):
    spec = tmp_path / f"{name}_spec.py"
    spec.write_text("from derive import *\n" + body)
    out = tmp_path / f"{name}.py"
    generate(str(spec), str(out), tests=False)
    return load_file(out)


def five_point(module, params, X, Y, name, i, h=1e-4):
    flat = params[name].reshape(-1)
    keep = flat[i]
    values = []
    for k in (-2, -1, 1, 2):
        flat[i] = keep + k * h
        values.append(module.loss(params, X, Y))
    flat[i] = keep
    return (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)


def check_gradients(module, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in module.init_params(seed=seed).items()}
    X, Y = module.demo_data(seed=seed)
    X, Y = X[:, :7], Y[:, :7]
    grads = module.gradients(params, X, Y)
    for name, g in grads.items():
        numeric = np.array([five_point(module, params, X, Y, name, i) for i in range(g.size)])
        error = np.linalg.norm(g.reshape(-1) - numeric) / (np.linalg.norm(g) + np.linalg.norm(numeric))
        assert error <= 1e-7, f"{name}: {error:.1e}"
    # the workspace is reused: a second call with out= gives the same numbers
    again = module.gradients(params, X, Y, out={k: np.empty_like(v) for k, v in params.items()})
    for name in grads:
        np.testing.assert_array_equal(grads[name], again[name])


@pytest.mark.parametrize("hidden, output, loss, sizes", CONFIGS, ids=["-".join(c[:3]) for c in CONFIGS])
def test_mlp_module_gradients(tmp_path, hidden, output, loss, sizes):
    body = f"network = mlp('n', sizes={sizes}, hidden='{hidden}', output='{output}', loss='{loss}')\n"
    check_gradients(build(tmp_path, body, "n"))


def test_hand_declared_network_without_bias(tmp_path):
    body = (
        "network = VecNetwork('custom')\n"
        "n0, n1, n2 = network.dims(n0=3, n1=4, n2=2)\n"
        "X = network.input('X', n0)\nY = network.target('Y', n2)\n"
        "U = network.param('U', (n1, n0))\nV = network.param('V', (n2, n1))\nc = network.param('c', (n2, 1))\n"
        "H = network.affine('H', U, X)\nG = network.activation('G', 'tanh', H)\n"
        "S = network.affine('S', V, G, c)\nP = network.activation('P', 'softmax', S)\n"
        "network.cost('cross_entropy', P, Y)\n"
    )
    module = build(tmp_path, body, "custom")
    assert list(module.PARAMS) == ["U", "V", "c"]
    check_gradients(module)
    _, history = module.train(*module.demo_data(), epochs=30, lr=0.05, optimizer="adam")
    assert history[-1] < history[0]
