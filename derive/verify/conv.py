"""Checking what courses print for a convolution or a pooling layer: code (cs231n's naive loops and im2col
form, deeplearning.ai's per-example loops, 11-785's layer classes) and one-line claims (the index form, the full
convolution, the im2col form), against the
op table's own NumPy forms (``derive.ops.conv_numpy``), naming the classic slips with a counterexample.

A claim or a function is run at a few small layers in cs231n's layout (x N×C×H×W, w F×C×HH×WW, dout of the
output's shape), strides 1 and 2 and pads 0 and 1, so a stride or a padding handled wrongly cannot hide;
it holds when it gives the true arrays, shapes included.  When it does not, each slip of ``SLIPS`` (computed
by the same reference with the slip made on purpose) is tried: the first that gives the claimed arrays at
every layer is named.  The names a claim may use are cs231n's: x, xp (x̃, x padded), w, b, dout, out, dx,
dxp (dx̃), dw, db, stride or s, pad or p, N, C, H, W, F, HH, WW, H_out, W_out; for the im2col form x_cols
(X_col), w_row (W_row, w.reshape(F, −1)), dout_row (dout laid out F × (H_out·W_out·N), cs231n's
dout_reshaped), dx_cols (dX_col), dw_row (dW_row), and im2col(·), col2im(·); for a pooling layer x, dout,
out, dx, size, stride.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..ops import conv_numpy as N_
from .claims import ClaimError
from .conv_code import Instance, Interpreter
from .verdict import Counterexample, Verdict

TOLERANCE = 1e-9

# (N, C, H, W, F, HH, WW, stride, pad): each conv claim runs at all of them
CONV_LAYERS = (
    (2, 2, 5, 5, 3, 3, 3, 1, 1),
    (2, 2, 5, 5, 2, 3, 3, 2, 1),
    (2, 1, 6, 6, 2, 2, 2, 2, 0),
    (3, 3, 4, 4, 2, 3, 3, 1, 0),
)
# (N, C, H, W, size, stride): each pooling claim; the last has overlapping windows
POOL_LAYERS = ((2, 2, 4, 4, 2, 2), (2, 3, 6, 6, 2, 2), (2, 1, 5, 5, 3, 2))

CONV_TRUTH = {
    "out": "out[n, f, i, j] = Σ_{c,k,l} w[f, c, k, l] x̃[n, c, s·i + k, s·j + l] + b[f]",
    "dx": "dx̃[n, c, s·i + k, s·j + l] += dout[n, f, i, j] w[f, c, k, l] over n, f, i, j, k, l; dx = dx̃ cropped by the pad",
    "dxp": "dx̃[n, c, s·i + k, s·j + l] += dout[n, f, i, j] w[f, c, k, l] over n, f, i, j, k, l",
    "dw": "dw[f, c, k, l] = Σ_{n,i,j} dout[n, f, i, j] x̃[n, c, s·i + k, s·j + l]",
    "db": "db[f] = Σ_{n,i,j} dout[n, f, i, j]",
    "dw_row": "dW_row = dout_row X_colᵀ",
    "dx_cols": "dX_col = W_rowᵀ dout_row",
    "x_cols": "X_col = im2col(x)",
}
POOL_TRUTH = {
    "out": "out[n, c, i, j] = max over the window of x[n, c, s·i + k, s·j + l]",
    "dx": "dx[n, c, s·i + k, s·j + l] += dout[n, c, i, j] at the arg-max of each window (the first at a tie), 0 elsewhere",
}
AVG_POOL_TRUTH = {
    "out": "out[n, c, i, j] = mean over the window of x[n, c, s·i + k, s·j + l]",
    "dx": "dx[n, c, s·i + k, s·j + l] += dout[n, c, i, j] / size² over every position of each window",
}
TRUTHS = {"conv": CONV_TRUTH, "pool": POOL_TRUTH, "avgpool": AVG_POOL_TRUTH}


# ------------------------------------------------------------------ cs231n's layout
def columns(x):
    return x.transpose(1, 2, 3, 0).reshape(-1, x.shape[0])


def images(X, C, H, W):
    return X.reshape(C, H, W, -1).transpose(3, 0, 1, 2)


def layer_point(kind: str, sizes) -> dict:
    """The layer a counterexample is at, as the shapes of its arrays: x, w, stride, pad (or the windows)."""
    if kind == "conv":
        N, C, H, W, F, HH, WW, s, p = sizes
        return {"x": f"{N}×{C}×{H}×{W}", "w": f"{F}×{C}×{HH}×{WW}", "stride": s, "pad": p}
    N, C, H, W, size, s = sizes
    return {"x": f"{N}×{C}×{H}×{W}", "window": f"{size}×{size}", "stride": s}


def conv_layer(sizes, seed: int, *, flip=False, stride_in_dx=True, crop=True, batch="all") -> dict:
    """Every quantity of cs231n's conv layer at random values (seeded), with a slip made on purpose when asked:
    ``flip`` convolves (the kernel flipped), ``stride_in_dx=False`` scatters dx at stride 1, ``crop=False``
    leaves dx padded (``crop="corner"``: cropped at x̃'s corner, not at the pad), ``batch="first"`` (or
    ``"last"``) keeps that example's term of dw and db only."""
    N, C, H, W, F, HH, WW, s, p = sizes
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    Ho, Wo = (H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1
    dout = rng.standard_normal((N, F, Ho, Wo))
    wk = w[:, :, ::-1, ::-1] if flip else w
    X_col = N_.im2col(columns(x), C, H, W, HH, WW, s, p)
    cols = X_col.reshape(C * HH * WW, -1)
    w_row, dout_row = wk.reshape(F, -1), columns(dout).reshape(F, -1)
    out = images((w_row @ cols + b[:, None]).reshape(-1, N), F, Ho, Wo)
    one = {"all": slice(None), "first": slice(0, 1), "last": slice(N - 1, N)}[batch]
    used = columns(dout[one]).reshape(F, -1)
    dw = used @ N_.im2col(columns(x[one]), C, H, W, HH, WW, s, p).reshape(C * HH * WW, -1).T
    dw = dw.reshape(w.shape)[:, :, ::-1, ::-1] if flip else dw.reshape(w.shape)
    db = used.sum(axis=1)
    dx_cols = w_row.T @ dout_row
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    d = dx_cols.reshape(C, HH, WW, Ho, Wo, N).transpose(5, 0, 1, 2, 3, 4)
    step = s if stride_in_dx else 1
    for k in range(HH):
        for l in range(WW):
            dxp[:, :, k : k + step * Ho : step, l : l + step * Wo : step] += d[:, :, k, l]
    dx = dxp[:, :, p : p + H, p : p + W] if crop is True else dxp[:, :, :H, :W] if crop == "corner" else dxp
    return {
        "x": x, "w": w, "b": b, "dout": dout, "xp": xp, "out": out, "dx": dx, "dxp": dxp, "dw": dw, "db": db,
        "stride": s, "pad": p, "s": s, "p": p, "N": N, "C": C, "H": H, "W": W, "F": F, "HH": HH, "WW": WW,
        "H_out": Ho, "W_out": Wo, "x_cols": cols, "w_row": w_row, "dout_row": dout_row, "dx_cols": dx_cols,
        "dw_row": dw.reshape(F, -1),
        "im2col": lambda a: N_.im2col(columns(a), C, H, W, HH, WW, s, p).reshape(C * HH * WW, -1),
        "col2im": lambda a: images(N_.col2im(np.reshape(a, (-1, N)), C, H, W, HH, WW, s, p), C, H, W),
        "conv_param": {"stride": s, "pad": p},
    }  # fmt: skip


def pool_layer(sizes, seed: int, *, mode="max", rule=None) -> dict:
    """cs231n's max pooling layer (``mode="average"``: deeplearning.ai's average pooling) at random values
    (seeded); ``rule`` routes dx by another rule than the mode's, the slips: ``"every"`` sends dout whole to
    every entry of its window, ``"even"`` splits it evenly (average pooling's rule), ``"max"`` routes it to the
    arg-max (max pooling's)."""
    N, C, H, W, size, s = sizes
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    Ho, Wo = (H - size) // s + 1, (W - size) // s + 1
    dout = rng.standard_normal((N, C, Ho, Wo))
    X, G = columns(x), columns(dout)
    rule = rule or ("max" if mode == "max" else "even")
    if rule in ("every", "even"):
        dx = images(N_.unpool_avg(G, C, H, W, size, s), C, H, W) * (1 if rule == "even" else size * size)
    else:
        dx = images(N_.unpool_max(G, X, C, H, W, size, s), C, H, W)
    pool = N_.max_pool if mode == "max" else N_.avg_pool
    return {
        "x": x, "dout": dout, "out": images(pool(X, C, H, W, size, s), C, Ho, Wo), "dx": dx,
        "stride": s, "s": s, "size": size, "pool_height": size, "pool_width": size, "HH": size, "WW": size, "N": N, "C": C, "H": H,
        "W": W, "H_out": Ho, "W_out": Wo, "pool_param": {"pool_height": size, "pool_width": size, "stride": s},
    }  # fmt: skip


@dataclass(frozen=True)
class Slip:
    name: str
    kind: str  # conv | pool | avgpool
    makes: dict  # the keyword of conv_layer / pool_layer that makes it
    names: tuple = ()  # (quantity, name) where the slip reads differently for that quantity

    def name_for(self, quantity: str) -> str:
        return dict(self.names).get(quantity, self.name)


# dx̃ written as the full convolution of dout with the filter rotated by 180°: the flip is the other way round
_FLIP_IN_DX = (
    "the kernel flipped the wrong way in dx: dx̃ is the full convolution of dout with the filter rotated 180°, "
    "dout padded by HH − 1 (and dilated by the stride) correlated with w[f, c, HH−1−k, WW−1−l], which is dout "
    "scattered back through w[f, c, k, l] unflipped"
)


SLIPS = (
    Slip("the kernel flipped: a convolution w[f, c, HH−1−k, WW−1−l], where cs231n's layer correlates", "conv", {"flip": True},
         (("dx", _FLIP_IN_DX), ("dxp", _FLIP_IN_DX))),
    Slip("the stride ignored in dx: patches scattered back at (i + k, j + l), not (s·i + k, s·j + l) (as a full "
         "convolution: dout not dilated, s − 1 zeros between its entries)", "conv", {"stride_in_dx": False}),
    Slip("the padding not cropped: dx has x̃'s shape (H + 2·pad) × (W + 2·pad); crop dx̃[:, :, pad:pad+H, pad:pad+W]", "conv", {"crop": False}),
    Slip("the padding cropped at the wrong place: dx̃[:, :, 0:H, 0:W] kept, not dx̃[:, :, pad:pad+H, pad:pad+W] (pixel "
         "(h, w) of x is (h + pad, w + pad) of x̃)", "conv", {"crop": "corner"}),
    Slip("dw and db without the sum over the batch: one example's term only (Σ over n missing)", "conv", {"batch": "first"}),
    Slip("dw and db without the sum over the batch: the last example's term only (Σ over n missing; reset per example?)", "conv", {"batch": "last"}),
    Slip("the pooling gradient sent to every position of the window: only the arg-max receives it", "pool", {"rule": "every"}),
    Slip("max pooling's gradient split evenly over the window (average pooling's rule): only the arg-max receives it", "pool", {"rule": "even"}),
    Slip("the pooling gradient sent to every position of the window, whole: average pooling gives each of the size² "
         "entries dout / size²", "avgpool", {"rule": "every"}),
    Slip("average pooling's gradient routed to the arg-max (max pooling's rule): every entry of the window gets "
         "dout / size²", "avgpool", {"rule": "max"}),
)  # fmt: skip


# ------------------------------------------------------------------ comparing
def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE))


def _differs(name: str, claimed, true, point: dict) -> Counterexample:
    claimed, true = np.asarray(claimed, dtype=float), np.asarray(true, dtype=float)
    if claimed.shape != true.shape:
        return Counterexample(point, f"shape {claimed.shape}", f"shape {true.shape}", f"{name} has the wrong shape")
    at = np.unravel_index(int(np.argmax(np.abs(claimed - true))), true.shape)
    label = f"{name}[{', '.join(map(str, at))}]"
    return Counterexample(point, float(claimed[at]), float(true[at]), label)


def check(quantity: str, kind: str, run, claim: str, what: str, layers=None) -> Verdict:
    """``run(layer) -> value`` checked at every layer of ``kind`` (or of ``layers``) against the truth of
    ``quantity``."""
    layers = layers or (CONV_LAYERS if kind == "conv" else POOL_LAYERS)
    make = conv_layer if kind == "conv" else _pool_maker(kind)
    truth = TRUTHS[kind].get(quantity, quantity)
    got, first, empty = [], None, False
    for i, sizes in enumerate(layers):
        layer = make(sizes, seed=i)
        try:
            value = run(layer)
        except ClaimError as exc:  # the claim cannot be evaluated here (shapes that do not fit, an index outside)
            value = None
            empty = empty or (kind == "conv" and sizes[-1] == 0 and "shape (0" in exc.message)
            if first is None:
                first = Counterexample(layer_point(kind, sizes), "an error", "an array", exc.message)
        got.append(value)
        if first is None and not _same(value, layer[quantity]):
            first = _differs(quantity, value, layer[quantity], layer_point(kind, sizes))
    count = _described(kind, layers)
    if first is None:
        return Verdict(what, claim, True, NOT_SYMBOLIC, f"agrees at {count}", truth)
    hint = None
    if empty or (kind == "conv" and quantity == "dx" and any(v is not None and 0 in np.shape(v) for v in got)):
        hint = "the crop keeps nothing when pad = 0: x[pad:-pad] is empty then (crop pad:pad + H, not pad:-pad)"
    if hint is None:
        hint = _slip_named(kind, quantity, layers, make, got)
    return Verdict(what, claim, False, NOT_SYMBOLIC, "differs", truth, first, hint)


def _described(kind: str, layers) -> str:
    """``4 layers (strides 1 and 2, pads 0 and 1)``, ``3 pooling layers (windows 2×2 and 3×3, stride 2)``."""

    def some(values) -> str:
        values = sorted(set(values))
        return " and ".join(map(str, values)) if len(values) < 3 else ", ".join(map(str, values))

    def plural(word: str, values) -> str:
        return f"{word}{'s' if len(set(values)) > 1 else ''} {some(values)}"

    if kind == "conv":
        return f"{len(layers)} layers ({plural('stride', [L[7] for L in layers])}, {plural('pad', [L[8] for L in layers])})"
    windows = [f"{L[4]}×{L[4]}" for L in layers]
    return f"{len(layers)} pooling layers ({plural('window', windows)}, {plural('stride', [L[5] for L in layers])})"


def _slip_named(kind: str, quantity: str, layers, make, got) -> str | None:
    """The slip (or, failing one, the two slips made together) that gives the claimed arrays at every layer."""

    def explains(makes: dict) -> bool:
        return all(
            v is not None and _same(v, make(sizes, seed=i, **makes)[quantity])
            for i, (sizes, v) in enumerate(zip(layers, got, strict=True))
        )

    slips = [s for s in SLIPS if s.kind == kind]
    for slip in slips:
        if explains(slip.makes):
            return slip.name_for(quantity)
    for a, b in itertools.combinations(slips, 2):  # dx̃ as a full convolution at stride 1, unrotated: two at once
        if not set(a.makes) & set(b.makes) and explains({**a.makes, **b.makes}):
            return f"two slips at once: {a.name_for(quantity)}; and {b.name_for(quantity)}"
    return None


NOT_SYMBOLIC = "not attempted (convolution and pooling are checked numerically)"


def _pool_maker(kind: str):
    mode = "average" if kind == "avgpool" else "max"
    return lambda sizes, seed, **slip: pool_layer(sizes, seed, mode=mode, **slip)


# ------------------------------------------------------------------ code
# cs231n's layer API and deeplearning.ai's: (name pattern, kind, quantities returned after the forward's cache)
FUNCTIONS = (
    (re.compile(r"conv.*forward"), "conv", "forward"),
    (re.compile(r"conv.*backward"), "conv", "backward"),
    (re.compile(r"pool.*forward"), "pool", "forward"),
    (re.compile(r"pool.*backward"), "pool", "backward"),
)


COMPOSITE = re.compile(r"relu|_bn_|_bn$|norm|affine|sigmoid|tanh|dropout")


def verify_code(source: str, where: str = "the code") -> list[Verdict]:
    """Every function of cs231n's layer API in ``source`` (conv_forward_naive, conv_backward_naive,
    max_pool_forward_naive, max_pool_backward_naive, or the same names with _im2col, _fast …) or of
    deeplearning.ai's, and every layer class of 11-785's (``_check_class``), run at the layers of ``check``;
    one Verdict per quantity each returns."""
    code = Interpreter(source, where)
    verdicts = []
    for name in code.functions:
        if COMPOSITE.search(name.lower()):
            continue  # layer_utils' conv_relu_pool_forward: a sandwich of layers, not one
        for pattern, kind, direction in FUNCTIONS:
            if not pattern.search(name.lower()) or (kind == "conv" and "pool" in name.lower()):
                continue
            if kind == "pool" and re.search(r"avg|average|mean", name.lower()):
                kind = "avgpool"  # avg_pool_backward_naive and the like: the gradient spread evenly
            verdicts.extend(_check_function(code, name, kind, direction))
            break
    for name in code.classes:
        verdicts.extend(_check_class(code, name))
    if not verdicts:
        raise ClaimError(
            f"{where}: no function of the layer API (conv_forward_naive, conv_backward_naive, max_pool_forward_naive,"
            " max_pool_backward_naive) and no layer class (Conv2d, MaxPool2d, MeanPool2d with forward and backward)"
        )
    return verdicts


def _check_function(code: Interpreter, name: str, kind: str, direction: str) -> list[Verdict]:
    params = [a.arg for a in code.functions[name].args.args]
    if params and (params[0] in ("A_prev", "dZ", "dA") or "hparameters" in params):
        return _check_ng(code, name, kind, direction)
    if direction == "forward":
        if kind == "conv":
            run = lambda layer: _first(code.call(name, layer["x"], layer["w"], layer["b"], layer["conv_param"]))
        else:
            run = lambda layer: _first(code.call(name, layer["x"], layer["pool_param"]))
        return [check("out", kind, run, f"{name}(…)[0]", f"out of {name}")]
    quantities = ("dx", "dw", "db") if kind == "conv" else ("dx",)
    cached = {}

    def outputs(layer):
        key = layer["x"].tobytes()
        if key not in cached:
            cache = (
                (layer["x"], layer["w"], layer["b"], layer["conv_param"])
                if kind == "conv"
                else (layer["x"], layer["pool_param"])
            )
            result = code.call(name, layer["dout"], cache)
            cached[key] = result if isinstance(result, tuple) else (result,)
        return cached[key]

    verdicts = []
    for k, q in enumerate(quantities):

        def run(layer, k=k):
            result = outputs(layer)
            if len(result) <= k:
                raise ClaimError(f"{name} returns {len(result)} values; cs231n's returns {', '.join(quantities)}")
            return result[k]

        verdicts.append(check(q, kind, run, f"{name}(…)[{k}]", f"{q} of {name}"))
    return verdicts


# 11-785's layer classes (HW2P1's MyTorch): the constructor's parameters and what each is in a checked layer
CLASS_PARAMETERS = {
    "conv": {"in_channels": "C", "out_channels": "F", "kernel_size": "HH", "stride": "stride", "padding": "pad",
             "pad": "pad"},
    "pool": {"kernel": "size", "kernel_size": "size", "pool_size": "size", "stride": "stride"},
}  # fmt: skip
GRADIENT_FIELDS = {"dw": ("dLdW", "dW", "dw"), "db": ("dLdb", "db")}


def _check_class(code: Interpreter, name: str) -> list[Verdict]:
    """A layer class as 11-785's HW2P1 writes them (``Conv2d_stride1(in_channels, out_channels, kernel_size)``,
    ``Conv2d(…, stride, padding)``, ``MaxPool2d(kernel, stride)``, ``MeanPool2d``): built at each layer, its
    weights set in ``W`` and ``b`` (its own, or those of the layer object it holds), ``forward(A)`` the output,
    ``backward(dLdZ)`` dx, and the fields ``dLdW`` and ``dLdb`` dw and db.  A class without a stride (or a
    padding) is checked at stride 1 (pad 0)."""
    lower = name.lower()
    kind = ("avgpool" if re.search(r"mean|avg|average", lower) else "pool") if "pool" in lower else "conv"
    methods = code.methods(code.classes[name])
    if "1d" in lower or not ("conv" in lower or "pool" in lower) or not {"forward", "backward"} <= set(methods):
        return []
    init = methods.get("__init__")
    names = [a.arg for a in init.args.args[1:]] if init is not None else []
    required = names[: len(names) - len(init.args.defaults)] if init is not None else []
    table = CLASS_PARAMETERS["conv" if kind == "conv" else "pool"]
    unknown = [p for p in required if p not in table]
    if unknown:
        raise ClaimError(f"{code.where}: class '{name}' needs '{unknown[0]}', which no layer of the check has")
    layers = _class_layers(kind, "stride" in names, any(p in names for p in ("padding", "pad")))

    def build(layer):
        return code.make(name, **{p: layer[table[p]] for p in names if p in table})

    cached = {}

    def outputs(layer):
        key = layer["x"].tobytes()
        if key not in cached:
            obj = build(layer)
            if kind == "conv":
                holder = _holding(obj, "W")
                holder.fields["W"], holder.fields["b"] = layer["w"].copy(), layer["b"].copy()
            out = code.method(obj, "forward", layer["x"].copy())
            dx = code.method(obj, "backward", layer["dout"].copy())
            result = {"out": out, "dx": dx}
            for q, fields in GRADIENT_FIELDS.items() if kind == "conv" else ():
                field = next((f for f in fields if _holding(obj, f) is not None), None)
                if field is None:
                    raise ClaimError(f"{name}.backward sets none of self.{', self.'.join(fields)}")
                result[q] = _holding(obj, field).fields[field]
            cached[key] = result
        return cached[key]

    quantities = (("out", "forward"), ("dx", "backward"))
    quantities += (("dw", "backward: self.dLdW"), ("db", "backward: self.dLdb")) if kind == "conv" else ()
    return [
        check(q, kind, lambda layer, q=q: outputs(layer)[q], f"{name}.{where}", f"{q} of {name}", layers)
        for q, where in quantities
    ]


def _holding(obj, field: str):
    """``obj`` if it has ``field``, else the one object among its fields that has it (Conv2d's conv2d_stride1)."""
    if field in obj.fields:
        return obj
    held = [v for v in obj.fields.values() if isinstance(v, Instance) and field in v.fields]
    if not held and field == "W":
        raise ClaimError(f"'{obj.cls.name}' keeps no weights W (nor does a layer it holds)")
    return held[0] if held else None


def _class_layers(kind: str, stride: bool, pad: bool):
    """The layers a class is checked at: stride 1 where it takes no stride, pad 0 where it takes no padding."""
    layers = []
    for sizes in CONV_LAYERS if kind == "conv" else POOL_LAYERS:
        if kind == "conv":
            sizes = (*sizes[:7], sizes[7] if stride else 1, sizes[8] if pad else 0)
        else:
            sizes = (*sizes[:5], sizes[5] if stride else 1)
        if sizes not in layers:
            layers.append(sizes)
    return tuple(layers)


def _first(result):
    return result[0] if isinstance(result, tuple) else result


# deeplearning.ai's layout (course 4, week 1): channels last, A_prev m×n_H×n_W×n_C, W f×f×n_C_prev×n_C, b 1×1×1×n_C
def _to_ng(a, kind: str):
    a = np.asarray(a)
    if kind == "bias":
        return a.reshape(1, 1, 1, -1)
    return a.transpose(0, 2, 3, 1) if kind == "image" else a.transpose(2, 3, 1, 0)


def _from_ng(a, kind: str):
    """An array of deeplearning.ai's layout in cs231n's; one of the wrong rank is left as it is (shown as such)."""
    a = np.asarray(a, dtype=float)
    if kind == "bias":
        return a.reshape(-1) if a.ndim == 4 else a
    if a.ndim != 4:
        return a
    return a.transpose(0, 3, 1, 2) if kind == "image" else a.transpose(3, 2, 0, 1)


def _check_ng(code: Interpreter, name: str, kind: str, direction: str) -> list[Verdict]:
    """deeplearning.ai's conv_forward(A_prev, W, b, hparameters), conv_backward(dZ, cache),
    pool_forward(A_prev, hparameters, mode), pool_backward(dA, cache, mode): run in its layout, compared in cs231n's."""

    def hyper(layer):
        if kind == "conv":
            return {"stride": layer["stride"], "pad": layer["pad"]}
        return {"f": layer["size"], "stride": layer["stride"]}

    def inputs(layer):
        A = _to_ng(layer["x"], "image")
        if kind == "conv":
            return (A, _to_ng(layer["w"], "filters"), _to_ng(layer["b"], "bias"), hyper(layer))
        return (A, hyper(layer))

    if kind != "conv" and "mode" in [a.arg for a in code.functions[name].args.args]:
        # pool_forward(A_prev, hparameters, mode="max") and pool_backward: each mode checked as its own layer
        return [
            *_check_ng_mode(code, name, "pool", direction, inputs, {"mode": "max"}, ""),
            *_check_ng_mode(code, name, "avgpool", direction, inputs, {"mode": "average"}, ", mode='average'"),
        ]
    return _check_ng_mode(code, name, kind, direction, inputs, {}, "")


def _check_ng_mode(code: Interpreter, name: str, kind: str, direction: str, inputs, mode: dict, label: str):
    if direction == "forward":
        run = lambda layer: _from_ng(_first(code.call(name, *inputs(layer), **mode)), "image")
        return [check("out", kind, run, f"{name}(…{label})[0]", f"out of {name}{label}")]
    quantities = (("dx", "image"), ("dw", "filters"), ("db", "bias")) if kind == "conv" else (("dx", "image"),)
    verdicts = []
    for k, (q, layout) in enumerate(quantities):

        def run(layer, k=k, layout=layout):
            result = code.call(name, _to_ng(layer["dout"], "image"), inputs(layer), **mode)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) <= k:
                raise ClaimError(f"{name} returns {len(result)} values; deeplearning.ai's returns {len(quantities)}")
            return _from_ng(result[k], layout)

        verdicts.append(check(q, kind, run, f"{name}(…{label})[{k}]", f"{q} of {name}{label}"))
    return verdicts


# ------------------------------------------------------------------ one-line claims
INDEX_LETTERS = set("nfcklij")  # the index letters courses use (n example, f filter, c channel, …)
CONVENTION = {"n": "N", "f": "F", "c": "C", "k": "HH", "l": "WW", "i": "H_out", "j": "W_out"}  # their ranges
ALIASES = {  # the names a claim may use for the layer's quantities, as the courses write them
    "x_pad": "xp", "x_padded": "xp", "dx_pad": "dxp", "dx_padded": "dxp", "X_col": "x_cols", "x_col": "x_cols",
    "W_row": "w_row", "dout_reshaped": "dout_row", "dX_col": "dx_cols", "dx_col": "dx_cols", "dW_row": "dw_row",
    "stride": "stride", "pad": "pad",
}  # fmt: skip
_LATEX = (
    (r"\\sum\\limits_", "Σ_"), (r"\\sum_", "Σ_"), (r"\\tilde\{\\mathrm\{d\}x\}", "dxp"), (r"\\mathrm\{d\}\\tilde\{x\}", "dxp"),
    (r"\\tilde\{x\}", "xp"), (r"\\mathrm\{d\}\s*", "d"), (r"\\operatorname\{(\w+)\}", r"\1"), (r"\\mathrm\{(\w+)\}", r"\1"),
    (r"\\cdot|\\times", "*"), (r"\\[,;!: ]", " "), (r"\\left|\\right", ""), (r"\{\s*\\top\s*\}|\^\\top|\^T\b|ᵀ", ".T"),
)  # fmt: skip


def normalise(claim: str, latex: bool) -> str:
    """A claim as Python-like text: LaTeX subscripts as brackets, Σ_{…} kept, · and implicit products as *."""
    text = claim.strip().strip("$")
    if latex or "\\" in text:
        for pattern, repl in _LATEX:
            text = re.sub(pattern, repl, text)
        text = re.sub(r"([A-Za-z]\w*)_\{([^{}]*)\}", r"\1[\2]", text)  # dw_{f,c,k,l} → dw[f,c,k,l]
        text = text.replace("{", "(").replace("}", ")")
    text = text.replace("·", "*").replace("dx̃", "dxp").replace("x̃", "xp").replace("−", "-")
    text = re.sub(r"\[([^\[\]]*)\]", lambda m: "[" + _products(m.group(1)) + "]", text)
    text = re.sub(r"(\]|\))\s*(?=[A-Za-z(Σ])", r"\1 * ", text)  # dout[…] xp[…] → dout[…] * xp[…]
    return text


def _products(index: str) -> str:
    """``si+k`` → ``s*i+k``, ``2i`` → ``2*i``: products of single letters inside a subscript."""
    out = re.sub(r"(?<=[0-9])(?=[A-Za-z])", "*", index)
    return re.sub(r"\b([a-z]{2,3})\b", lambda m: "*".join(m.group(1)) if m.group(1) not in ALIASES else m.group(1), out)


def _sums(text: str) -> str:
    """``Σ_{n,i,j} rest`` → ``SUM((n,i,j), (rest))``, the sum running to the end of its bracket."""
    while "Σ" in text:
        at = text.index("Σ")
        m = re.match(r"Σ_?[{(]?([A-Za-z, ]*)[})]?\s*\*?", text[at:])
        letters = [v.strip() for v in m.group(1).split(",") if v.strip()]
        if len(letters) == 1 and len(letters[0]) > 1:
            letters = list(letters[0])  # Σ_{nij}
        start = at + m.end()
        depth, end = 0, len(text)
        for k in range(start, len(text)):  # the sum runs over one term: to a + or − outside brackets, or a ")"
            depth += text[k] in "([{"
            depth -= text[k] in ")]}"
            if depth < 0 or (depth == 0 and text[k] in "+-" and text[start:k].strip()):
                end = k
                break
        text = f"{text[:at]}SUM(({','.join(letters)},), ({text[start:end]})){text[end:]}"
    return text


def split_claim(text: str) -> tuple[str, str, str]:
    """(left, operator, right) of ``left = right`` or ``left += right`` (the first ``=`` outside brackets)."""
    depth = 0
    for k, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "=" and depth == 0 and text[k + 1 : k + 2] != "=" and text[k - 1 : k] not in ("=", "<", ">", "!"):
            plus = text[k - 1 : k] == "+"
            return text[: k - plus].strip(), "+=" if plus else "=", text[k + 1 :].strip()
    raise ClaimError(f"a claim is 'name = formula' (or 'dx̃[…] += …'), got '{text}'")


def quantity_of(left: str, kind: str) -> tuple[str, list[str]]:
    """The quantity a left-hand side names (cs231n's name) and its index letters (none for a whole array)."""
    m = re.match(r"^([A-Za-z_]\w*)\s*(?:\[(.*)\])?$", left)
    if not m:
        raise ClaimError(f"the left-hand side '{left}' names no quantity (dx, dw, db, out, dxp, dw_row, dx_cols …)")
    name = ALIASES.get(m.group(1), m.group(1))
    known = CONV_TRUTH if kind == "conv" else POOL_TRUTH
    if name not in known and name not in ("dxp",):
        raise ClaimError(f"'{m.group(1)}' is not a quantity of the layer (one of: {', '.join(sorted(known))})")
    letters = [v.strip() for v in m.group(2).split(",")] if m.group(2) else []
    return name, letters


def verify_claim(claim: str, *, latex: bool = False, kind: str = "conv", wrt: str | None = None) -> Verdict:
    """One claim about a conv (or, ``kind="pool"``, a max pooling) layer: the index form (``dw[f,c,k,l] =
    Σ_{n,i,j} dout[n,f,i,j] · xp[n,c,s·i+k,s·j+l]``, ``dxp[n,c,s·i+k,s·j+l] += dout[n,f,i,j] · w[f,c,k,l]``)
    or a line of code (``dw_row = dout_row @ x_cols.T``, ``dx = col2im(w_row.T @ dout_row)``)."""
    text = normalise(claim, latex)
    left, op, right = split_claim(text)
    name, letters = quantity_of(left, kind)
    if wrt is not None and ALIASES.get(wrt, wrt) != name:
        raise ClaimError(f"the left-hand side is {name}, not {wrt}")
    indexed = bool(letters) or "Σ" in right
    for v in letters:  # dx̃[n, c, h, w]: w would read as the filters
        if re.fullmatch(r"[A-Za-z_]\w*", v) and v not in INDEX_LETTERS:
            named = (
                f" (it names {'the filters' if v == 'w' else 'a quantity of the layer'})" if v in _LAYER_NAMES else ""
            )
            raise ClaimError(
                f"'{v}' cannot index {left}{named}: the index letters are n, f, c, k, l, i, j (a pixel: dx̃[n, c, i, j])"
            )
    what = name  # the quantity, whichever form the claim takes (a grade's question asks for it)
    if indexed:
        tree = _parse(_sums(right), claim)
        return check(name, kind, lambda layer: _index_value(tree, layer, name, letters, op, claim), claim, what)
    code = Interpreter(f"{left.split('[')[0]} {op} {right}\n", "the claim", statements=True)

    def run(layer):
        env = {**layer, **{alias: layer[target] for alias, target in ALIASES.items() if target in layer}}
        if op == "+=":
            env[left] = np.zeros_like(layer[name])
        code.run(code.tree.body, env)
        return env[left]

    return check(name, kind, run, claim, what)


def _parse(text: str, claim: str):
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ClaimError(f"cannot read the claim '{claim}'") from None


def _index_value(tree, layer: dict, name: str, letters: list[str], op: str, claim: str):
    """The claimed array of ``name`` at one layer: every index letter an axis of a broadcast grid, each
    subscript a gather, Σ a sum over its axes; ``+=`` scatters into zeros of the true shape (or of x̃'s)."""
    indices: list[str] = []
    sizes: dict[str, int] = {}
    subscripts = _subscripts(letters)
    for node in [n for part in subscripts for n in ast.walk(part)] + list(ast.walk(tree)):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            array = layer.get(ALIASES.get(node.value.id, node.value.id))
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for axis, part in enumerate(parts):
                named = isinstance(part, ast.Name) and part.id in INDEX_LETTERS and part.id not in sizes
                if named and isinstance(array, np.ndarray) and axis < array.ndim:
                    sizes[part.id] = array.shape[axis]
        if isinstance(node, ast.Name) and node.id in INDEX_LETTERS and node.id not in indices:
            indices.append(node.id)
    target = np.asarray(layer[name])
    if op == "=":
        for axis, letter in enumerate(letters):
            sizes.setdefault(letter, target.shape[axis] if axis < target.ndim else 1)
    for v in indices:  # a letter used only inside index arithmetic (HH − 1 − k): its usual range
        if v not in sizes and CONVENTION.get(v) in layer:
            sizes[v] = layer[CONVENTION[v]]
    missing = [v for v in indices if v not in sizes]
    if missing:
        raise ClaimError(f"the index {missing[0]} of '{claim}' runs over nothing: use it as a whole subscript once")
    order = list(dict.fromkeys((letters if op == "=" else []) + indices))
    grid = {v: np.arange(sizes[v]).reshape([sizes[v] if u == v else 1 for u in order]) for v in order}
    value = np.asarray(_evaluate(tree, layer, grid, order), dtype=float)
    value = np.broadcast_to(value, [sizes[v] for v in order]) if value.ndim else value
    if op == "=":
        free = [v for v in order[len(letters) :] if value.ndim and value.shape[order.index(v)] > 1]
        for v in free:  # an index neither summed nor on the left: the claim is its first value (named by the slips)
            value = np.take(value, [0], axis=order.index(v))
        keep = value.reshape(value.shape[: len(letters)]) if value.ndim else value
        return np.broadcast_to(keep, target.shape).copy() if keep.shape != target.shape else keep
    positions = [_evaluate(p, layer, grid, order) for p in subscripts]
    out = np.zeros_like(np.asarray(layer[name], dtype=float))
    shape = [sizes[v] for v in order]
    if len(positions) != out.ndim:
        raise ClaimError(f"'{claim}' gives {name} {len(positions)} indices; it has {out.ndim}")
    index = tuple(np.broadcast_to(np.asarray(p), shape) for p in positions)
    below = any(np.min(i) < 0 for i in index)
    above = any(np.max(i) >= n for i, n in zip(index, out.shape, strict=True))
    if name == "dx" and above and not below:
        out = np.zeros_like(np.asarray(layer["xp"], dtype=float))  # x̃'s indices on dx: scattered, never cropped
    inside = np.ones(shape, dtype=bool)
    for i, n in zip(index, out.shape, strict=True):
        inside &= (i >= 0) & (i < n)  # an entry of the padding (s·i + k − p < 0): dropped, as the crop does
    np.add.at(out, tuple(i[inside] for i in index), np.broadcast_to(value, shape)[inside])
    return out


def _gather(array, index):
    """``array[index]`` where an index outside the array, or not a whole number, reads 0: the zeros of the
    full convolution's padded dout (dout[n, f, i − k, j − l]) and of its dilation by the stride
    (dout[n, f, (i − k)/s, (j − l)/s]), or of x padded (x[n, c, s·i + k − p, s·j + l − p])."""
    index = np.broadcast_arrays(*index)
    inside = np.ones(index[0].shape, dtype=bool)
    whole = []
    for i, n in zip(index, array.shape, strict=True):
        rounded = np.rint(i)
        inside &= (np.abs(i - rounded) < 1e-9) & (rounded >= 0) & (rounded < n)
        whole.append(np.clip(rounded, 0, n - 1).astype(int))
    return np.where(inside, array[tuple(whole)], 0.0)


def _subscripts(letters):
    return [ast.parse(v, mode="eval").body for v in letters]


_LAYER_NAMES = {"x", "xp", "w", "b", "dout", "out", "s", "p", "N", "C", "H", "W", "F", "HH", "WW"}
_OPS = {"Add": np.add, "Sub": np.subtract, "Mult": np.multiply, "Div": np.divide, "Pow": np.power}


def _evaluate(node, layer, grid, order):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in grid:
            return grid[node.id]
        key = ALIASES.get(node.id, node.id)
        if key not in layer:
            raise ClaimError(
                f"unknown name '{node.id}' (the layer's names: x, xp, w, b, dout, out, s, p, N, C, H, W, F, HH, WW)"
            )
        return layer[key]
    if isinstance(node, ast.BinOp) and type(node.op).__name__ in _OPS:
        return _OPS[type(node.op).__name__](
            _evaluate(node.left, layer, grid, order), _evaluate(node.right, layer, grid, order)
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, layer, grid, order)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return (_evaluate(node.left, layer, grid, order) == _evaluate(node.comparators[0], layer, grid, order)) * 1.0
    if isinstance(node, ast.Subscript):
        array = np.asarray(_evaluate(node.value, layer, grid, order))
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        index = tuple(np.asarray(_evaluate(p, layer, grid, order)) for p in parts)
        if len(index) == array.ndim:
            return _gather(array, index)
        try:
            return array[index]
        except IndexError as exc:
            raise ClaimError(f"an index runs outside its array ({exc})") from None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "SUM":
        letters = [e.id for e in node.args[0].elts]
        value = np.asarray(_evaluate(node.args[1], layer, grid, order), dtype=float)
        value = np.broadcast_to(value, np.broadcast_shapes(value.shape, *(grid[v].shape for v in letters)))
        return value.sum(axis=tuple(order.index(v) for v in letters), keepdims=True)
    raise ClaimError(f"'{ast.unparse(node)}' is not part of the index form (products, sums Σ, subscripts)")


# ------------------------------------------------------------------ a network with conv layers
class ConvTarget:
    """A network with convolutions (``net.filters``): a claim in the courses' notation for a conv or pooling
    layer (``dw[f,c,k,l] = Σ_{n,i,j} …``, ``dx = col2im(W_row.T @ dout_row)``) is checked here, any other
    (``dW2 = (1/m) dZ2 P1ᵀ``, the program's own names) by the matrix view at sizes where every window
    tiles (``ImageVecTarget``)."""

    def __init__(self, net):
        from ..ops.conv_nodes import AvgPool, MaxPool

        self.net = net
        self.name = net.name
        nodes = [n for a in net.assignments for n in sp.preorder_traversal(a.value)]
        # the kinds of pooling the program has, max first: a pooling claim is checked against each in turn
        self.poolings = [
            k for k, c in (("pool", MaxPool), ("avgpool", AvgPool)) if any(isinstance(n, c) for n in nodes)
        ]
        self.pooling = bool(self.poolings)
        self._matrix = None

    @property
    def matrix(self):
        if self._matrix is None:
            self._matrix = ImageVecTarget(self.net)
        return self._matrix

    def kind_of(self, claim: str, latex: bool) -> str | None:
        """ "conv" or "pool" for a claim about a layer in the courses' notation, None for the program's names."""
        try:
            left, _, right = split_claim(normalise(claim, latex))
        except ClaimError:
            return None
        name = ALIASES.get(left.split("[")[0].strip(), left.split("[")[0].strip())
        if name not in CONV_TRUTH and name not in POOL_TRUTH and name != "dxp":
            return None
        words = set(re.findall(r"[A-Za-z_]\w*", left + " " + right))
        conv_words = {
            "w",
            "b",
            "xp",
            "x_pad",
            "dxp",
            "dw",
            "db",
            "w_row",
            "W_row",
            "x_cols",
            "X_col",
            "dout_row",
            "col2im",
            "im2col",
        }
        if self.pooling and not (words & conv_words) and name in POOL_TRUTH:
            return self.poolings[0]
        return "conv"

    def goal(self, wrt: str) -> str:
        """What a verdict for ``wrt`` is about: a layer's quantity in the courses' notation (``dw``, ``dx``), or a
        gradient of the program (``dW2``)."""
        from .vec_read import target_name

        name = ALIASES.get(wrt, wrt)
        if name in CONV_TRUTH or name in POOL_TRUTH or name == "dxp":
            return name
        return target_name(self.matrix, wrt, None)

    def check_claim(self, wrt, claim: str, *, latex: bool = False, where=None) -> Verdict:
        from .scalar import verify_spec

        layer_names = set(CONV_TRUTH) | set(POOL_TRUTH) | set(ALIASES) | {"dxp"}
        if wrt in layer_names and "=" not in claim:  # a sheet's 'dw: (dout_row @ x_cols.T).reshape(w.shape)'
            claim = f"{wrt} = {claim}"
        kind = self.kind_of(claim, latex)
        if kind is None:
            return verify_spec(self.matrix, wrt, claim, latex=latex, where=where)
        wrt = wrt if wrt in (CONV_TRUTH | POOL_TRUTH) else None
        verdict = verify_claim(claim, latex=latex, kind=kind, wrt=wrt)
        if kind != "conv" and not verdict.equal and len(self.poolings) > 1:
            # max and average pooling in one program: the claim holds if it holds for either
            also = verify_claim(claim, latex=latex, kind=self.poolings[1], wrt=wrt)
            if also.equal:
                return also
        return verdict


def image_vec_target():
    """``VecTarget`` drawing its random widths only where every window of the program tiles."""
    from ..ir.images import tiles
    from .vectorised import VecTarget

    class ImageVecTarget(VecTarget):
        def dims(self, rng):
            for _ in range(200):
                dims = super().dims(rng)
                if tiles(self.net, dims):
                    return dims
            return {**super().dims(rng), **self.net.dim_sizes}  # the declared sizes tile by construction

    return ImageVecTarget


def ImageVecTarget(net):
    return image_vec_target()(net)
