"""Derived gradients against an independent engine: PyTorch autograd (skipped where torch is not installed)."""

import pytest
import sympy as sp

from derive import gradcheck
from derive.catalogue import load, names
from derive.functions import BinaryCrossEntropy, CrossEntropy, ReLU, Sigmoid, Softmax, SquaredError, Step, Tanh

torch = pytest.importorskip("torch")

SCALAR = [n for n in names() if hasattr(load(n), "nodes")]


def to_torch(expr, env):
    """Evaluate a SymPy expression with torch ops, leaves from ``env`` (name -> tensor)."""
    if expr.is_Symbol:
        return env[expr.name]
    if expr.is_Number:
        return torch.tensor(float(expr), dtype=torch.float64)
    args = [to_torch(a, env) for a in expr.args]
    if expr.is_Add:
        return sum(args[1:], args[0])
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if expr.is_Pow:
        return args[0] ** args[1]
    kind = type(expr)
    if kind is sp.exp:
        return torch.exp(args[0])
    if kind is sp.log:
        return torch.log(args[0])
    if kind is Sigmoid:
        return torch.sigmoid(args[0])
    if kind is Tanh:
        return torch.tanh(args[0])
    if kind is ReLU:
        return torch.relu(args[0])
    if kind is Step:
        return (args[0] >= 0).to(torch.float64)
    if kind is Softmax:
        k = int(expr.args[0])
        return torch.softmax(torch.stack(args[1:]), dim=0)[k - 1]
    if kind is BinaryCrossEntropy:
        yhat, y = args
        return -(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat))
    if kind is CrossEntropy:
        k = len(args) // 2
        return -sum(y * torch.log(p) for p, y in zip(args[:k], args[k:]))
    if kind is SquaredError:
        k = len(args) // 2
        return 0.5 * sum((p - y) ** 2 for p, y in zip(args[:k], args[k:]))
    raise NotImplementedError(kind)


@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("seed", range(2))
def test_gradients_match_torch_autograd(name, seed):
    net = load(name)
    d = net.derive()
    point = gradcheck.smooth_point(d, seed=seed)
    env = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in point.items()}
    for node in net.nodes:
        env[node.name] = to_torch(node.expr, env)
    env[net.loss_name].backward()
    ours = d.evaluate(point).gradients
    for p in net.names("param") + net.names("input"):
        want = env[p].grad.item() if env[p].grad is not None else 0.0
        assert gradcheck.relative_error(ours[p], want) <= 1e-9, (p, ours[p], want)
