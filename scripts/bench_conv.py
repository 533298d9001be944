#!/usr/bin/env python3
# ruff: noqa: RUF059, B023  (cs231n's code as the course writes it; each lambda runs within its loop step)
"""The conv layer's training step (forward and backward: out, dx, dw, db), as chainrule generates it, against
cs231n's naive loops, hand-written im2col NumPy (cs231n's im2col.py: fancy indexing, np.add.at) and a strided
hand version, the same equations in the JAX module's forms (jit-compiled), and PyTorch eager conv2d with autograd,
at conv_net's size and at 32×3×32×32 with 16 filters.

    python3 scripts/bench_conv.py [--repeat N] [--threads T]

"Generated" is the code chainrule prints for the layer's equations: X_col = im2col(X), Z = unmat(W mat(X_col)
+ b), and the rules' dW = mat(dZ) mat(X_col)ᵀ, db = Σ_columns mat(dZ), dX = col2im(unmat(Wᵀ mat(dZ))), with the
helpers a generated module carries (codegen.render).  Every implementation is checked against the others
first.  Each is timed ``--repeat`` times; the table gives the fastest wall time and the fastest CPU time of
one step (the machine is shared: CPU time is the steadier figure), in float64 on ``--threads`` threads
(BLAS, XLA and PyTorch alike).  JAX and PyTorch are optional (skipped when it is not installed; never a test dependency).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _threads(argv) -> int:
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads its BLAS
    os.environ[_var] = str(_threads(sys.argv[1:]))
if _threads(sys.argv[1:]) == 1:  # before JAX starts XLA
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import numpy as np
import sympy as sp

from codegen.render.jax_matrix import HELPERS as JAX_HELPERS
from codegen.render.jax_matrix import JaxMatrixPrinter
from codegen.render.numpy_helpers import HELPERS, helper_source
from codegen.render.numpy_matrix import MatrixCodePrinter
from derive import VecNetwork, conv2d
from derive.ops import pull_back

SIZES = {
    "conv_net (32×1×12×12, 8 filters 3×3)": (32, 1, 12, 12, 8, 3, 1, 1),
    "32×3×32×32, 16 filters 3×3": (32, 3, 32, 32, 16, 3, 1, 1),
}


# ------------------------------------------------------------------ chainrule's generated step
def generated_step(N, C, H, W, F, k, stride, pad, jax_form=False):
    """The function chainrule's printer writes for the conv layer's equations (X, W, b, dZ) -> (Z, dX, dW, db): the
    NumPy module's, or (jax_form) the JAX module's, uncompiled."""
    net = VecNetwork("layer")
    c, h, w, f = net.dims(c=C, h=H, w=W, f=F)
    X = net.image("X", c, h, w)
    Wf, b = net.filters("W", f, c, k, k), net.param("b", (f, 1))
    net.let("Z", conv2d(X, Wf, b, stride=stride, pad=pad))
    col, Z = net.assignment("X_col").value, net.assignment("Z").value
    dZ = sp.MatrixSymbol("dZ", *Z.shape)
    pulled = {s.name: v for s, v, _ in pull_back(Z, dZ)}
    ((_, dX, _),) = pull_back(col, sp.MatrixSymbol("dX_col", *col.shape))
    printer = (JaxMatrixPrinter if jax_form else MatrixCodePrinter)(sizes=net.dim_sizes)
    lines = [
        f"X_col = {printer.code(col)}",
        f"Z = {printer.code(Z)}",
        f"dW = {printer.code(pulled['W'])}",
        f"db = {printer.code(pulled['b'])}",
        f"dX_col = {printer.code(pulled['X_col'])}",
        f"dX = {printer.code(dX)}",
    ]
    head = "import jax.numpy as jnp\n\n" if jax_form else "import numpy as np\n\n"
    source = (
        head + helper_source(printer.helpers, JAX_HELPERS if jax_form else HELPERS) + "\n\n\ndef step(X, W, b, dZ):\n"
    )
    source += "".join(f"    {line}\n" for line in lines) + "    return Z, dX, dW, db\n"
    space: dict = {}
    exec(compile(source, "<generated conv step>", "exec"), space)  # noqa: S102 (chainrule's own printed code)
    return space["step"], lines


# ------------------------------------------------------------------ cs231n's naive loops (the example sheet verify reads)
def _sheet(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "codegen" / "sheets" / "conv" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAIVE = _sheet("cs231n_naive")


# ------------------------------------------------------------------ cs231n's im2col.py (fancy indexing)
def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    N, C, H, W = x_shape
    out_height = (H + 2 * padding - field_height) // stride + 1
    out_width = (W + 2 * padding - field_width) // stride + 1
    i0 = np.tile(np.repeat(np.arange(field_height), field_width), C)
    i1 = stride * np.repeat(np.arange(out_height), out_width)
    j0 = np.tile(np.arange(field_width), field_height * C)
    j1 = stride * np.tile(np.arange(out_width), out_height)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return k, i, j


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    k, i, j = get_im2col_indices(x.shape, field_height, field_width, padding, stride)
    cols = x_padded[:, k, i, j]
    return cols.transpose(1, 2, 0).reshape(field_height * field_width * x.shape[1], -1)


def col2im_indices(cols, x_shape, field_height, field_width, padding=1, stride=1):
    N, C, H, W = x_shape
    x_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    k, i, j = get_im2col_indices(x_shape, field_height, field_width, padding, stride)
    cols_reshaped = cols.reshape(C * field_height * field_width, -1, N).transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)
    if padding == 0:
        return x_padded
    return x_padded[:, :, padding:-padding, padding:-padding]


def conv_im2col(x, w, b, dout, stride, pad):
    """cs231n's conv_forward_im2col / conv_backward_im2col with im2col.py's NumPy im2col and col2im."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    x_cols = im2col_indices(x, HH, WW, pad, stride)
    res = w.reshape(F, -1).dot(x_cols) + b.reshape(-1, 1)
    out = res.reshape(F, Ho, Wo, N).transpose(3, 0, 1, 2)
    db = np.sum(dout, axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = dout_reshaped.dot(x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T.dot(dout_reshaped)
    dx = col2im_indices(dx_cols, x.shape, HH, WW, pad, stride)
    return out, dx, dw, db


# ------------------------------------------------------------------ a strided hand version (N×C×H×W)
def conv_strided(x, w, b, dout, stride, pad):
    """im2col by sliding_window_view (one copy), col2im by HH·WW slice-adds, in cs231n's layout."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    x_cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, -1)  # (c, k, l) × (n, i, j)
    out = (w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)
    dout_r = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    db = dout_r.sum(axis=1)
    dw = (dout_r @ x_cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ dout_r).reshape(C, HH, WW, N, Ho, Wo)
    dxp = np.zeros_like(xp)
    for k in range(HH):
        for l in range(WW):
            dxp[:, :, k : k + stride * Ho : stride, l : l + stride * Wo : stride] += dcols[:, k, l].transpose(
                1, 0, 2, 3
            )
    return out, dxp[:, :, pad : pad + H, pad : pad + W], dw, db


# ------------------------------------------------------------------ timing
def best(fn, repeat: int) -> tuple[float, float]:
    """(fastest wall, fastest CPU) seconds of one call over ``repeat`` calls (after one warm-up)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return min(walls), min(cpus)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed calls of each (default 20; naive loops: 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1)")
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (quiet is < 0.5); float64, {args.threads} thread(s)")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    rows = []
    for label, (N, C, H, W, F, k, stride, pad) in SIZES.items():
        rng = np.random.default_rng(0)
        x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, k, k)), rng.standard_normal(F)
        Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
        dout = rng.standard_normal((N, F, Ho, Wo))
        step, _ = generated_step(N, C, H, W, F, k, stride, pad)
        X, Wr, br, dZ = (
            x.transpose(1, 2, 3, 0).reshape(-1, N),
            w.reshape(F, -1),
            b.reshape(F, 1),
            dout.transpose(1, 2, 3, 0).reshape(-1, N),
        )
        # the same numbers from every implementation
        Z, dX, dW, db = step(X, Wr, br, dZ)
        reference = conv_im2col(x, w, b, dout, stride, pad)
        got = (Z.reshape(F, Ho, Wo, N).transpose(3, 0, 1, 2), dX.reshape(C, H, W, N).transpose(3, 0, 1, 2))
        got += (dW.reshape(w.shape), db.reshape(F))
        for a, r in zip(got, reference, strict=True):
            np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
        for a, r in zip(conv_strided(x, w, b, dout, stride, pad), reference, strict=True):
            np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
        conv_param = {"stride": stride, "pad": pad}
        if N * F * Ho * Wo <= 2**15:
            out, cache = NAIVE.conv_forward_naive(x, w, b, conv_param)
            for a, r in zip((out, *NAIVE.conv_backward_naive(dout, cache)), reference, strict=True):
                np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
        timings = {
            "chainrule, generated": best(lambda: step(X, Wr, br, dZ), args.repeat),
            "hand im2col NumPy (cs231n im2col.py)": best(lambda: conv_im2col(x, w, b, dout, stride, pad), args.repeat),
            "hand im2col NumPy, strided": best(lambda: conv_strided(x, w, b, dout, stride, pad), args.repeat),
            "cs231n naive loops": best(
                lambda: NAIVE.conv_backward_naive(dout, NAIVE.conv_forward_naive(x, w, b, conv_param)[1]),
                min(args.repeat, 3),
            ),
        }
        if jax is not None:
            jax_step = jax.jit(generated_step(N, C, H, W, F, k, stride, pad, jax_form=True)[0])
            arrays = [jax.device_put(a) for a in (X, Wr, br, dZ)]
            for a, r in zip(jax_step(*arrays), step(X, Wr, br, dZ), strict=True):
                np.testing.assert_allclose(np.asarray(a), r, rtol=1e-10, atol=1e-10)
            timings["chainrule, generated JAX (jit)"] = best(
                lambda: jax.block_until_ready(jax_step(*arrays)), args.repeat
            )
        if torch is not None:
            tx, tw, tb, tdout = (torch.tensor(a, requires_grad=a is not dout) for a in (x, w, b, dout))

            def torch_step(tx=tx, tw=tw, tb=tb, tdout=tdout):
                for t in (tx, tw, tb):
                    t.grad = None
                out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
                out.backward(tdout)
                return out

            torch_step()
            for a, r in zip((tx.grad, tw.grad, tb.grad), reference[1:], strict=True):
                np.testing.assert_allclose(a.numpy(), r, rtol=1e-10, atol=1e-10)
            timings["PyTorch eager conv2d + autograd"] = best(torch_step, args.repeat)
        rows.append((label, timings))
    ours = "chainrule, generated"
    print(f"\n{'size':<38} {'implementation':<38} {'wall ms':>9} {'CPU ms':>9} {'÷ chainrule (CPU)':>18}")
    for label, timings in rows:
        for name, (wall, cpu) in timings.items():
            ratio = cpu / timings[ours][1]
            print(f"{label:<38} {name:<38} {wall * 1e3:>9.3f} {cpu * 1e3:>9.3f} {ratio:>17.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
