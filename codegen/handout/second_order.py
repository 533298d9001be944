"""The handout's second-order section, chosen by what the network contains.

* A network whose Hessian the engine writes as a matrix (every parameter a row or a number:
  logistic regression, ``derive.ir.hessian``): the R-operator's equations (Pearlmutter 1994),
  the Hessian's blocks read off them, CS229's form in both conventions (one example per
  column here, per row in CS229), why zᵀHz ≥ 0, and Newton's update.
* A softmax output with the cross-entropy (read from the records: the loss's ``matched``
  activation is a distribution): the Hessian of the loss with respect to the logits,
  ∂²L/∂z_j∂z_k = ∂ŷ_k/∂z_j from the softmax record's own partial, diag(ŷ) − ŷŷᵀ, written out
  for K = 3, with vᵀHv ≥ 0 (a variance) and H1 = 0.
"""

from __future__ import annotations

import sympy as sp

from derive import ChainruleError
from derive.ops import record_of

K_SHOWN = 3  # the logits' Hessian written out entry by entry for three classes


def section(original, scalar_net, printer, options) -> dict | None:
    """Template data (None: no second-order section). ``original`` is the declaration (a VecNetwork or a
    per-unit Network), ``scalar_net`` the per-unit network the handout writes out."""
    hessian = _hessian(original, printer, options) if not hasattr(original, "nodes") else None
    logits = _logits(original)
    if hessian is None and logits is None:
        return None
    return {"hessian": hessian, "logits": logits}


def _hessian(vn, printer, options) -> dict | None:
    from derive.ir.hessian import hessian

    from .batch import _equations

    d = vn.derive()
    try:
        h = hessian(d)
    except ChainruleError:
        return None
    _, mp = _equations(vn, d, printer, options)
    rop = h.rop
    X = vn.names("input")[0]
    A = vn.cost_operands[0]
    params = h.params
    first = params[0]
    s = rf"{mp.name(A)} \odot (1 - {mp.name(A)})"
    tangents = [
        {"lhs": rf"\mathcal{{R}}\{{{_bare(mp, e.target)}\}}", "rhs": _r_latex(mp, e.expr)} for e in rop.equations
    ]
    return {
        "directions": ", ".join(rf"V_{{{mp.name(p)}}}" for p in params),
        "tangents": tangents,
        "blocks": [
            {"lhs": rf"H_{{{mp.name(b.row)}{mp.name(b.col)}}}", "rhs": mp.doprint(b.expr)} for b in h.blocks.values()
        ],
        "first": mp.name(first),
        "X": mp.name(X),
        "A": mp.name(A),
        "s": s,
        "bias": len(params) > 1,
        "stacked": rf"\tilde{{{mp.name(X)}}}",
    }


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
