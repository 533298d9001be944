"""What a text model's handout says besides its equations: the model in words, J&M's features, the training.

An NLP model (a ``VecNetwork`` with a ``text_task``, J&M ch. 7) gets the one
handout every matrix program gets (``handout_batch.tex.jinja``); this adds
its "The model" and "Training" sections (``text_topic``).
"""

from __future__ import annotations

import math

import sympy as sp

from derive.nlp.features import FEATURE_TEXT
from derive.ops.record import record_of

POOLED = {
    "PoolMean": r"averaged (mean pooling over the words present)",
    "PoolMax": r"pooled by an element-wise maximum over the words present",
}


def _summary(net, d) -> str:
    task = net.text_task
    if net.recurrence is not None:
        T = net.size(net.recurrence.T)
        reads = (
            "the next word at every step (the running text in windows of $T$ words)"
            if net.recurrence.is_step(net.cost_operands[0])
            else "a label from the last step (each text padded at the front with $0$, or its last $T$ words)"
        )
        return (
            rf"Inputs are word indices $W$, $T = {T}$ per column, one word per step: step $t$ reads word $t$'s vector"
            rf" $E_{{:,w_t}}$ ($d = {net.size(net.matrices['E'].shape[0])}$, $|V| = {net.size(net.matrices['E'].shape[1])}$)."
            rf" Output: {reads}."
        )
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
    if record_of(net.output).probability == "binary":
        out = r" Output: $\hat y = \sigma(z)$, binary cross-entropy."
    return head + layers + out


DATA = {
    "sentiment": "data/sentiment/corpus.tsv (label)",
    "topic": "data/sentiment/corpus.tsv (topic)",
    "lm": "data/lm/corpus.txt",
}


def text_topic(net, d, name: str) -> dict:
    """Template data of a text model's own sections: the model in words, the features, the training."""
    task = net.text_task
    hyper = task.training
    name_tex = name.replace("_", r"\_")
    training = (
        rf"The generated module (\texttt{{chainrule nlp generate}} \texttt{{{name_tex}}}) trains by mini-batch gradient descent on "
        rf"\texttt{{{DATA[task.task]}}}: {hyper['epochs']} epochs, batches of {hyper['batch']}, learning rate {hyper['lr']}"
        + (rf", gradients clipped to norm {hyper['clip']}" if "clip" in hyper else "")
        + r"; $\theta \leftarrow \theta - \alpha\, \mathrm{d}\theta$ for every parameter"
        + (r"; $\mathrm{d}E$ is non-zero only in the columns of the batch's words." if task.embedded else ".")
    )
    return {
        "summary": _summary(net, d),
        "features": [
            (n.replace("x", "x_"), FEATURE_TEXT[n].replace('"', "``", 1).replace('"', "''", 1)) for n in task.features
        ],
        "example": task.example,
        "training": training,
    }


def _worked_example(ex) -> list:
    """A features model's example, worked through: x, w, z = w·x + b and P(+) = σ(z), computed here."""
    from .document import Display, Row, Text

    def value(v) -> str:
        v = sp.sympify(v)
        if v.is_Integer:
            return sp.latex(v)
        shown = rf"\ln {v.args[0]}" if isinstance(v, sp.log) and v.args[0].is_Integer else sp.latex(v, ln_notation=True)
        return rf"{shown} = {float(v):.2f}"

    z = sum(float(w) * float(x) for w, x in zip(ex.weights, ex.features, strict=True)) + float(ex.bias)
    p = 1.0 / (1.0 + math.exp(-z))
    xs = ", ".join(value(x) for x in ex.features)
    ws = ", ".join(f"{float(w):.1f}" for w in ex.weights)
    return [
        Text(rf"{ex.source} gives $x$; with their weights $w$ and $b = {float(ex.bias):g}$,"),
        Display(
            [
                Row("x", rf"[{xs}], \qquad w = [{ws}]"),
                Row("z", rf"w \cdot x + b = {z:.3f}, \qquad P(+) = \sigma({z:.3f}) = {p:.2f}"),
            ]
        ),
    ]


def model_section(net, d):
    """Section "The model" of a text model (``document.Section``): the model in words, J&M's features."""
    from .document import Section, Table, Text

    t = text_topic(net, d, net.name)
    blocks = [Text(t["summary"])]
    if t["features"]:
        blocks.append(
            Text(
                r"The six features (J\&M, chapters 5 and 7), computed from the raw text with the lexicon"
                r" \texttt{data/\allowbreak sentiment/\allowbreak lexicon.txt}:"
            )
        )
        blocks.append(Table(["feature", "meaning"], [[f"${n}$", meaning] for n, meaning in t["features"]], "ll"))
        if t["example"] is not None:
            blocks += _worked_example(t["example"])
    return Section("model", "The model", blocks, label="sec:model")


def training_section(net, d):
    """Section "Training" of a text model: how the generated module trains."""
    from .document import Section, Text

    return Section("training", "Training", [Text(text_topic(net, d, net.name)["training"])], label="sec:training")
