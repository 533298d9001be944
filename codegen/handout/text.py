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
    if task.task == "skipgram":
        return _skipgram_summary(net, task)
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


def _skipgram_summary(net, task) -> str:
    """word2vec (cs224n assignment 2): the pairs, the two matrices of vectors, the loss, and cs224n's answers."""
    inputs = net.names("input")
    center = net.matrices[inputs[0]]
    vectors = next(e.args[0] for e in _embeds(net) if e.args[1] == center)
    d, V = (net.size(x) for x in vectors.shape)
    head = (
        rf"Each column is one (center, outside) pair of the LM corpus: the outside word is within ${task.window}$ words"
        r" of the center word $c$. The center vectors $v_w$ are the columns of $V$, the outside vectors $u_w$ those"
        rf" of $U$ (both $d \times |V|$, $d = {d}$, $|V| = {V}$), and $v_c = V_{{:,c}}$ looks up the center word"
        r" (cs224n, assignment~2; Mikolov et al., 2013; J\&M, ch.~6)."
    )
    if len(inputs) == 1:
        body = (
            r" The scores $z = U^{\top} v_c$ of every word give $\hat y = \operatorname{softmax}(z) = P(O = \cdot \mid"
            r" C = c)$, and the loss is $J = -\log \hat y_o$, the cross-entropy against the one-hot outside word $y$."
            r" The derivation below is cs224n's: $\mathrm{d}z = \hat y - y$, so"
            r" $\partial J/\partial v_c = U(\hat y - y)$ and $\partial J/\partial U = v_c (\hat y - y)^{\top}$."
        )
    else:
        K = net.size(net.matrices[inputs[1]].shape[0]) - 1
        body = (
            rf" $O = [o; w_1; \dots; w_K]$ holds the outside word and $K = {K}$ negative samples drawn from"
            r" $P_n(w) \propto \mathrm{count}(w)^{3/4}$. One column of $U_O = U_{:,O}$ is the $d \times (K + 1)$ matrix"
            r" $[u_o\ u_{w_1} \dots u_{w_K}]$, so $s = U_O^{\top} v_c$ holds $u_o^{\top} v_c$ and every"
            r" $u_{w_k}^{\top} v_c$, $\hat y = \sigma(s)$, and the binary cross-entropy against $y = [1; 0; \dots; 0]$"
            r" is the negative-sampling loss $J = -\log \sigma(u_o^{\top} v_c) - \sum_{k=1}^{K} \log \sigma(-u_{w_k}^{\top}"
            r" v_c)$, since $1 - \sigma(x) = \sigma(-x)$. The derivation gives $\mathrm{d}s = \hat y - y$, that is"
            r" $\sigma(u_o^{\top} v_c) - 1 = -(1 - \sigma(u_o^{\top} v_c))$ for the outside word and"
            r" $\sigma(u_{w_k}^{\top} v_c) = 1 - \sigma(-u_{w_k}^{\top} v_c)$ for a sample; so cs224n's three answers are"
            r" $\partial J/\partial v_c = -(1 - \sigma(u_o^{\top} v_c))\, u_o + \sum_{k=1}^{K} (1 - \sigma(-u_{w_k}^{\top}"
            r" v_c))\, u_{w_k}$ (the equation for $\mathrm{d}v_c$), and $\partial J/\partial u_o = -(1 -"
            r" \sigma(u_o^{\top} v_c))\, v_c$ and $\partial J/\partial u_{w_k} = (1 - \sigma(-u_{w_k}^{\top} v_c))\, v_c$,"
            r" the columns of $\mathrm{d}U_O = v_c\, \mathrm{d}s^{\top}$. The scatter-add into $U$ adds the columns of a"
            r" word drawn twice: $\partial J/\partial u_{w} = \sum_{k:\, w_k = w} (1 - \sigma(-u_{w_k}^{\top} v_c))\, v_c$."
        )
    tail = (
        r" Skip-gram sums $J$ over the outside words of a center's window, so the cost sums the columns (no $1/m$),"
        r" and $\mathrm{d}V$ adds each pair's $\mathrm{d}v_c$ into the column of its center word: a center word"
        r" collects the terms of its whole window, every other column is $0$."
    )
    return head + body + tail


def _embeds(net):
    from derive.ops.text_nodes import Embed

    return [e for a in net.assignments for e in [a.value] if isinstance(e, Embed)]


DATA = {
    "sentiment": "data/sentiment/corpus.tsv (label)",
    "topic": "data/sentiment/corpus.tsv (topic)",
    "lm": "data/lm/corpus.txt",
    "skipgram": "data/lm/corpus.txt",
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
        + (r"; $\mathrm{d}E$ is non-zero only in the columns of the batch's words." if "E" in net.matrices else ".")
        + (
            r" Every pair is seen once per epoch"
            + ("; its negative samples are drawn afresh each epoch." if len(net.names("input")) > 1 else ".")
            + r" The module prints the nearest neighbours of a few words (the cosine similarity of the columns of $V$)"
            r" before and after training."
            if task.task == "skipgram"
            else ""
        )
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
