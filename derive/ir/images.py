"""Images in the layer program: which quantities hold one image per column, and the lowering of ``conv2d``,
``max_pool`` and ``avg_pool`` onto the op table (``derive.ops.conv``).

The convention, stated once: the program is 2-D with one column per example, so a batch of m images of C
channels of H×W pixels is a (C·H·W)×m quantity, entry (c·H·W + h·W + w, n) holding pixel (h, w) of channel c
of image n (cs231n's x[n, c, h, w]).  ``net.image("X", C, H, W)`` declares such an input; a filter bank of F
filters of C×HH×WW is the F×(C·HH·WW) parameter ``net.filters("W1", F, C, HH, WW)``, row f the filter f
flattened in (c, k, l) order (cs231n's ``w.reshape(F, -1)``, the W_row of the im2col form).  The image
geometry (C, H, W) of every other quantity follows from its definition (``image_of``): a convolution or a
pooling gives an image, an element-wise op keeps its operand's.  Sizes are dimensions (``net.dims``) or
numbers, so shapes stay symbolic where they can: a 3×3 filter at stride 1 and pad 1 keeps H×W.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..ops import Apply
from ..ops.conv_nodes import AvgPool, Im2col, Mat, MaxPool, Unmat, out_size
from .vocabulary import Conv2dOf, MaxPoolOf

Image = tuple  # (C, H, W): channels, height, width (SymPy dimensions or numbers)


def image_of(net, expr) -> Image | None:
    """(C, H, W) of a quantity with one image per column, or None: a declared image, a node that makes one
    (its ``image``), or an element-wise op of an image (an activation, a sum or ⊙ of images of one shape)."""
    if isinstance(expr, sp.MatrixSymbol):
        return net.images.get(expr.name)
    own = getattr(expr, "image", None)
    if own is not None:
        return own
    if isinstance(expr, Apply) and expr.record.elementwise:
        return image_of(net, expr.arg)
    if isinstance(expr, (sp.MatAdd, sp.HadamardProduct)):
        found = [image_of(net, a) for a in expr.args if a.shape == expr.shape]
        return next((f for f in found if f is not None), None)
    if isinstance(expr, sp.MatMul):
        _, factors = expr.as_coeff_matrices()
        return image_of(net, factors[0]) if len(factors) == 1 else None
    return None


def lower_image_op(low, func, args, e):
    """``conv2d(X, W, b, stride, pad)``, ``max_pool(Q, size, stride)`` or ``avg_pool(Q, size, stride)`` of the
    assignment ``low`` lowers (``derive.ir.lower.Lowering``), checked; a problem is one DeclarationError."""
    net = low.net
    source = str(e).replace("*", " ")
    operand = args[0]
    image = image_of(net, operand) if isinstance(operand, sp.MatrixExpr) else None
    if image is None:
        low.fail(
            f"'{source}' in '{low.name}' takes images: {_label(operand)} is not one (declare it with net.image, or"
            " give a quantity computed from images)"
        )
    C, H, W = image
    if func is Conv2dOf:
        return _conv(low, net, source, operand, image, *args[1:])
    size, stride = (_whole(low, source, what, v, least=1) for what, v in (("size", args[1]), ("stride", args[2])))
    for side, n in (("height", H), ("width", W)):
        _fits(low, net, source, side, n, size, stride, 0)
    return (MaxPool if func is MaxPoolOf else AvgPool)(operand, C, H, W, size, stride)


def _conv(low, net, source, X, image, W, b, stride, pad):
    C, H, Wd = image
    filters = net.filter_banks.get(W.name) if isinstance(W, sp.MatrixSymbol) else None
    if filters is None:
        low.fail(
            f"'{source}' in '{low.name}': the filters {_label(W)} must be declared with net.filters(name, F, C, HH, WW)"
        )
    F, C2, HH, WW = filters
    if sp.simplify(C2 - C) != 0:
        low.mismatch(f"{W.name} has filters of {C2} channels but {_label(X)} has images of {C}")
    stride = _whole(low, source, "stride", stride, least=1)
    pad = _whole(low, source, "pad", pad, least=0)
    for side, n, k in (("height", H, HH), ("width", Wd, WW)):
        _fits(low, net, source, side, n, k, stride, pad)
    if isinstance(b, sp.MatrixExpr):
        if not (isinstance(b, sp.MatrixSymbol) and net.kinds.get(b.name) == "param") or b.shape != (F, 1):
            low.fail(f"'{source}' in '{low.name}': the bias must be an F×1 parameter (one per filter), got {_label(b)}")
    elif b != 0:
        low.fail(f"'{source}' in '{low.name}': the bias must be an F×1 parameter or None, got {b}")
    if not isinstance(X, sp.MatrixSymbol):
        low.fail(f"'{source}' in '{low.name}': give conv2d a named image (net.let a name for {_label(X)} first)")
    Ho, Wo = out_size(H, HH, stride, pad), out_size(Wd, WW, stride, pad)
    name = net._fresh(f"{X.name}_col")  # the patch matrix, a quantity of its own: the forward pass keeps it
    net._assign(name, Im2col(X, C, H, Wd, HH, WW, stride, pad), low.where)
    product = W * Mat(net.matrices[name], C * HH * WW, Ho, Wo)
    if isinstance(b, sp.MatrixExpr):
        product = product + b * OneMatrix(1, product.shape[1])
    return Unmat(product, Ho, Wo)


def _whole(low, source, what, value, least):
    value = sp.sympify(value)
    if not (value.is_Integer and value >= least):
        low.fail(f"'{source}' in '{low.name}': the {what} must be a whole number ≥ {least}, got {value}")
    return int(value)


def _fits(low, net, source, side, n, k, stride, pad):
    """The windows tile the side exactly: (n + 2·pad − k)/stride + 1 a whole number ≥ 1 at the declared sizes."""
    size = net.size(n)
    span = size + 2 * pad - k
    if span < 0 or span % stride:
        low.fail(
            f"'{source}' in '{low.name}': a window of {k} at stride {stride} with pad {pad} does not tile the {side}"
            f" of {size} (({size} + 2·{pad} − {k})/{stride} + 1 is not a whole number ≥ 1)"
        )


def _label(x) -> str:
    from ..printing.matrix import matrix_text

    return matrix_text(x) if isinstance(x, sp.Basic) else repr(x)


def tiles(net, dims: dict) -> bool:
    """Whether every convolution's and pooling's windows tile their images exactly at the sizes ``dims``
    (a symbol → integer map, as a check at other sizes than the declared ones draws them)."""
    for a in net.assignments:
        for node in sp.preorder_traversal(a.value):
            if isinstance(node, Im2col):
                _, H, W, HH, WW, s, p = (int(sp.sympify(v).subs(dims)) for v in node.geometry)
                sides = ((H, HH), (W, WW))
            elif isinstance(node, (MaxPool, AvgPool)):
                _, H, W, k, s = (int(sp.sympify(v).subs(dims)) for v in node.geometry)
                p, sides = 0, ((H, k), (W, k))
            else:
                continue
            if any(n + 2 * p - k < 0 or (n + 2 * p - k) % s for n, k in sides):
                return False
    return True
