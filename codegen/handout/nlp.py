"""The layer-level LaTeX handout of an NLP model: the engine's equations, the steps that reach E, training.

Rendered from ``templates/nlp_handout.tex.jinja`` (LaTeX-safe delimiters, as
``codegen.handout.builder``) over the model's ``VecDerivation``: every equation and
step is the reverse sweep's (``derive.ir.backprop``) with the op table's
rules (``derive.ops.text`` for the lookup, the pooling and the scatter-add);
golden copies live in ``docs/handouts/nlp/`` (``codegen.cli.cmd_nlp.regenerate``).
"""

from __future__ import annotations

import sympy as sp

from derive.latex import equation_row, latex, name_latex
from derive.nlp.features import FEATURE_TEXT

from ..emit.nlp_module import model
from .builder import environment

POOLED = {
    "PoolMean": r"averaged (mean pooling over the words present)",
    "PoolMax": r"pooled by an element-wise maximum over the words present",
}


def _summary(net, d) -> str:
    task = net.text_task
    if task.sequence:
        unit = "character" if task.characters else "word"
        block = (
            r" The block adds the residual $H = X + O$, layer norm over each position's features and a two-layer"
            r" feedforward network with its own residual."
            if "Hhat" in net.matrices
            else ""
        )
        return (
            rf"One sequence per call: the $m = T$ columns are the positions of one running text ({unit} indices $W$,"
            rf" $1 \times T$, trained in windows of $T = {task.length}$). Inside the attention, rows are positions:"
            rf" $X = E_{{:,W}}^\top$ ($T \times d_m$, $d_m = {net.size(net.matrices['E'].shape[0])}$), one head"
            rf" ($d = {net.size(net.matrices['Wq'].shape[1])}$) with a causal mask, then a softmax over the"
            rf" vocabulary ($|V| = {net.size(net.matrices['E'].shape[1])}$) at every position, cross-entropy (the next"
            rf" {unit}).{block}"
        )
    if task.embedded:
        size = net.size(net.matrices["E"].shape[0])
        pooling = next((type(e.expr).__name__ for e in d.forward if type(e.expr).__name__ in POOLED), None)
        pooled = POOLED[pooling] if pooling else rf"concatenated into one vector of ${task.length}\cdot{size}$ rows"
        head = (
            rf"Inputs are word indices $W$, $n = {task.length}$ per column"
            + (", the $N-1$ previous words" if task.task == "lm" else ", padded with $0$ or truncated")
            + rf". The embedding matrix $E$ ($d \times |V|$, $d = {size}$, $|V| = {net.size(net.matrices['E'].shape[1])}$)"
            rf" is a parameter; the word vectors $E_{{:,W_t}}$ of each text, stacked ($\mathit{{Emb}}$), are {pooled}."
        )
    else:
        head = rf"Inputs are ${len(task.features)}$ hand features per text, the rows of $X$."
    hidden = [e for e in d.forward if e.kind == "activation"][:-1]
    layers = "".join(
        rf" Hidden layer {i}: ${net.size(e.shape[0])}$ units, $g = \mathrm{{{e.function}}}$."
        for i, e in enumerate(hidden, 1)
    )
    out = {
        "sentiment": r" Output: a softmax over negative/positive, cross-entropy.",
        "topic": r" Output: a softmax over $3$ topics, cross-entropy.",
        "lm": r" Output: a softmax over the vocabulary, cross-entropy (the next word).",
    }[task.task]
    if net.output == "sigmoid":
        out = r" Output: $\hat y = \sigma(z)$, binary cross-entropy."
    return head + layers + out


def _steps(d) -> list[str]:
    """The engine's chain-rule steps through the text ops (pooling, concatenation, lookup), in LaTeX."""
    text_ops = ("Embed", "PoolMean", "PoolMax", "Concat")
    out = []
    for step in d.steps:
        definition = getattr(step, "definition", None)
        if definition is None or not any(type(n).__name__ in text_ops for n in sp.preorder_traversal(definition)):
            continue
        out.append(
            rf"${name_latex(step.target, layers=True)} = {latex(step.expr, layers=True)}$"
            rf" (through ${name_latex(step.via, layers=True)} = {latex(definition, layers=True)}$): {step.latex}."
        )
    return out


def render(name: str) -> str:
    net = model(name)
    d = net.derive()
    task = net.text_task
    hyper = task.training
    data = {
        "sentiment": "data/sentiment/corpus.tsv (label)",
        "topic": "data/sentiment/corpus.tsv (topic)",
        "lm": "data/lm/corpus.txt",
    }
    name_tex = name.replace("_", r"\_")
    training = (
        rf"The generated module (\texttt{{chainrule nlp generate {name_tex}}}) trains by mini-batch gradient descent on "
        rf"\texttt{{{data[task.task]}}}: {hyper['epochs']} epochs, batches of {hyper['batch']}, learning rate {hyper['lr']}; "
        r"$\theta \leftarrow \theta - \alpha\, d\theta$ for every parameter"
        + (r"; $dE$ is non-zero only in the columns of the batch's words." if task.embedded else ".")
    )
    context = {
        "title": name.replace("_", r"\_"),
        "doc": net.doc.replace("&", r"\&").replace("_", r"\_").replace("ŷ", r"$\hat y$").replace("σ", r"$\sigma$"),
        "summary": _summary(net, d),
        "features": [
            (n.replace("x", "x_"), FEATURE_TEXT[n].replace('"', "``", 1).replace('"', "''", 1)) for n in task.features
        ],
        "example": name == "sentiment_features",
        "forward": [equation_row(e) for e in d.forward],
        "backward": [equation_row(e) for e in d.backward],
        "steps": _steps(d),
        "training": training,
    }
    return environment().get_template("nlp_handout.tex.jinja").render(**context)
