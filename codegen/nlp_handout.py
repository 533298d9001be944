"""The layer-level LaTeX handout of an NLP model: its equations, the gradient reaching E, how it trains.

Rendered from ``templates/nlp_handout.tex.jinja`` (LaTeX-safe delimiters, as
``codegen.handout``) over ``derive.nlp.equations``; golden copies live in
``docs/handouts/nlp/`` (``codegen.cmd_nlp.regenerate``).
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.nlp.equations import backward, embedding_steps, forward
from derive.nlp.features import FEATURE_TEXT

from .handout import environment
from .nlp_module import model

SHAPE_TEX = str.maketrans({"×": r"\times ", "·": r"\cdot ", "|": "|"})


@dataclass(frozen=True)
class Line:
    number: str
    latex: str
    shape_tex: str


def _shape(shape: str) -> str:
    main, _, note = shape.partition(" (")
    tex = "$" + main.translate(SHAPE_TEX).replace("n0", "n_0").replace("n1", "n_1").replace("n2", "n_2") + "$"
    return tex + (f" ({note.rstrip(')')})" if note else "")


def _summary(m) -> str:
    if m.embedded:
        w = m.inputs
        pooled = {
            "mean": r"averaged (mean pooling over the words present)",
            "max": r"pooled by an element-wise maximum over the words present",
            "concat": rf"concatenated into one vector of ${w.length}\cdot{w.dim}$ rows",
        }[w.pooling]
        head = (
            rf"Inputs are word indices $w_1, \dots, w_n$ ($n = {w.length}$"
            + (", the $N-1$ previous words" if m.task == "lm" else ", padded with zero vectors or truncated")
            + rf"). The embedding matrix $E$ ($d \times |V|$, $d = {w.dim}$) is a parameter; the word vectors "
            rf"$e_t = E_{{:,w_t}}$ are {pooled}."
        )
    else:
        head = rf"Inputs are ${m.inputs.size}$ hand features per text, the rows of $X$."
    layers = "".join(
        rf" Hidden layer {i}: ${layer.size}$ units, $g = \mathrm{{{layer.activation}}}$."
        for i, layer in enumerate(m.hidden, 1)
    )
    out = (
        r" Output: $\hat y = \sigma(z)$, binary cross-entropy."
        if m.binary
        else (
            r" Output: a softmax over the vocabulary, cross-entropy (the next word)."
            if m.classes == "vocab"
            else rf" Output: a softmax over ${m.classes}$ classes, cross-entropy."
        )
    )
    return head + layers + out


def render(name: str) -> str:
    m = model(name)
    lines = lambda eqs: [Line(e.number, e.latex, _shape(e.shape)) for e in eqs]
    hyper = m.training
    data = {
        "sentiment": "data/sentiment/corpus.tsv (label)",
        "topic": "data/sentiment/corpus.tsv (topic)",
        "lm": "data/lm/corpus.txt",
    }
    name_tex = name.replace("_", r"\_")
    training = (
        rf"The generated module (\texttt{{chainrule nlp generate {name_tex}}}) trains by mini-batch gradient descent on "
        rf"\texttt{{{data[m.task]}}}: {hyper['epochs']} epochs, batches of {hyper['batch']}, learning rate {hyper['lr']}; "
        r"$\theta \leftarrow \theta - \alpha\, d\theta$ for every parameter"
        + (r", $E$ only in the columns of the batch's words." if m.embedded else ".")
    )
    context = {
        "title": name.replace("_", r"\_"),
        "doc": m.doc.replace("&", r"\&").replace("_", r"\_").replace("ŷ", r"$\hat y$").replace("σ", r"$\sigma$"),
        "summary": _summary(m),
        "features": [
            (n.replace("x", "x_"), FEATURE_TEXT[n].replace('"', "``", 1).replace('"', "''", 1)) for n in m.inputs.names
        ]
        if not m.embedded
        else [],
        "example": name == "sentiment_features",
        "forward": lines(forward(m)),
        "backward": lines(backward(m)),
        "steps": [step.latex for step in embedding_steps(m)],
        "training": training,
    }
    return environment().get_template("nlp_handout.tex.jinja").render(**context)
