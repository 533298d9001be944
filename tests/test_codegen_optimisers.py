"""The optimisers of a generated module, one step each against the formulas (seed 003), and training."""

from pathlib import Path

import numpy as np
import pytest

from codegen.emit.load import load_file

ROOT = Path(__file__).resolve().parent.parent


def load(name):
    return load_file(ROOT / "generated" / f"{name}.py", f"golden_{name}")


@pytest.fixture(scope="module")
def mod():
    return load("one_hidden_layer")


def reference(optimizer, p, g, steps, lr, mu=0.9, b1=0.9, b2=0.999, rho=0.9, eps=1e-8):
    """The update rules written out, applied `steps` times with the same gradient g."""
    v = np.zeros_like(p)
    s = np.zeros_like(p)
    for t in range(1, steps + 1):
        if optimizer == "sgd":
            p = p - lr * g
        elif optimizer == "momentum":
            v = mu * v + g
            p = p - lr * v
        elif optimizer == "adagrad":
            s = s + g**2
            p = p - lr * g / (np.sqrt(s) + eps)
        elif optimizer == "rmsprop":
            s = rho * s + (1 - rho) * g**2
            p = p - lr * g / (np.sqrt(s) + eps)
        elif optimizer == "adam":
            v = b1 * v + (1 - b1) * g
            s = b2 * s + (1 - b2) * g**2
            p = p - lr * (v / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    return p


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_update_follows_the_formula(mod, optimizer):
    params = mod.init_params(seed=0)
    X, Y = mod.demo_data()
    grads = {k: v.copy() for k, v in mod.gradients(params, X, Y).items()}
    expected = {k: reference(optimizer, params[k].copy(), grads[k], 3, 0.1) for k in params}
    state = {}
    for t in (1, 2, 3):
        mod.update(params, grads, state, optimizer, 0.1, t)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-15)


def test_first_adam_step_moves_each_parameter_by_lr(mod):
    params = mod.init_params(seed=0)
    before = {k: v.copy() for k, v in params.items()}
    X, Y = mod.demo_data()
    grads = mod.gradients(params, X, Y)
    mod.update(params, grads, {}, "adam", 0.01, 1)
    for k in params:
        moved = np.abs(params[k] - before[k])[np.abs(grads[k]) > 1e-6]
        np.testing.assert_allclose(moved, 0.01, rtol=1e-3)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_training_lowers_the_loss(mod, optimizer, batch_size):
    X, Y = mod.demo_data()
    start = mod.loss(mod.init_params(seed=0), X, Y)
    lr = {"sgd": 0.5, "momentum": 0.1, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01}[optimizer]
    _, history = mod.train(X, Y, epochs=20, lr=lr, optimizer=optimizer, batch_size=batch_size)
    assert history[-1] < 0.9 * start


def test_mini_batches_make_more_updates_than_batch(mod):
    X, Y = mod.demo_data()
    calls = []
    original = mod.gradients

    def counting(*args, **kwargs):
        calls.append(args[1].shape[1])
        return original(*args, **kwargs)

    mod.gradients = counting
    try:
        mod.train(X, Y, epochs=1, lr=0.1, batch_size=50)
    finally:
        mod.gradients = original
    assert calls == [50, 50, 28]


def test_unknown_optimizer_and_non_finite_loss(mod):
    X, Y = mod.demo_data()
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        mod.train(X, Y, epochs=1, lr=0.1, optimizer="lbfgs")
    with pytest.raises(FloatingPointError, match="loss became"):
        mod.train(X * np.nan, Y, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="Y must hold labels 0/1"):  # targets outside [0, 1] are refused at once
        mod.train(X, Y * np.nan, epochs=1, lr=0.1)


def test_layer_module_stable_at_z_1000(mod):
    params = mod.init_params(seed=0)
    params["b2"][...] = 1000.0  # output logits near +1000 …
    X, Y = mod.demo_data()
    Y = np.zeros_like(Y)  # … against targets 0: loss ≈ 1000, no overflow
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        J = mod.loss(params, X, Y)
        grads = mod.gradients(params, X, Y)
    assert 900 < J < 1100
    assert all(np.isfinite(g).all() for g in grads.values())
    params["b2"][...] = -1000.0
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert mod.loss(params, X, 1 - Y) > 900


def test_gradients_reuse_out_and_match_fresh(mod):
    params = mod.init_params(seed=0)
    X, Y = mod.demo_data()
    fresh = mod.gradients(params, X, Y)
    out = {k: np.empty_like(v) for k, v in params.items()}
    again = mod.gradients(params, X, Y, out=out)
    assert again is out
    for k in params:
        np.testing.assert_array_equal(fresh[k], out[k])
    assert mod.gradients(params, X.astype(np.float32), Y)["W1"].dtype == np.float64  # the parameters' dtype
