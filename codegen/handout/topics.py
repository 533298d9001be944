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
from derive.ops.record import record_of

from ..emit.load import load_module
from . import document
from .convention import convention_section, convention_topic
from .document import Display, Picture, Row, Section, Table, Text

DEEP = 5  # hidden layers from which a chain gets the vanishing-gradients section


def topics(vn, vd, mp) -> dict:
    """Template data for each further topic the network contains (None or empty: no such section)."""
    deep = vn.chain and len(vn.activations) - 1 >= DEEP and bool(record_of(vn.hidden).depth_why)
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


def _contrast(rec):
    """The hidden activation a deep chain is measured against: one whose g' does not shrink (ReLU), or σ for ReLU."""
    from derive import functions as F

    return F.Sigmoid.record if rec is F.ReLU.record else F.ReLU.record


def _depth(vn, mp) -> dict:
    """‖dW_l‖ per layer at initialisation (seed 0, the module's demo data), measured by the generated module,
    for the network and for the same sizes with the other hidden activation (σ against ReLU)."""
    from derive import mlp

    other = _contrast(record_of(vn.hidden)).name
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
            {
                "g": line["g"],
                "points": " ".join(f"({i},{v:.4g})" for i, v in enumerate(line["values"], start=1)),
                "values": line["values"],
            }
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
    from derive.ops.activations.softmax_rows import SoftmaxRows

    a = next((a for a in vn.assignments if isinstance(a.value, Apply) and a.value.record.cls is SoftmaxRows), None)
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


# ------------------------------------------------------------------ the sections
def sections(found: dict, vn) -> list:
    """The further topics' sections (``document.Section``), in the order the handout takes them."""
    out = []
    if found["regularisation"]:
        out.append(_regularisation_section(found["regularisation"][0]))
    if found["dropout"]:
        out.append(_dropout_section(found["dropout"]))
    out += [_normalisation_section(n, i) for i, n in enumerate(found["normalisation"], start=1)]
    if found["depth"]:
        out.append(_depth_section(found["depth"]))
    if found["smoothing"]:
        out.append(_smoothing_section(found["smoothing"]))
    if found["attention"]:
        out.append(_attention_section(found["attention"]))
    if found["convention"]:
        out.append(convention_section(found["convention"]))
    return out


def _lines(texts: list[str], op: str = "") -> Display:
    """Display rows of whole lines (``W \\leftarrow …``), each in the right-hand column."""
    return Display([Row("", t, op=op) for t in texts])


def _regularisation_section(r: dict) -> Section:
    blocks = [
        Text(
            r"The cost has a penalty on the weights beside the data term, so each penalised weight is used twice, by"
            r" its layer and by the penalty, and its gradient is the sum of both terms (deeplearning.ai,"
            r" \emph{Improving Deep Neural Networks}, week~1; cs231n notes, ``Regularization'')."
        )
    ]
    if r["l2"]:
        blocks.append(Text(r"The L2 penalty $\frac{\lambda}{2m}\lVert W\rVert_F^2$ adds $\frac{\lambda}{m} W$."))
    if r["l1"]:
        blocks.append(
            Text(
                r"The L1 penalty $\frac{\lambda}{m}\lVert W\rVert_1$ adds $\frac{\lambda}{m} \operatorname{sign}(W)$."
                r" $|w|$ has no derivative at $w = 0$; the derivation uses the subgradient with"
                r" $\operatorname{sign}(0) = 0$ (as NumPy's \texttt{np.sign} and PyTorch do), so a weight at exactly"
                r" zero feels no pull from the penalty."
            )
        )
    if r["biases"]:
        blocks.append(
            Text(
                rf"The biases (${r['biases']}$) are not penalised: they do not appear in the penalty, so their gradients"
                r" are as without it."
            )
        )
    blocks.append(Text(r"Gradient descent with learning rate $\alpha$ then reads"))
    blocks.append(_lines([row["rule"] for row in r["rows"]]))
    if r["l2"]:
        blocks.append(
            Text(
                r"This is why L2 regularisation is also called \emph{weight decay}: before the usual step on the data"
                r" term, every weight is multiplied by $1 - \alpha\lambda/m$, a little less than one."
            )
        )
    if r["l1"]:
        blocks.append(
            Text(
                r"With L1, every non-zero weight moves a constant $\alpha\lambda/m$ towards zero at each step, whatever"
                r" its size, which drives many weights to exactly zero: L1 gives sparse weights, L2 small ones."
            )
        )
    return Section("regularisation", "Regularisation", blocks, label="sec:regularisation")


def _dropout_section(d: dict) -> Section:
    keep = d["keep"]
    train = Display([Row("", rf"{layer['train']} \quad\text{{(training)}}") for layer in d["layers"]])
    back = Display([Row("", layer["backward"]) for layer in d["layers"] if layer["backward"]])
    predict = Display([Row("", rf"{layer['predict']} \quad\text{{(prediction)}}") for layer in d["layers"]])
    blocks = [
        Text(
            rf"At every training step each hidden unit is kept with probability ${keep}$ and dropped otherwise"
            r" (Srivastava et al., 2014; deeplearning.ai course~2, week~1; cs231n notes, ``Dropout''). A fresh mask"
            rf" $D$ is drawn for every step, $D = \mathbf{{1}}[\text{{rand}} < {keep}]$ entry by entry, and the kept"
            rf" activations are divided by ${keep}$:"
        ),
        train,
        Text(
            r"The backward pass is derived like any product: the gradient goes back through the units that were kept,"
            rf" scaled by the same $1/{keep}$, and is zero through the dropped ones; it uses the mask of the same step."
            r" In code this is deeplearning.ai's \texttt{dA = dA * D / keep\_prob}:"
        ),
        back,
        Text(
            rf"Each entry of $D$ has expectation $\mathbb{{E}}[D] = {keep}$, so dividing by ${keep}$ during training"
            r" keeps the expected activation unchanged. At prediction no unit is dropped: $D$ is replaced by its"
            r" expectation, and the division cancels it,",
            lead="Why nothing is rescaled at test time.",
        ),
        predict,
        Text(
            r"so the network predicts with the same weights and no extra factor. (With the original, non-inverted"
            r" dropout, the activations would instead be multiplied by the keep probability at test time.) The"
            r" generated module draws the masks from a seed, \texttt{loss(params, X, Y, train=True, seed=S)}, and"
            r" \texttt{gradients(params, X, Y, seed=S)} is the gradient of exactly that cost; \texttt{forward} and"
            r" \texttt{predict} use no mask."
        ),
    ]
    return Section("dropout", "Inverted dropout", blocks, label="sec:dropout")


def _normalisation_section(n: dict, index: int) -> Section:
    equations = "), (".join(str(k) for k in n["forward"])
    if n["batch"]:
        opening = (
            r"Batch normalisation (Ioffe and Szegedy, 2015; cs231n assignment~2; deeplearning.ai course~2, week~3)"
            rf" standardises each unit over the $m$ examples of the batch, equations ({equations}): the mean"
            rf" ${n['mu']}$ and variance ${n['var']}$ are $n \times 1$, one per unit, and every example's ${n['Z']}$"
            r" depends on the whole batch through them."
        )
    elif n["positions"]:
        opening = (
            r"Layer normalisation (Ba, Kiros and Hinton, 2016) standardises each position (a row: rows are positions"
            rf" here) over its ${n['k']}$ features, equations ({equations}): the mean ${n['mu']}$ and variance"
            rf" ${n['var']}$ are $T \times 1$, one per position, and the sums of the derivation run along each row."
        )
    else:
        opening = (
            rf"Layer normalisation (Ba, Kiros and Hinton, 2016) standardises each example over its ${n['k']}$ units,"
            rf" equations ({equations}): the mean ${n['mu']}$ and variance ${n['var']}$ are $1 \times m$, one per"
            r" example. It is batch normalisation along the other axis, so the derivation is the same with the sums"
            r" over rows instead of columns."
        )
    Z, mu = n["Z"], n["mu"]
    blocks = [
        Text(opening),
        Text(
            r"The derivation in section~\ref{sec:steps} goes through the statistics step by step, the staged graph of"
            rf" cs231n's \texttt{{batchnorm\_backward}}: ${Z}$ is used twice (by ${mu}$ and by ${Z} - {mu}$), and"
            rf" ${Z} - {mu}$ twice again (by ${n['var']}$ and by ${n['Zhat']}$)."
        ),
        Display([Row(t["lhs"], t["rhs"]) for t in n["staged"]]),
        Text(
            r"Substituting the stages into each other gives the one-line form of cs231n's"
            rf" \texttt{{batchnorm\_backward\_alt}}, equation ({n['number']}):"
        ),
        Display(_after_rows(n["after"])),
    ]
    if n["params"]:
        blocks += [Text("with the gradients of the scale and shift"), _lines(n["params"])]
    if n["batch"]:
        blocks += [
            Text(
                r"Here $\mathrm{d}Q$ is the gradient of one example's loss, stacked in columns, as everywhere in this"
                r" handout; with cs231n's \texttt{dout}, the gradient of the mean loss, the $\frac{1}{m}$ of the"
                r" parameters' gradients is already inside \texttt{dout}."
            ),
            Text(
                r"A prediction must not depend on the other examples it happens to be batched with, so it uses running"
                r" averages of the statistics kept during training, updated after every step with momentum $0.9$:",
                lead="At prediction.",
            ),
            _lines(
                [
                    rf"\mathit{{running}}_{{\mu}} \leftarrow 0.9\, \mathit{{running}}_{{\mu}} + 0.1\, {mu}",
                    rf"\mathit{{running}}_{{\sigma^2}} \leftarrow 0.9\, \mathit{{running}}_{{\sigma^2}} + 0.1\, {n['var']}",
                ]
            ),
            Text(
                rf"The generated module keeps them in \texttt{{params}} as {n['running_tex']};"
                r" \texttt{loss(..., train=True)} and \texttt{gradients} use the batch's own statistics. The variance"
                r" here divides by $m$ (the biased estimate), as cs231n's and PyTorch's normalisation do; PyTorch's"
                rf" running variance instead averages the unbiased $\frac{{m}}{{m-1}}{n['var']}$, which matters only"
                r" for small batches."
            ),
        ]
    else:
        blocks.append(
            Text(
                r"The statistics belong to one example, so training and prediction compute the same thing and no"
                r" running averages are kept."
            )
        )
    title = "Batch normalisation" if n["batch"] else "Layer normalisation"
    return Section(f"norm{index}", title, blocks, label=f"sec:norm{index}")


def _after_rows(equation: str) -> list[Row]:
    lhs, rhs = equation.split(" = ", 1)
    return document.rows(lhs, rhs, document.LINE_WIDTH)


def _depth_section(d: dict) -> Section:
    activation = record_of(d["g"]).depth_why
    plot = [
        r"\begin{tikzpicture}",
        r"\begin{axis}[width=0.7\textwidth, height=5cm, ymode=log, xlabel={layer $l$}, "
        + r"ylabel={$\lVert \mathrm{d}W^{[l]} \rVert_F$},",
        rf"  xtick={{1,...,{d['layers']}}}, ymin={d['ymin']}, ymax={d['ymax']}, grid=major, legend pos=south east]",
    ]
    for i, line in enumerate(d["lines"]):
        style = "mark=*, thick" if i == 0 else "mark=o, thick, dashed"
        plot.append(rf"\addplot[{style}] coordinates {{ {line['points']} }};")
        plot.append(rf"\addlegendentry{{{line['g']} hidden layers}}")
    plot += [r"\end{axis}", r"\end{tikzpicture}"]
    values = [line["values"] for line in d["lines"]]
    table = Table(
        ["", *(f"{line['g']} hidden layers" for line in d["lines"])],
        [
            [
                rf"$\lVert {w} \rVert_F$",
                *(f"${number_latex(float(f'{line_values[i]:.3g}'))}$" for line_values in values),
            ]
            for i, (w, _) in enumerate(d["table"])
        ],
        "l" + "r" * len(d["lines"]),
    )
    blocks = [
        Text(
            r"The gradient of a hidden layer is the next layer's, pulled back through $W^\top$ and multiplied entry by"
            r" entry by the derivative of the activation, $\mathrm{d}Z^{[l]} = \big(W^{[l+1]\top} \mathrm{d}Z^{[l+1]}"
            rf"\big) \odot g'(Z^{{[l]}})$. Through {d['hidden']} hidden layers the gradient of the first layer"
            rf" carries a product of {d['hidden']} such factors (Nielsen, \emph{{Neural Networks and Deep Learning}},"
            r" ch.~5)."
        ),
        Text(activation),
        Text(
            r"The generated module measures the norms $\lVert \mathrm{d}W^{[l]} \rVert_F$ at initialisation"
            r" (\texttt{gradient\_norms(params, X, Y)}, seed~0, on its demo data), here and for the same network with"
            rf" {d['other']} hidden layers:"
        ),
        Picture("The norm of each layer's weight gradient at initialisation.", tikz="\n".join(plot), table=table),
        Text(
            rf"In this network the first layer's gradient is ${d['ratio']}$ times the last hidden layer's; with"
            rf" {d['other']} hidden layers it is ${d['other_ratio']}$ times."
        ),
    ]
    return Section("depth", "Vanishing gradients", blocks, label="sec:depth")


def _smoothing_section(q: dict) -> Section:
    blocks = [
        Text(
            r"The cross-entropy is taken against a smoothed target instead of the one-hot $Y$ (Szegedy et al., 2016):"
        ),
        Display(_after_rows(q["definition"])),
        Text(
            r"which moves $\varepsilon$ of each example's probability mass evenly over the $K$ classes (here"
            rf" $K = n_{{{q['K']}}}$). Each column of ${q['Q']}$ still sums to one, $(1 - \varepsilon) + K \cdot"
            r" \varepsilon/K = 1$, which is all the softmax and cross-entropy cancellation needs, so the output"
            r" layer's gradient keeps its simple form"
        ),
        Display(_after_rows(q["delta"])),
        Text(
            r"The network is pulled towards probabilities of $1 - \varepsilon + \varepsilon/K$ for the right class,"
            r" never all the way to one, which keeps its logits finite."
        ),
    ]
    return Section("smoothing", "Label smoothing", blocks, label="sec:smoothing")


def _attention_section(t: dict) -> Section:
    shapes = [cell for row in t["shapes"] for cell in row]
    table = Table(["quantity", "shape"], [[f"${n}$", f"${s}$"] for n, s in shapes], "cc")
    jacobian = (
        r"\begin{pmatrix} p_1(1 - p_1) & -p_1 p_2 & -p_1 p_3 \\ -p_2 p_1 & p_2(1 - p_2) & -p_2 p_3 \\"
        r" -p_3 p_1 & -p_3 p_2 & p_3(1 - p_3) \end{pmatrix}"
    )
    blocks = [
        Text(
            r"One sequence per call: the $m$ columns of the input and the target are the $T = m$ positions of one"
            r" text, and inside the attention the rows are positions (Vaswani et al., 2017; J\&M, chapter 9). The"
            r" shape of every quantity of the attention, with $T$ for $m$:"
        ),
        table,
        Text(
            rf"Row $i$ of ${t['P']}$ is the softmax of row $i$ of ${t['S']}$: $p = \operatorname{{softmax}}(s)$ with"
            r" $p_j = e^{s_j} / \sum_k e^{s_k}$, so $\partial p_j / \partial s_k = p_j(\delta_{jk} - p_k)$. For"
            r" $T = 3$ the Jacobian of one row, written out, is"
        ),
        Display([Row(r"\frac{\partial p}{\partial s}", rf"\operatorname{{diag}}(p) - p\,p^{{\top}} = {jacobian}")]),
        Text(rf"It is symmetric, so a row $g$ of ${t['dP']}$ pulls back to"),
        Display(
            [
                Row(
                    r"(\operatorname{diag}(p) - p\,p^{\top})\, g",
                    r"p \odot g - p\,(p^{\top} g) = p \odot \Bigl(g - \sum_j g_j p_j\Bigr)",
                )
            ]
        ),
        Text(f"and, with the rows stacked, to equation ({t['number']}):"),
        Display(_after_rows(t["backward"])),
    ]
    if t["masked"]:
        blocks += [
            Text(
                r"The causal mask sets the scores above the diagonal to $-\infty$ (position $i$ attends to $j \leq i$"
                r" only), so $p_j = 0$ for $j > i$: in row $i = 2$ of a $T = 3$ sequence, $p = (p_1, p_2, 0)$ and the"
                rf" third row and column of the Jacobian vanish. Hence ${t['dS']}$ is $0$ above the diagonal, and the"
                rf" mask, which would zero those entries, passes ${t['dS']}$ back unchanged:"
            ),
            Display([r for u in t["uses"] for r in _after_rows(u)]),
        ]
    return Section("attention", "Self-attention: the row-wise softmax", blocks, label="sec:attention")
