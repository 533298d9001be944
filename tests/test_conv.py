"""Convolution and pooling (cs231n assignment 2; deeplearning.ai course 4, week 1): cs231n's gradient check of
the conv layer, pooling at ties and overlaps, the layout of images as columns, and bad declarations.

The conv layer's gradients here are the engine's own: the op table's rules pulled back through the layer's
definition (``pull_back``), evaluated by the reference interpreter, then laid out as cs231n's arrays."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derive import DeclarationError, VecNetwork, avg_pool, conv2d, max_pool, relu
from derive.catalogue import load_spec
from derive.ir.numeric import NumPyEvaluator
from derive.ops import conv_numpy as N

SHEETS = Path(__file__).resolve().parent.parent / "codegen" / "sheets" / "conv"
from derive.ops import pull_back


# ------------------------------------------------------------------ cs231n's layout
def columns(x):
    """cs231n's x (N×C×H×W) as the program's X, one image per column ((C·H·W)×N)."""
    return x.transpose(1, 2, 3, 0).reshape(-1, x.shape[0])


def images(X, C, H, W):
    """The program's X ((C·H·W)×N) as cs231n's x (N×C×H×W)."""
    return X.reshape(C, H, W, -1).transpose(3, 0, 1, 2)


def conv_layer(N_, C, H, W, F, HH, WW, stride, pad):
    """cs231n's conv layer as a program: Z = conv2d(x, w, b) (cs231n's out); the dimensions as declared sizes."""
    net = VecNetwork("conv_layer")
    c, h, width, f = net.dims(C=C, H=H, W=W, F=F)  # upper case: the filters are w, as cs231n names them
    X = net.image("x", c, h, width)
    Wf, b = net.filters("w", f, c, HH, WW), net.param("b", (f, 1))
    net.let("Z", conv2d(X, Wf, b, stride=stride, pad=pad))
    return net


def conv_forward_backward(x, w, b, dout, stride, pad):
    """(out, dx, dw, db) in cs231n's layout, by the program: the forward equations, then the op table's rules
    pulled back from dout through Z's definition and X_col's (what the sweep does for a conv layer)."""
    N_, C, H, W = x.shape
    F, _, HH, WW = w.shape
    net = conv_layer(N_, C, H, W, F, HH, WW, stride, pad)
    dims = {**net.dim_sizes, net.m: N_}
    env = {"x": columns(x), "w": w.reshape(F, -1), "b": b.reshape(F, 1)}
    ev = NumPyEvaluator(env, dims)
    for a in net.assignments:
        env[a.name] = ev(a.value)
    out_def, col_def = net.assignment("Z").value, net.assignment("x_col").value
    G = sp.MatrixSymbol("dout", *out_def.shape)
    Ho, Wo = dout.shape[2:]
    env["dout"] = columns(dout)
    pulled = {s.name: value for s, value, _ in pull_back(out_def, G)}
    ((_, dx_expr, key),) = pull_back(col_def, sp.MatrixSymbol("dcol", *col_def.shape))
    assert key == "im2col"
    env["dcol"] = ev(pulled["x_col"])
    dx = ev(dx_expr)
    out = images(env["Z"], F, Ho, Wo)
    return out, images(dx, C, H, W), ev(pulled["w"]).reshape(w.shape), ev(pulled["b"]).reshape(F)


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """cs231n's gradient_check.eval_numerical_gradient_array: the central difference of sum(f(x) · df)."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(x, y):
    """cs231n's rel_error: max |x − y| / max(1e-8, |x| + |y|)."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def _sheet(name):
    spec = importlib.util.spec_from_file_location(name, SHEETS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAIVE = _sheet("cs231n_naive")  # cs231n's naive layers with their loops: the example sheet verify reads


def naive_conv_forward(x, w, b, stride, pad):
    """cs231n's conv_forward_naive (an independent forward)."""
    return NAIVE.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})[0]


def test_cs231n_conv_gradient_check():
    """cs231n's setup: x (4, 3, 5, 5), w (2, 3, 3, 3), stride 1, pad 1; its numerical gradients (h = 1e-5) and
    its rel_error, which the assignment expects "around e-8 or less"."""
    rng = np.random.default_rng(231)
    x, w, b, dout = rng.standard_normal((4, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2), None
    dout = rng.standard_normal((4, 2, 5, 5))
    out, dx, dw, db = conv_forward_backward(x, w, b, dout, stride=1, pad=1)
    np.testing.assert_allclose(out, naive_conv_forward(x, w, b, 1, 1), rtol=1e-12, atol=1e-12)

    def fwd(x_=x, w_=w, b_=b):
        return conv_forward_backward(x_, w_, b_, dout, 1, 1)[0]

    dx_num = eval_numerical_gradient_array(lambda v: fwd(x_=v), x.copy(), dout)
    dw_num = eval_numerical_gradient_array(lambda v: fwd(w_=v), w.copy(), dout)
    db_num = eval_numerical_gradient_array(lambda v: fwd(b_=v), b.copy(), dout)
    errors = {"dx": rel_error(dx, dx_num), "dw": rel_error(dw, dw_num), "db": rel_error(db, db_num)}
    assert max(errors.values()) <= 1e-8, errors


@pytest.mark.parametrize("stride, pad, size", [(2, 1, 5), (2, 0, 7), (3, 2, 5)])
def test_strided_padded_conv_gradients_match_float64_differences(stride, pad, size):
    """Strides and pads the slips get wrong, against five-point central differences in float64 (≤ 1e-7)."""
    rng = np.random.default_rng(stride * 10 + pad)
    x, w, b = rng.standard_normal((2, 2, size, size)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    Ho = (size + 2 * pad - 3) // stride + 1
    dout = rng.standard_normal((2, 3, Ho, Ho))
    _, dx, dw, db = conv_forward_backward(x, w, b, dout, stride, pad)

    def J(x_=x, w_=w, b_=b):
        return float(np.sum(naive_conv_forward(x_, w_, b_, stride, pad) * dout))

    for name, value, analytic in (("x", x, dx), ("w", w, dw), ("b", b, db)):
        numeric = np.zeros_like(value)
        for ix in np.ndindex(*value.shape):
            old, h, fs = value[ix], 1e-3, []
            for k in (-2, -1, 1, 2):
                value[ix] = old + k * h
                fs.append(J(**{f"{name}_": value}))
            value[ix] = old
            numeric[ix] = (fs[0] - 8 * fs[1] + 8 * fs[2] - fs[3]) / (12 * h)
        error = np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric))
        assert error <= 1e-7, (name, error)


# ------------------------------------------------------------------ pooling
def test_max_pooling_routes_to_the_first_arg_max_at_a_tie():
    """Two entries of a window share the largest value: the whole gradient goes to the first in row-major order
    (np.argmax's and PyTorch's choice); any split of it among the tied entries is also a subgradient."""
    x = np.array([[3.0, 1.0, 0.0, 2.0], [3.0, 2.0, 2.0, 2.0], [5.0, 6.0, -1.0, -1.0], [6.0, 0.0, -1.0, -1.0]])
    Q = x.reshape(16, 1)
    assert N.max_pool(Q, 1, 4, 4, 2, 2).ravel().tolist() == [3.0, 2.0, 6.0, -1.0]
    G = np.array([[10.0], [20.0], [30.0], [40.0]])
    dQ = N.unpool_max(G, Q, 1, 4, 4, 2, 2).reshape(4, 4)
    expected = np.zeros((4, 4))
    expected[0, 0] = 10.0  # 3 at (0, 0) and (1, 0): the first
    expected[0, 3] = 20.0  # 2 four times: (0, 3) comes first in row-major order
    expected[2, 1] = 30.0  # 6 at (2, 1) and (3, 0): (2, 1) is first
    expected[2, 2] = 40.0  # four −1s
    np.testing.assert_array_equal(dQ, expected)


def test_overlapping_windows_add_their_gradients():
    """3×3 windows at stride 1 over a 4×4 image: the centre maximum is every window's arg-max, so it gets the sum
    of the four entries of G; average pooling spreads each entry over its nine pixels, so the middle pixels,
    under all four windows, get the sum of G over 9."""
    x = np.zeros((4, 4))
    x[1, 1] = 9.0
    Q = x.reshape(16, 1)
    G = np.array([[1.0], [2.0], [3.0], [4.0]])
    dQ = N.unpool_max(G, Q, 1, 4, 4, 3, 1).reshape(4, 4)
    assert dQ[1, 1] == 10.0 and np.count_nonzero(dQ) == 1
    dA = N.unpool_avg(G, 1, 4, 4, 3, 1).reshape(4, 4)
    assert dA[1, 1] == pytest.approx(10 / 9) and dA[0, 0] == pytest.approx(1 / 9) and dA[3, 3] == pytest.approx(4 / 9)
    assert dA.sum() == pytest.approx(G.sum())  # each entry of G is spread, none lost


def test_pooling_matches_cs231n_naive_loops():
    """max_pool_backward_naive's mask (window == max) at random values (no ties), and the mean's 1/size²."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 6, 6))
    dout = rng.standard_normal((3, 2, 3, 3))
    Q, G = columns(x), columns(dout)
    dx_max = images(N.unpool_max(G, Q, 2, 6, 6, 2, 2), 2, 6, 6)
    dx_avg = images(N.unpool_avg(G, 2, 6, 6, 2, 2), 2, 6, 6)
    want_max, want_avg = np.zeros_like(x), np.zeros_like(x)
    for n, c, i, j in np.ndindex(3, 2, 3, 3):
        window = x[n, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        want_max[n, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2] += (window == window.max()) * dout[n, c, i, j]
        want_avg[n, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2] += dout[n, c, i, j] / 4
    np.testing.assert_allclose(dx_max, want_max)
    np.testing.assert_allclose(dx_avg, want_avg)
    np.testing.assert_allclose(
        images(N.max_pool(Q, 2, 6, 6, 2, 2), 2, 3, 3), x.reshape(3, 2, 3, 2, 3, 2).max(axis=(3, 5))
    )


def test_im2col_is_cs231n_x_cols_with_the_examples_last():
    """Row (c, k, l) of the patch matrix at column (i, j, n) is x̃[n, c, s·i + k, s·j + l]; col2im is its
    transpose: ⟨im2col(X), G⟩ = ⟨X, col2im(G)⟩."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5))
    cols = N.im2col(columns(x), 3, 5, 5, 3, 3, 2, 1).reshape(3, 3, 3, 3, 3, 2)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for c, k, l, i, j, n in [(0, 0, 0, 0, 0, 0), (2, 1, 2, 2, 1, 1), (1, 2, 0, 1, 2, 0)]:
        assert cols[c, k, l, i, j, n] == xp[n, c, 2 * i + k, 2 * j + l]
    G = rng.standard_normal((3 * 9 * 9, 2))
    X = columns(x)
    assert np.sum(N.im2col(X, 3, 5, 5, 3, 3, 2, 1) * G) == pytest.approx(np.sum(X * N.col2im(G, 3, 5, 5, 3, 3, 2, 1)))


# ------------------------------------------------------------------ declarations
def _images():
    net = VecNetwork("bad")
    c, h, w, f = net.dims(c=2, h=5, w=5, f=3)
    return net, net.image("X", c, h, w), net.filters("K", f, c, 3, 3), net.param("b", (f, 1)), (c, h, w, f)


@pytest.mark.parametrize(
    "declare, message",
    [
        (lambda net, X, K, b, d: net.let("Q", conv2d(net.input("V", d[0]), K, b)), "takes images: V is not one"),
        (
            lambda net, X, K, b, d: net.let("Q", conv2d(X, net.param("U", (d[3], 9 * d[0])), b)),
            "must be declared with net.filters",
        ),
        (
            lambda net, X, K, b, d: net.let("Q", conv2d(X, net.filters("U", d[3], 1, 3, 3), b)),
            "has filters of 1 channels but X has images of c",
        ),
        (lambda net, X, K, b, d: net.let("Q", conv2d(X, K, b, stride=3)), "does not tile the height of 5"),
        (lambda net, X, K, b, d: net.let("Q", conv2d(X, K, b, stride=0)), "the stride must be a whole number ≥ 1"),
        (lambda net, X, K, b, d: net.let("Q", conv2d(X, K, b, pad=-1)), "the pad must be a whole number ≥ 0"),
        (
            lambda net, X, K, b, d: net.let("Q", conv2d(X, K, net.param("c0", (d[0], 1)))),
            "the bias must be an F×1 parameter",
        ),
        (lambda net, X, K, b, d: net.let("Q", max_pool(X, 2)), "does not tile the height of 5"),
        (lambda net, X, K, b, d: net.let("Q", avg_pool(net.input("V", d[0]), 2)), "takes images: V is not one"),
        (
            lambda net, X, K, b, d: net.filters("U", d[3], d[0], 0, 3),
            "the filter size of 'U' must be a whole number ≥ 1",
        ),
    ],
)
def test_a_bad_image_declaration_is_one_line_naming_its_place(declare, message):
    net, X, K, b, d = _images()
    with pytest.raises(DeclarationError) as err:
        declare(net, X, K, b, d)
    text = str(err.value)
    assert message in text and "\n" not in text and "test_conv.py:" in text, text


def test_images_follow_their_definitions():
    """The image geometry of each quantity: a conv gives F channels at the output positions, ReLU keeps it, a
    pooling shrinks it; so conv2d and max_pool of computed images need no sizes."""
    net, X, K, b, (c, h, w, f) = _images()
    Z = net.let("Z", conv2d(X, K, b, stride=2, pad=1))
    A = net.let("A", relu(Z))
    net.let("P", max_pool(A, 3, stride=1))
    assert net.images == {"X": (c, h, w), "Z": (f, h / 2 + sp.Rational(1, 2), w / 2 + sp.Rational(1, 2)),
                          "A": net.images["Z"], "P": (f, h / 2 - sp.Rational(3, 2), w / 2 - sp.Rational(3, 2))}  # fmt: skip
    assert [net.size(s) for s in net.images["P"]] == [3, 1, 1]


def test_a_users_two_conv_network_generates_a_module_whose_tests_pass(tmp_path):
    """docs/examples/conv_two_layers.py: a strided, padded conv, average pooling, a conv of that computed image
    (so dP1 = col2im(dP1_col) is derived and generated) and overlapping max pooling; its generated tests (finite
    differences in float64, training, stability, …) pass in a fresh interpreter."""
    import subprocess
    import sys

    from codegen.cli.app import main

    example = Path(__file__).resolve().parent.parent / "docs" / "examples" / "conv_two_layers.py"
    d = load_spec(str(example)).derive()
    assert d.equation("dP1").text == "dP1 = col2im(dP1_col)"
    assert d.equation("dA1").text == "dA1 = unpool_avg(dP1)"
    assert main(["generate", str(example), "-o", str(tmp_path / "two.py")]) == 0
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_two.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:]


def test_conv_net_gradients_match_float64_differences():
    """The catalogue's conv_net, derived, against five-point central differences in float64 (≤ 1e-7 relative),
    at a batch 1e-3 from every ReLU kink and every tie of its max pooling (the step shrinks below both)."""
    from derive.gradcheck import check, random_instance, rel_errors

    d = load_spec("conv_net").derive()
    point = random_instance(d, 2, 0, margin=1e-3)
    errors = rel_errors(check(d, point, m=2, max_entries=16))
    assert max(errors.values()) <= 1e-7, errors
