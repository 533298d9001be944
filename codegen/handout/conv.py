"""The handout's section on convolution and pooling, for a program with an im2col (``conv2d``) or a pooling:
the forward pass and the three gradients in both forms courses print, cs231n's index form and its im2col
form, linked to the equations the engine derived; deeplearning.ai's per-example loops; pooling (the arg-max,
ties, the even split); and cs231n's gradient check of the layer, run on the op table's NumPy forms.

The section is blocks of the document model (``document``: Text, Display, Table, Code), so every medium
(PDF, HTML, slides, notebook) renders it; ``intro`` is the handout's opening paragraph for such a program.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.ops import conv_numpy as N
from derive.ops.conv_nodes import AvgPool, Im2col, MaxPool

from .document import Code, Display, Row, Section, Table, Text

NG_LOOPS = """for i in range(m):                       # each example
    a_prev_pad, da_prev_pad = A_prev_pad[i], dA_prev_pad[i]
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):            # each filter
                vs, hs = h * stride, w * stride
                a_slice = a_prev_pad[vs:vs + f, hs:hs + f, :]
                da_prev_pad[vs:vs + f, hs:hs + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]"""


def _nodes(vn, kinds) -> list:
    """(assignment, node) for every node of one of ``kinds`` in the program, in order."""
    return [(a, n) for a in vn.assignments for n in sp.preorder_traversal(a.value) if isinstance(n, kinds)]


def intro(vn) -> str | None:
    """The handout's opening paragraph for a program with a convolution or a pooling, else None."""
    if not _nodes(vn, (Im2col, MaxPool, AvgPool)):
        return None
    return (
        r"A convolutional network (cs231n assignment~2; deeplearning.ai, \emph{Convolutional Neural Networks}):"
        r" its gradients are derived in matrices, one operation at a time backwards from the cost, the"
        r" convolution in its im2col form; the section on convolution and pooling writes them in the courses'"
        r" index form too."
    )


def section(vn, vd, mp) -> Section | None:
    """The convolution section (and pooling's) of a program that has them, else None."""
    convs, pools = _nodes(vn, Im2col), _nodes(vn, (MaxPool, AvgPool))
    if not convs and not pools:
        return None
    blocks = _convolution(vn, vd, mp, convs) if convs else []
    blocks += _pooling(vd, mp, pools) if pools else []
    blocks += _check() if convs else []
    return Section("conv", "Convolution and pooling", blocks, label="sec:conv")


def _convolution(vn, vd, mp, convs) -> list:
    col, node = convs[0]
    C, H, W, HH, WW, s, p = node.geometry
    Z = next(a for a in vn.assignments if col.name in {m.name for m in a.value.atoms(sp.MatrixSymbol)})
    read = {m.name for m in Z.value.atoms(sp.MatrixSymbol)}
    W1 = next(f for f in vn.filter_banks if f in read)
    b1 = next((b for b in vn.names("param") if b != W1 and b in read), None)
    F = vn.filter_banks[W1][0]
    Ho, Wo = node.positions
    sizes = {d: vn.size(d) for d in (C, H, W, F, HH, WW, Ho, Wo) if isinstance(d, sp.Expr)}
    numbers = {e.target: e.number for e in vd.equations}

    def tex(x):
        return mp.doprint(sp.sympify(x))

    def derived(target: str | None, missing: str) -> str:
        """Equation ``target`` as the program section numbers and prints it, or why there is none."""
        e = next((e for e in vd.equations if e.target == target), None)
        if e is None:
            return missing
        return rf"({e.number}) ${mp.name(e.target)} = {mp.doprint(e.expr)}$"

    # a convolution of a computed image (a later layer's) has the lines dX_col and dx
    inner = next(((c, n) for c, n in convs if f"d{c.name}" in numbers), None)
    unused = r"not derived: $X$ is an input"
    im2col_rows = [
        [r"$\mathrm{out} = W_{\mathrm{row}} X_{\mathrm{col}} + b$", derived(Z.name, "")],
        [r"$\mathrm{d}W_{\mathrm{row}} = \mathrm{dout}\; X_{\mathrm{col}}^{\top}$", derived(f"d{W1}", "")],
        [r"$\mathrm{d}b = \mathrm{dout}\; \mathbf{1}$", derived(b1 and f"d{b1}", "no bias")],
        [r"$\mathrm{d}X_{\mathrm{col}} = W_{\mathrm{row}}^{\top}\, \mathrm{dout}$", derived(f"d{col.name}", unused)],
        [
            r"$\mathrm{d}x = \operatorname{col2im}(\mathrm{d}X_{\mathrm{col}})$",
            derived(f"d{node.args[0].name}", unused),
        ],
    ]
    inputs = ""  # what the table's last two lines are in this program
    if f"d{col.name}" not in numbers:
        inputs = (
            r" The input $X$ needs no gradient, so $\mathrm{d}X_{\mathrm{col}}$ is not derived; a convolution"
            r" of a computed image gets both lines"
        )
        inputs += (
            rf", as the one of ${mp.name(inner[1].args[0].name)}$ does here: equations ({numbers[f'd{inner[0].name}']})"
            rf" and ({numbers[f'd{inner[1].args[0].name}']})."
            if inner is not None
            else "."
        )
    return [
        Text(
            rf"A convolution layer (cs231n assignment~2; deeplearning.ai \emph{{Convolutional Neural Networks}}, week~1)"
            rf" slides $F = {sizes.get(F, F)}$ filters of $C \times HH \times WW = {sizes.get(C, C)} \times {tex(HH)} \times {tex(WW)}$"
            rf" over each image, here at stride $s = {s}$ over the image padded with $p = {p}$ zeros, $\tilde{{x}}$."
            rf" Images are columns: $X$ is $(C \cdot H \cdot W) \times m$, one ${sizes.get(C, C)} \times"
            rf" {sizes.get(H, H)} \times {sizes.get(W, W)}$ image per column, entry $c H W + h W + w$ its pixel"
            rf" $(h, w)$ of channel $c$ (cs231n's \texttt{{x[n, c, h, w]}}); the filters are the ${tex(F)} \times"
            rf" {tex(C * HH * WW)}$ matrix ${mp.name(W1)}$, row $f$ the filter $f$ flattened (cs231n's"
            rf" \texttt{{w.reshape(F, -1)}}, the $W_{{\mathrm{{row}}}}$ of the im2col form). The output has"
            rf" $H' = (H + 2p - HH)/s + 1 = {tex(Ho)} = {sizes.get(Ho, Ho)}$ rows and $W' = {tex(Wo)} = {sizes.get(Wo, Wo)}$"
            " columns of positions, for each filter:"
        ),
        Display(
            [
                Row(
                    r"\mathrm{out}[n,f,i,j]",
                    r"\sum_{c,k,l} w[f,c,k,l]\; \tilde{x}[n,c,\, s i + k,\, s j + l] + b[f]",
                )
            ]
        ),
        Text(
            r"This is a correlation: the filter is not flipped, as in every CNN course (a convolution in the signal"
            r" processing sense flips it, $w[f,c,HH-1-k,WW-1-l]$). Each output entry is linear in the weights and in"
            r" the pixels, so its local derivatives are the other factor: $\partial\,\mathrm{out}[n,f,i,j] / \partial"
            r" w[f,c,k,l] = \tilde{x}[n,c,si+k,sj+l]$ and $\partial\,\mathrm{out}[n,f,i,j] / \partial"
            r" \tilde{x}[n,c,si+k,sj+l] = w[f,c,k,l]$. With $\mathrm{dout} = \partial J/\partial\,\mathrm{out}$, the"
            r" chain rule sums over every output entry that reads the variable: the \textbf{index form} (cs231n),"
        ),
        Display(
            [
                Row(r"\mathrm{d}b[f]", r"\sum_{n,i,j} \mathrm{dout}[n,f,i,j]"),
                Row(r"\mathrm{d}w[f,c,k,l]", r"\sum_{n,i,j} \mathrm{dout}[n,f,i,j]\; \tilde{x}[n,c,\, si+k,\, sj+l]"),
                Row(
                    r"\mathrm{d}\tilde{x}[n,c,h',w']",
                    r"\sum_{\substack{f,i,j,k,l:\\ si+k = h',\; sj+l = w'}} \mathrm{dout}[n,f,i,j]\; w[f,c,k,l]",
                ),
                Row(r"\mathrm{d}x[n,c,h,w]", r"\mathrm{d}\tilde{x}[n,c,\, h + p,\, w + p]"),
            ]
        ),
        Text(
            r"The weights and the bias are shared by every position and every example, so their sums run over"
            r" $n$ too: leaving out the sum over the batch is a classic slip, and so is forgetting the stride in"
            r" $\mathrm{d}\tilde{x}$ (each pixel gets the terms of the patches that cover it, at $si+k$, not $i+k$)"
            r" or returning $\mathrm{d}\tilde{x}$ without cropping the padding (\texttt{chainrule verify}"
            r" with \texttt{--code} names each). In code, $\mathrm{d}\tilde{x}$ is a scatter-add: every patch adds"
            r" $\mathrm{dout}[n,f,i,j]\, w[f]$ into the window it came from, overlapping windows adding up."
        ),
        Text(
            r"Gathered rather than scattered, the sum over the $(i, k)$ with $si + k = h'$ reads $\mathrm{dout}$ at"
            r" $i = (h' - k)/s$, an entry that counts as $0$ where $(h'-k)/s$ is not a whole number or falls outside"
            r" $\mathrm{dout}$:",
            lead="The full convolution.",
        ),
        Display(
            [
                Row(
                    r"\mathrm{d}\tilde{x}[n,c,h',w']",
                    r"\sum_{f,k,l} \mathrm{dout}[n,f,\, (h'-k)/s,\, (w'-l)/s]\; w[f,c,k,l]",
                )
            ]
        ),
        Text(
            r"So the backward pass of a convolution is a convolution too (cs231n's notes; CMU 11-785's HW2P1"
            r" computes $\mathrm{d}L/\mathrm{d}A$ so in its stride-1 layer, and strides by downsampling), the"
            r" \emph{transposed}"
            r" one: $\mathrm{dout}$, dilated by the stride ($s - 1$ zeros between its entries) and padded with"
            r" $HH - 1$ zeros, correlated with each filter rotated by $180^\circ$, $w[f,c,HH-1-k,WW-1-l]$, and summed"
            rf" over $f$; here $s = {s}$"
            + (r", so nothing is dilated." if s == 1 else ".")
            + r" Correlating with the filters unrotated is the slip of the kernel flipped the wrong way, and at"
            r" $s > 1$ leaving $\mathrm{dout}$ undilated is the stride ignored: \texttt{chainrule verify} names both,"
            r" in a claim ($\mathrm{d}\tilde{x}[n,c,i,j] = \sum_{f,k,l} \mathrm{dout}[n,f,(i-k)/s,(j-l)/s]\,"
            r" w[f,c,k,l]$ holds) or in code."
        ),
        Text(
            rf"The patches are the columns of the matrix $X_{{\mathrm{{col}}}} ="
            rf" \operatorname{{im2col}}(X)$, equation ({numbers[col.name]}): row $(c,k,l)$ of column $(i,j,n)$ is"
            r" $\tilde{x}[n,c,si+k,sj+l]$. The layer is then one matrix product, and the engine derives the"
            r" gradients from the product rule alone ($\operatorname{mat}$ lays $\mathrm{d}Z$ out as $F$ rows of"
            r" $H'W'm$ columns, cs231n's \texttt{dout.transpose(1, 2, 3, 0).reshape(F, -1)}); beside each line of"
            r" the im2col form, the equation derived above that computes it:",
            lead="The im2col form.",
        ),
        Table(["cs231n's im2col form", "derived here"], im2col_rows, "ll"),
        Text(
            r"Entry $(f, (c,k,l))$ of $\mathrm{dout}\, X_{\mathrm{col}}^{\top}$ is $\sum_{(i,j,n)}"
            r" \mathrm{dout}[n,f,i,j]\, \tilde{x}[n,c,si+k,sj+l]$: the index form of $\mathrm{d}w$, the sum over the"
            r" batch being the product's. $\operatorname{col2im}$, the adjoint of $\operatorname{im2col}$, adds each"
            r" entry of $\mathrm{d}X_{\mathrm{col}}$ into the pixel it was copied from, a scatter-add over overlapping"
            r" patches, and crops the padding: the index form of $\mathrm{d}x$. Here $\mathrm{dout}$ is cs231n's, the"
            rf" gradient of the mean loss $J$: $\frac{{1}}{{m}} \operatorname{{mat}}(\mathrm{{d}}{mp.name(Z.name)})$ in"
            r" this handout's per-example $\mathrm{d}Z$, hence the $\frac{1}{m}$ of the equations derived here."
            + inputs
        ),
        Text(
            r"deeplearning.ai's \texttt{conv\_backward} (course~4, week~1) computes the"
            r" same sums one example, one position and one filter at a time, channels last ($m \times n_H \times n_W"
            r" \times n_C$); its crop \texttt{pad:-pad} is empty at $p = 0$ (write \texttt{pad:pad + n\_H\_prev}),"
            r" a slip \texttt{chainrule verify} names in the assignment as printed:",
            lead="The per-example loops.",
        ),
        Code(NG_LOOPS),
    ]


def _pooling(vd, mp, pools) -> list:
    a, node = pools[0]
    size, stride = node.geometry[3:]
    back = next((e for e in vd.backward if e.target == f"d{node.arg.name}"), None)
    kind = "max" if isinstance(node, MaxPool) else "average"
    blocks = [
        Text(
            rf"${mp.name(a.name)}$ takes the {kind} of each ${size} \times {size}$ window, windows"
            rf" ${stride}$ apart, channel by channel. Max pooling's output is one of its window's entries, so its"
            r" derivative is $1$ for the arg-max and $0$ for the others: the gradient is \emph{routed} to the arg-max"
            r" (cs231n's mask \texttt{window == max}, deeplearning.ai's \texttt{create\_mask\_from\_window}), and where"
            r" windows overlap, the routed terms add up. Average pooling's output is the mean, so each of the"
            rf" $\mathit{{size}}^2$ entries gets $\mathrm{{dout}}/\mathit{{size}}^2$: the gradient is"
            r" \emph{distributed evenly} (deeplearning.ai's \texttt{distribute\_value})."
            + (f" Here it is equation ({back.number}):" if back is not None else ""),
            lead="Pooling.",
        ),
    ]
    if back is not None:
        blocks.append(Display([Row(mp.name(back.target), mp.doprint(back.expr))]))
    blocks.append(
        Text(
            r"Where two entries of a window share the maximum, max is not differentiable: every split"
            r" of the gradient among the tied entries is a subgradient. The generated code routes all of it to the"
            r" first in row-major order (NumPy's \texttt{argmax} and PyTorch choose so); cs231n's fast pooling splits"
            r" it evenly; a mask \texttt{window == max} sends it to every tied entry, which is no subgradient (the"
            r" gradient doubles at a tie). Ties happen: ReLU's zeros tie in every window with no active unit, where"
            r" every choice gives the same gradient (0 through ReLU). Sending the gradient to every position of the"
            r" window is the classic slip.",
            lead="Ties.",
        )
    )
    return blocks


def _check() -> list:
    """cs231n's gradient check of the conv layer (x 4×3×5×5, w 2×3×3×3, stride 1, pad 1) on the op table's forms."""
    errors = cs231n_check()
    return [
        Text(
            r"cs231n checks the layer at $x$ of $4 \times 3 \times 5 \times 5$, $w$ of"
            r" $2 \times 3 \times 3 \times 3$, stride $1$, pad $1$, against central differences with $h = 10^{-5}$,"
            r" expecting relative errors around $10^{-8}$ or less. The code a generated module runs gives"
            rf" $\mathrm{{d}}x$: ${_sci(errors['dx'])}$, $\mathrm{{d}}w$: ${_sci(errors['dw'])}$, $\mathrm{{d}}b$:"
            rf" ${_sci(errors['db'])}$.",
            lead="The gradient check.",
        )
    ]


def _sci(value: float) -> str:
    mantissa, exponent = f"{value:.1e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def cs231n_check(seed: int = 231) -> dict[str, float]:
    """cs231n's check: rel_error of dx, dw, db against eval_numerical_gradient_array (h = 1e-5), by the op table's
    NumPy forms (im2col, col2im) in the layout of the program (images as columns)."""
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((4, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    dout = rng.standard_normal((4, 2, 5, 5))

    def columns(a):
        return a.transpose(1, 2, 3, 0).reshape(-1, a.shape[0])

    def forward(x_, w_, b_):
        cols = N.im2col(columns(x_), 3, 5, 5, 3, 3, 1, 1).reshape(27, -1)
        return (w_.reshape(2, -1) @ cols + b_[:, None]).reshape(2, 5, 5, 4).transpose(3, 0, 1, 2)

    cols = N.im2col(columns(x), 3, 5, 5, 3, 3, 1, 1).reshape(27, -1)
    dout_row = columns(dout).reshape(2, -1)
    dw = (dout_row @ cols.T).reshape(w.shape)
    db = dout_row.sum(axis=1)
    dx = N.col2im((w.reshape(2, -1).T @ dout_row).reshape(-1, 4), 3, 5, 5, 3, 3, 1, 1).reshape(3, 5, 5, 4)
    dx = dx.transpose(3, 0, 1, 2)

    def numeric(value, f):
        grad = np.zeros_like(value)
        for ix in np.ndindex(*value.shape):
            old = value[ix]
            value[ix] = old + 1e-5
            pos = f()
            value[ix] = old - 1e-5
            neg = f()
            value[ix] = old
            grad[ix] = np.sum((pos - neg) * dout) / 2e-5
        return grad

    def rel_error(a, n):
        return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))

    return {
        "dx": rel_error(dx, numeric(x, lambda: forward(x, w, b))),
        "dw": rel_error(dw, numeric(w, lambda: forward(x, w, b))),
        "db": rel_error(db, numeric(b, lambda: forward(x, w, b))),
    }
