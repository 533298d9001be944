"""The handout's second-order section, chosen by what the network contains.

* A matrix program whose Hessian the engine writes as a matrix (every parameter a row or a
  number: logistic regression, ``derive.ir.hessian``): the R-operator's equations (Pearlmutter
  1994), the Hessian's blocks read off them; where the first block is CS229's X diag(A ⊙ (1 − A)) Xᵀ,
  CS229's form in both conventions (one example per column here, per row in CS229) and why
  zᵀHz ≥ 0; Newton's steps against gradient descent's, measured with the generated module.
  A ``document.Section``: every medium renders it (``document_section``).
* A softmax output with the cross-entropy (read from the records: the loss's ``matched``
  activation is a distribution): the Hessian of the loss with respect to the logits,
  ∂²L/∂z_j∂z_k = ∂ŷ_k/∂z_j from the softmax record's own partial, diag(ŷ) − ŷŷᵀ, written out
  for K = 3, with vᵀHv ≥ 0 (a variance) and H1 = 0: in a matrix program's section, and in a
  per-unit handout's (``section``, the templates' ``second``).
"""

from __future__ import annotations

import sympy as sp

from derive import ChainruleError
from derive.ops import record_of

from . import document
from .document import Display, Row, Section, Text

K_SHOWN = 3  # the logits' Hessian written out entry by entry for three classes


def section(original, scalar_net, printer, options) -> dict | None:
    """Template data of a per-unit handout (None: no second-order section): the logits' Hessian.
    ``original`` is the declaration, ``scalar_net`` the per-unit network the handout writes out."""
    logits = _logits(original)
    return None if logits is None else {"logits": logits}


def document_section(vn, vd, mp) -> Section | None:
    """A matrix program's section (``document.Section``, every medium): the Hessian where the engine writes it
    as a matrix, with Newton's method measured against gradient descent; the logits' Hessian of a softmax
    output with the cross-entropy."""
    h = _hessian(vn, vd, mp)
    logits = _logits(vn)
    if h is None and logits is None:
        return None
    blocks = (_hessian_blocks(vn, h) if h else []) + (_logits_blocks(logits, "L", lead=h is not None) if logits else [])
    return Section("second", "Second order: the Hessian", blocks, label="sec:second")


def _hessian(vn, vd, mp) -> dict | None:
    from derive.ir.hessian import hessian

    try:
        h = hessian(vd)
    except ChainruleError:
        return None
    rop = h.rop
    X = vn.names("input")[0]
    A = vn.cost_operands[0]
    params = h.params
    s = rf"{mp.name(A)} \odot (1 - {mp.name(A)})"
    return {
        "directions": ", ".join(rf"V_{{{mp.name(p)}}}" for p in params),
        "tangents": [Row(rf"\mathcal{{R}}\{{{_bare(mp, e.target)}\}}", _r_latex(mp, e.expr)) for e in rop.equations],
        "blocks": [Row(rf"H_{{{mp.name(b.row)}{mp.name(b.col)}}}", mp.doprint(b.expr)) for b in h.blocks.values()],
        "X": mp.name(X),
        "s": s,
        "stacked": rf"\tilde{{{mp.name(X)}}}",
        "cs229": _cs229(vn, h),
        "steps": None if getattr(vn, "text_task", None) is not None else _steps(vn),
    }


def _cs229(vn, h) -> bool:
    """Whether the first block is CS229's: (1/m) X diag(A ⊙ (1 − A)) Xᵀ, with X the input and A the cost's
    prediction (a σ output with the log loss), read from the block itself."""
    from derive.ops.diag import Diag

    first = h.params[0]
    diags = [d for d in sp.preorder_traversal(h.blocks[(first, first)].expr) if isinstance(d, Diag)]
    if len(diags) != 1:
        return False
    s = diags[0].args[0]
    A = sp.MatrixSymbol(vn.cost_operands[0], *s.shape)
    return s == sp.HadamardProduct(A, sp.OneMatrix(*s.shape) - A)


def _steps(vn) -> dict:
    """Steps to ‖∇J‖ ≤ ``TOL`` on the module's demo data from its seed-0 start: Newton's method (``newton_step``,
    its own step 1) and full-batch gradient descent at α = 1 and 0.1 (None: not within ``MAX_STEPS``), measured
    with the generated module (``scripts/bench_newton.py`` prints the same table)."""
    import numpy as np

    from ..emit.load import load_module

    module = load_module(vn)
    X, Y = module.demo_data()

    def count(step) -> int | None:
        params = module.init_params(seed=0)
        state: dict = {}
        for t in range(1, MAX_STEPS + 1):
            step(params, state, t)
            g = module.gradients(params, X, Y)
            if np.sqrt(sum(float(np.sum(v * v)) for v in g.values())) <= TOL:
                return t
        return None

    def gd(lr):
        return lambda params, state, t: module.update(params, module.gradients(params, X, Y), state, "sgd", lr, t)

    return {
        "m": X.shape[1],
        "newton": count(lambda params, state, t: module.newton_step(params, X, Y, 1.0)),
        "gd": [(lr, count(gd(lr))) for lr in (1.0, 0.1)],
    }


TOL = 1e-8  # ‖∇J‖ at which a method has converged
MAX_STEPS = 5000  # gradient descent's budget


def _hessian_blocks(vn, h: dict) -> list:
    blocks = [
        Text(
            r"Newton's method (CS229, lecture notes part II) steps to where $\nabla J = 0$ with the curvature:"
            r" $\theta \leftarrow \theta - H^{-1} \nabla J$, with $H = \nabla^2 J$ the Hessian. The engine does not"
            r" write $H$ down from memory: it takes the directional derivative"
            r" $\mathcal{R}\{f\} = \frac{d}{dr} f(\theta + r V)\big|_{r=0}$ of every equation of the forward and the"
            rf" backward pass along a direction ${h['directions']}$ (Pearlmutter's R-operator, 1994:"
            r" $\mathcal{R}\{AB\} = \mathcal{R}\{A\} B + A \mathcal{R}\{B\}$,"
            r" $\mathcal{R}\{\sigma(Z)\} = \mathcal{R}\{Z\} \odot \sigma'(Z)$, $\mathcal{R}\{X\} = 0$). The"
            r" R-operator of the gradient is the Hessian times the direction:"
        ),
        Display([r for row in h["tangents"] for r in document.rows(row.lhs, row.rhs, document.LINE_WIDTH)]),
        Text(
            r"With $V$ a row, $u \odot s = u \operatorname{diag}(s)$ for a row $s$, so each"
            r" $\mathcal{R}\{\mathrm{d}Q\}$ is $\sum_P V_P H_{PQ}$, and the coefficient of $V_P$ is the block"
            r" $H_{PQ} = \partial^2 J / \partial P\, \partial Q$:"
        ),
        Display(h["blocks"]),
    ]
    if h["cs229"]:
        blocks += _cs229_blocks(h)
    if h["steps"]:
        blocks.append(_measured(h["steps"]))
    return blocks


def _cs229_blocks(h: dict) -> list:
    X, stacked, s = h["X"], h["stacked"], h["s"]
    return [
        Text(
            rf"Here one example is one column of ${X}$ ($n \times m$). CS229 stacks one example per row"
            rf" ($X_{{\mathrm{{CS229}}}} = {X}^{{\top}}$) and folds the bias into $\theta$ with an intercept $x_0 = 1$;"
            rf" with ${stacked} = \bigl[\begin{{smallmatrix}} {X} \\ \mathbf{{1}}^{{\top}} \end{{smallmatrix}}\bigr]$"
            r" the four blocks are one matrix, in either convention:"
        ),
        Display(
            [
                Row(
                    "H",
                    rf"\frac{{1}}{{m}}\, {stacked} \operatorname{{diag}}({s})\, {stacked}^{{\top}} \quad\text{{(columns)}}",
                ),
                Row(
                    "H",
                    r"\frac{1}{m}\, X_{\mathrm{CS229}}^{\top} \operatorname{diag}\bigl(\sigma(1 - \sigma)\bigr)\,"
                    r" X_{\mathrm{CS229}} \quad\text{(rows)}",
                ),
            ]
        ),
        Text(
            r"that is $H = \frac{1}{m} \sum_i \sigma(z_i)(1 - \sigma(z_i))\, \tilde{x}_i \tilde{x}_i^{\top}$: each"
            r" example adds its outer product $\tilde{x}_i \tilde{x}_i^{\top}$ ($(n+1) \times (n+1)$), not"
            r" $\tilde{x}_i^{\top} \tilde{x}_i$ (a number). $H$ is positive semi-definite: for any $v$,"
        ),
        Display(
            [
                Row(
                    r"v^{\top} H v",
                    r"\frac{1}{m} \sum_i \sigma(z_i)\bigl(1 - \sigma(z_i)\bigr)\, (\tilde{x}_i^{\top} v)^2 \;\geq\; 0",
                )
            ]
        ),
        Text(
            r"since $0 < \sigma(1 - \sigma) \leq \tfrac14$; so $J$ is convex and Newton's step goes downhill. The"
            r" generated module computes the blocks as written, \texttt{hessian(params, X, Y)}, and trains with"
            r' \texttt{optimizer="newton"}.'
        ),
    ]


def _measured(steps: dict) -> Text:
    def count(n):
        return f"{n}" if n is not None else f"more than {MAX_STEPS}"

    (lr1, gd1), (lr2, gd2) = steps["gd"]
    return Text(
        rf"On the module's demo data ({steps['m']} examples, from its seed-0 start) Newton's method reaches"
        rf" $\lVert \nabla J \rVert \leq 10^{{-8}}$ in {count(steps['newton'])} steps; gradient descent needs"
        rf" {count(gd1)} with $\alpha = {lr1:g}$ and {count(gd2)} with $\alpha = {lr2:g}$"
        r" (measured with the generated module)."
    )


def _logits_blocks(g: dict, loss: str, lead: bool) -> list:
    matrix = g["matrix"]
    return [
        Text(
            rf"With $\hat{{y}} = \operatorname{{softmax}}(z)$ and the cross-entropy, $\partial {loss} / \partial z_k"
            r" = \hat{y}_k - y_k$. Differentiating once more, $y$ is a constant and the softmax's own derivative,"
            r" $\partial \hat{y}_k / \partial z_j$, gives",
            lead="The Hessian with respect to the logits." if lead else "",
        ),
        Display(
            [
                Row(
                    rf"\frac{{\partial^2 {loss}}}{{\partial z_j\, \partial z_k}}", r"\hat{y}_k(\delta_{jk} - \hat{y}_j)"
                ),
                Row(rf"\nabla_z^2 {loss}", r"\operatorname{diag}(\hat{y}) - \hat{y}\hat{y}^{\top}"),
            ]
        ),
        Text(rf"for $K = {g['K']}$ classes"),
        Display([Row(rf"\nabla_z^2 {loss}", matrix)]),
        Text(
            r"It does not depend on $y$, it is symmetric, and it is positive semi-definite:"
            r" $v^{\top}(\operatorname{diag}(\hat{y}) - \hat{y}\hat{y}^{\top})v = \sum_k \hat{y}_k v_k^2"
            r" - (\sum_k \hat{y}_k v_k)^2$, the variance of $v$ under the probabilities $\hat{y}$, $\geq 0$. It is"
            r" singular: $(\operatorname{diag}(\hat{y}) - \hat{y}\hat{y}^{\top})\mathbf{1} = \hat{y} - \hat{y} = 0$,"
            r" since adding one number to every logit leaves the softmax unchanged."
        ),
    ]


def _bare(mp, name: str) -> str:
    """``RdW`` → ``\\mathrm{d}w`` (what R{·} is of)."""
    return mp.name(name[1:])


def _r_latex(mp, expr) -> str:
    """``expr`` in LaTeX with each tangent ``RQ`` as ``\\mathcal{R}\\{Q\\}`` and each direction ``VP`` as ``V_P``."""
    names = {}
    for sym in expr.atoms(sp.MatrixSymbol):
        if sym.name.startswith("R"):
            names[sym.name] = rf"\mathcal{{R}}\{{{mp.name(sym.name[1:])}\}}"
        elif sym.name.startswith("V") and sym.name[1:] in mp._settings.get("quantities", ()):
            names[sym.name] = rf"V_{{{mp.name(sym.name[1:])}}}"
    return mp.with_settings(names={**mp._settings["names"], **names}).doprint(expr)


def _logits(net) -> dict | None:
    """The softmax–cross-entropy Hessian with respect to the logits, from the softmax record's partial."""
    loss = _loss_record(net)
    if loss is None or not loss.matched:
        return None
    output = record_of(loss.matched)
    if output.probability != "distribution" or output.partial_rule is None:
        return None
    zs = sp.symbols(f"z1:{K_SHOWN + 1}")
    p = sp.symbols(f"p1:{K_SHOWN + 1}")
    component = {output.cls(sp.Integer(k + 1), *zs): p[k] for k in range(K_SHOWN)}
    rows = []
    for k in range(K_SHOWN):
        f = output.cls(sp.Integer(k + 1), *zs)
        entries = [output.partial(f, j + 1).xreplace(component) for j in range(K_SHOWN)]
        rows.append(" & ".join(sp.latex(e).replace("p_{", "\\hat{y}_{") for e in entries))
    matrix = r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
    return {"matrix": matrix, "why": output.why, "K": K_SHOWN}


def _loss_record(net):
    if hasattr(net, "nodes"):  # per unit: the last node is the loss
        try:
            return record_of(type(net.nodes[-1].expr))
        except (ChainruleError, KeyError, TypeError, ValueError):
            return None
    return record_of(net.loss) if net.loss else None
