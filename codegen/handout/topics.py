"""The handout's sections on the training lecture's further topics, chosen by what the network contains.

* a penalty in the cost (‖W‖²_F, ‖W‖₁): regularisation, with the update in its
  weight-decay form (Ng, deeplearning.ai course 2, week 1; cs231n notes);
* a dropout mask: inverted dropout, and why nothing is rescaled at test time;
* a normalisation (batch or layer): its statistics, the staged derivation's
  one-line result, and what prediction uses;
* a deep chain of σ or ReLU layers: vanishing gradients, with ‖dW_l‖ per layer
  at initialisation measured by the generated module (a pgfplots plot);
* a smoothed target: label smoothing and its cancellation;
* a row-wise softmax (self-attention): the sequence layout, the shape of every attention quantity, and the
  row Jacobian diag(p) − p pᵀ written out before it simplifies to P ⊙ (dP − rowsum(dP ⊙ P)).
"""

from __future__ import annotations

import sympy as sp

from derive.ir.modes import prediction_program, running_name
from derive.ir.rewrites import NamedRewrite, find_normalisations
from derive.ops.nodes import FrobeniusSq, L1Norm

from ..emit.load import load_module
from .convention import convention_topic

DEEP = 5  # hidden layers from which a chain gets the vanishing-gradients section


def topics(vn, vd, mp) -> dict:
    """Template data for each further topic the network contains (None or empty: no such section)."""
    deep = vn.chain and len(vn.activations) - 1 >= DEEP and vn.hidden in ("sigmoid", "relu", "tanh")
    smoothed = vn.cost_operands and vn.kinds.get(vn.cost_operands[1]) == "node"
    return {
        "regularisation": _regularisation(vn, vd, mp),
        "dropout": _dropout(vn, vd, mp) if vn.masks else None,
        "normalisation": _normalisations(vn, vd, mp),
        "depth": _depth(vn, mp) if deep else None,
        "smoothing": _smoothing(vn, vd, mp) if smoothed else None,
        "attention": _attention(vn, vd, mp),
        "convention": convention_topic(vn, vd, mp),
    }


def _regularisation(vn, vd, mp) -> list[dict]:
    """Each penalised weight: its gradient's two terms and the update in weight-decay form."""
    rows = []
    for eq in vd.backward:
        if eq.kind != "sum":
            continue
        penalty = [t for t in eq.terms if t.via == "J"]
        data = [t for t in eq.terms if t.via != "J"]
        if len(penalty) != 1 or not data:
            continue
        W = eq.target[1:]
        term = penalty[0].expr
        scalar, factors = term.as_coeff_matrices() if isinstance(term, sp.MatMul) else (sp.S.One, [term])
        if len(factors) != 1:
            continue
        kind = "l2" if factors[0] == vn.matrices[W] else "l1"
        data_tex = " + ".join(mp.doprint(t.expr) for t in data)
        rate = mp.doprint(sp.Symbol("alpha") * scalar)
        if kind == "l2":
            update = rf"{mp.name(W)} \leftarrow \left(1 - {rate}\right) {mp.name(W)} - \alpha\, {data_tex}"
        else:
            update = (
                rf"{mp.name(W)} \leftarrow {mp.name(W)} - {rate}\, \operatorname{{sign}}({mp.name(W)})"
                rf" - \alpha\, {data_tex}"
            )
        rows.append({"kind": kind, "W": mp.name(W), "grad": mp.name(eq.target), "rule": update})
    norms = {type(n) for n in sp.preorder_traversal(vn.cost_expr) if isinstance(n, (FrobeniusSq, L1Norm))}
    biases = [mp.name(p) for p, (r, c) in vn.params() if c == 1 and all(r["W"] != mp.name(p) for r in rows)]
    return (
        [{"rows": rows, "l2": FrobeniusSq in norms, "l1": L1Norm in norms, "biases": ", ".join(biases)}] if rows else []
    )


def _dropout(vn, vd, mp) -> dict:
    prediction = dict(prediction_program(vn))
    layers = []
    for a in vn.assignments:
        masks = [d for d in vn.masks if d in {s.name for s in a.value.atoms(sp.MatrixSymbol)}]
        if not masks:
            continue
        D = masks[0]
        back = next((e for e in vd.backward if D in e.operands), None)
        layers.append(
            {
                "D": mp.name(D),
                "keep": mp.doprint(vn.masks[D]),
                "train": rf"{mp.name(a.name)} = {mp.doprint(a.value)}",
                "predict": rf"{mp.name(a.name)} = {mp.doprint(prediction[a.name])}",
                "backward": rf"{mp.name(back.target)} = {mp.doprint(back.expr)}" if back else "",
            }
        )
    keep = mp.doprint(next(iter(vn.masks.values())))
    return {"layers": layers, "keep": keep}


def _normalisations(vn, vd, mp) -> list[dict]:
    rewrites = {s.target: s for s in vd.steps if isinstance(s, NamedRewrite)}
    numbers = {e.target: e.number for e in vd.equations}
    out = []
    for norm in find_normalisations(vn):
        step = rewrites.get(f"d{norm.Z}")
        if step is None:
            continue
        scales = [
            e for e in vd.backward if e.target[1:] in vn.names("param") and norm.Zhat in e.operands and e.kind != "sum"
        ]
        out.append(
            {
                "batch": norm.axis == "columns" and norm.k == vn.m,
                "positions": norm.axis == "columns" and norm.k != vn.m,  # layer norm over a row's features
                "Z": mp.name(norm.Z),
                "mu": mp.name(norm.mu),
                "var": mp.name(norm.var),
                "Zhat": mp.name(norm.Zhat),
                "k": mp.doprint(norm.k),
                "forward": [numbers[q] for q in (norm.mu, norm.C, norm.var, norm.Zhat)],
                "staged": [{"lhs": t, "rhs": e} for t, e in ((mp.name(t), mp.doprint(e)) for t, e in step.staged)],
                "after": rf"{mp.name(step.target)} = {mp.doprint(step.after)}",
                "number": numbers[step.target],
                "params": [rf"{mp.name(e.target)} = {mp.doprint(e.expr)}" for e in scales],
                "running": [
                    (mp.name(q), rf"\mathit{{running\_{q}}}") for q in (norm.mu, norm.var) if q in vn.statistics
                ],
                "running_tex": ", ".join(
                    r"\texttt{" + running_name(q).replace("_", r"\_") + "}" for q in (norm.mu, norm.var)
                ),
            }
        )
    return out


def _depth(vn, mp) -> dict:
    """‖dW_l‖ per layer at initialisation (seed 0, the module's demo data), measured by the generated module,
    for the network and for the same sizes with the other hidden activation (σ against ReLU)."""
    from derive import mlp

    other = "relu" if vn.hidden != "relu" else "sigmoid"
    twin = mlp(f"{vn.name}_{other}", vn.sizes, hidden=other, output=vn.output, loss=vn.loss)
    modules = [load_module(net) for net in (vn, twin)]  # measured with the code users run
    X, Y = modules[0].demo_data(0)  # both on the same data
    weights = [p for p, (r, c) in vn.params() if c != 1]
    lines = []
    for net, module in zip((vn, twin), modules, strict=True):
        norms = module.gradient_norms(module.init_params(0), X, Y)
        lines.append({"g": net.hidden, "values": [norms[w] for w in weights]})
    own = lines[0]["values"]
    everything = [v for line in lines for v in line["values"]]
    return {
        "g": vn.hidden,
        "other": other,
        "layers": len(weights),
        "hidden": len(weights) - 1,
        "lines": [
            {"g": line["g"], "points": " ".join(f"({i},{v:.4g})" for i, v in enumerate(line["values"], start=1))}
            for line in lines
        ],
        "table": [(mp.name("d" + w), f"{v:.3g}") for w, v in zip(weights, own, strict=True)],
        "ratio": number_latex(float(f"{own[0] / own[-2]:.2g}")),
        "other_ratio": number_latex(float(f"{lines[1]['values'][0] / lines[1]['values'][-2]:.2g}")),
        "ymin": f"{min(everything) / 3:.2g}",
        "ymax": f"{max(everything) * 3:.2g}",
    }


def number_latex(value: float) -> str:
    """``10^{-5}`` for 1e-05, ``3.1 \\times 10^{-5}``, ``0.86`` for 0.86: a number as a handout writes it."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = rf"10^{{{int(exponent)}}}"
        return power if float(mantissa) == 1 else rf"{mantissa} \times {power}"
    return text.removesuffix(".0")


def _smoothing(vn, vd, mp) -> dict:
    Q = vn.cost_operands[1]
    Z = next(e for e in vd.backward if e.kind == "output_delta")
    return {
        "K": str(vn.matrices[Q].shape[0])[1:],
        "Q": mp.name(Q),
        "definition": rf"{mp.name(Q)} = {mp.doprint(vn.assignment(Q).value)}",
        "delta": rf"{mp.name(Z.target)} = {mp.doprint(Z.expr)}",
    }


def _attention(vn, vd, mp) -> dict | None:
    """The row softmax P = softmax_rows(S) of a self-attention program: its layout, shapes and backward."""
    from derive.ops import Apply

    a = next((a for a in vn.assignments if isinstance(a.value, Apply) and a.value.function == "softmax_rows"), None)
    if a is None:
        return None
    P, S = a.name, a.operands[0]
    by_target = {e.target: e for e in vd.equations}
    dS = by_target.get(f"d{S}")
    masked = type(vn.assignment(S).value).__name__ == "Causal" if vn.kinds.get(S) == "node" else False
    square = {e.target for e in vd.equations if vn.m in sp.sympify(e.shape[0]).free_symbols}
    shown = [
        e for e in vd.equations if e.target in square or (e.shape[1] != vn.m and e.target[1:] not in vn.names("param"))
    ]
    shown = [e for e in shown if e.target != "J"]

    def shape(e):
        return " \\times ".join(mp.doprint(sp.sympify(x).subs(vn.m, sp.Symbol("T"))) for x in e.shape)

    uses = [e for e in vd.backward if f"d{S}" in e.operands and e.target[1:] in vn.kinds]
    return {
        "P": mp.name(P),
        "S": mp.name(S),
        "dP": mp.name(f"d{P}"),
        "dS": mp.name(f"d{S}"),
        "masked": masked,
        "number": dS.number if dS else None,
        "backward": rf"{mp.name(dS.target)} = {mp.doprint(dS.expr)}" if dS else "",
        "shapes": [[(mp.name(e.target), shape(e)) for e in shown[i : i + 7]] for i in range(0, len(shown), 7)],
        "uses": [rf"{mp.name(e.target)} = {mp.doprint(e.expr)}" for e in uses],
    }
