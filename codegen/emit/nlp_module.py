"""The NLP models' training modules: the layer-module emitter plus a data section.

An NLP model is a ``VecNetwork`` over the op table (``derive.catalogue``'s
``model()``); its module is the one every layer network gets
(``codegen.emit.numpy_layers``, ``templates/train_module.py.jinja``: ``init_params,
forward, loss, gradients, update, train, predict, accuracy, save, load,
demo_data``), with ``templates/text_data.py.jinja`` in place of the synthetic
demo: reading the shipped corpus (features, word indices or LM windows),
``load_data``, ``demo_data`` drawn from it, the LM's perplexity and samples,
and a ``main`` that trains with the model's defaults.
"""

from __future__ import annotations

import importlib

from derive import ChainruleError
from derive.names import did_you_mean
from derive.nlp.task import CLASS_NAMES

from .numpy_layers import layers_context
from .numpy_module import _environment
from .numpy_module import module_text as render_module
from .numpy_module import test_text as render_test

# Generated module name -> (catalogue module, keyword arguments of its model()).
MODULES = {
    "sentiment_features": ("sentiment_features", {}),
    "sentiment_features_2layer": ("sentiment_features_2layer", {}),
    "embedding_classifier": ("embedding_classifier", {}),
    "embedding_classifier_max": ("embedding_classifier", {"pooling": "max"}),
    "embedding_classifier_concat": ("embedding_classifier", {"pooling": "concat"}),
    "embedding_classifier_sentiment": ("embedding_classifier", {"task": "sentiment"}),
    "ffnn_lm": ("ffnn_lm", {}),
    "word2vec_softmax": ("word2vec_softmax", {}),
    "word2vec_negative": ("word2vec_negative", {}),
    "self_attention": ("self_attention", {}),
    "elman_rnn": ("elman_rnn", {}),
    "lstm_cell": ("lstm_cell", {}),
    "gru_sentiment": ("gru", {"inputs": "words"}),
    "gru_d2l_sentiment": ("gru_d2l", {"inputs": "words"}),
    "rnn_lm": ("rnn_lm", {}),
    "transformer_block": ("transformer_block", {}),
}
DEMO_M = 256  # demo_data's examples, drawn from the shipped training data
CHECK_M = 8  # examples in the generated gradient checks
REPORT = {
    "sentiment": "the held-out accuracy of the sentiment (negative, positive)",
    "topic": "the held-out accuracy of the topic (film, food, gadget)",
    "lm": "held-out perplexity before and after training, against the uniform and unigram models, and samples",
    "skipgram": "the held-out loss per pair and the words' nearest neighbours, before and after training",
}


def names() -> list[str]:
    return sorted(MODULES)


def handout_names() -> list[str]:
    """The models with a layer-level NLP handout (docs/handouts/nlp/); a recurrence has the catalogue's
    handout instead (its unrolled graph and backpropagation through time: ``chainrule handout NAME``)."""
    return [n for n in names() if model(n).recurrence is None]


def model(name: str):
    """The layer-level declaration (a ``VecNetwork`` with its ``text_task``) behind generated module ``name``."""
    if name not in MODULES:
        raise ChainruleError(f"unknown NLP model '{name}'{did_you_mean(name, names())} (known: {', '.join(names())})")
    source, kwargs = MODULES[name]
    return importlib.import_module(f"derive.catalogue.{source}").model(**kwargs)


def _demo_y(ctx: dict, sequence_targets: bool, unit: str) -> str:
    """What ``demo_data`` returns as Y, as the module's docstring says it."""
    if sequence_targets:
        return f"Y the next {unit} at every step (T×m {unit} indices, like X)"
    if ctx["task"] == "multiclass":
        return f"Y one-hot columns ({ctx['n_targets']}×m)"
    if ctx["task"] == "binary" and ctx["n_targets"] == 1:
        return "Y the labels 0/1 as one row (1×m)"
    return f"Y {ctx['n_targets']}×m"


def context(name: str) -> dict:
    """The module context of generated NLP module ``name`` (a catalogue model or one of its variants)."""
    return context_of(model(name), name)


def context_of(net, source: str) -> dict:
    """The module context of a declaration with a text task (``with_task``): the layer module with the task's
    data section; ``source`` names it as ``chainrule generate`` was told."""
    name = net.name if source.endswith(".py") else source  # a spec file's network, or the catalogue's module name
    task = net.text_task
    ctx = layers_context(net, source)
    if task.task == "skipgram":
        return _skipgram_context(net, name, task, ctx)
    for param in ctx["params"]:
        if param.init == "small":  # every weight matrix Xavier, the output's too (as these models always were)
            param.init, param.why = "xavier", param.why.replace("N(0, 0.01²)", "Xavier: N(0, 1/fan-in)")
    sequence_targets = net.recurrence is not None and net.recurrence.is_step(net.cost_operands[0])
    text = (
        _environment()
        .get_template("text_data.py.jinja")
        .render(
            name=name,
            demo_y=_demo_y(ctx, sequence_targets, "character" if task.characters else "word"),
            task=task.task,
            embedded=task.embedded,
            length=task.length,
            sequence=task.sequence,
            sequence_targets=sequence_targets,
            lm_output=net.cost_operands[0],
            characters=task.characters,
            hyper=repr(dict(sorted(task.training.items()))),
            class_names=repr(CLASS_NAMES.get(task.task)),
            report_what=REPORT[task.task],
            demo_m=DEMO_M,
            pad_front=net.recurrence is not None,
        )
    )
    stdlib = ["import argparse"]
    if task.task == "lm" or not task.embedded:
        stdlib.append("import math")
    if task.task != "lm":
        stdlib.append("import re")
    stdlib += ([] if task.characters else ["from collections import Counter"]) + ["from pathlib import Path"]
    data = {"lm": "lm/corpus.txt (training) and lm/heldout.txt", "sentiment": "sentiment/corpus.tsv (label)"}
    data["topic"] = "sentiment/corpus.tsv (topic)"
    what = (
        "X holds word indices into the vocabulary (0: padding), one text per column"
        if task.embedded
        else "X holds J&M's six hand features x1..x6, one text per column"
    )
    if task.sequence:
        unit = "character" if task.characters else "word"
        what = (
            f"Sequence layout: one sequence per call. The argument X (1×T; W in the equations) holds the {unit}"
            f"\nindices of T consecutive positions of a running text, Y the next {unit} at each position: the m = T"
            "\ncolumns are positions, and position t attends to positions 1…t only (the causal mask). Inside the"
            "\nattention rows are positions: X = E[:, W]ᵀ is T×dm, Q, K, V and O are T×d, S and P are T×T"
        )
    ctx.update(
        text=text.strip(),
        imports=[*stdlib, "", *[i for i in ctx["imports"] if i not in stdlib]],
        text_doc=(
            f"{what}.\n\n    python3 {name}.py [--data DIR] [--epochs N] [--lr LR] [--seed S]\n\n"
            f"trains on the data shipped with chainrule ({data[task.task]}; see `data_folder`)\n"
            f"with the defaults HYPER and reports {REPORT[task.task]}.\n"
            "`load_data()` gives ((X, Y) training, (X, Y) held out, "
            + ("the lexicon)" if not task.embedded else "the vocabulary)")
            + (
                f"; `demo_data(seed)` {DEMO_M} consecutive training positions from a random start (one sequence)."
                if task.sequence
                else f"; `demo_data(seed)` {DEMO_M} training examples drawn at random."
            )
        ),
    )
    return ctx


def _skipgram_context(net, name: str, task, ctx: dict) -> dict:
    """word2vec's data section (``templates/word2vec_data.py.jinja``): the (center, outside) pairs of the LM corpus,
    negative samples when the declaration reads them (a second word-index input: the outside word, then K samples)."""
    inputs = net.names("input")
    negatives = net.size(net.matrices[inputs[1]].shape[0]) - 1 if len(inputs) > 1 else 0
    for param in ctx["params"]:
        if param.init == "small":  # cs224n starts the outside vectors at 0; a small draw breaks the tie as well
            param.why = param.why.replace("weight in", "word vectors of")
    text = (
        _environment()
        .get_template("word2vec_data.py.jinja")
        .render(
            name=name,
            hyper=repr(dict(sorted(task.training.items()))),
            window=task.window,
            negatives=negatives,
            report_what=REPORT[task.task],
            demo_m=DEMO_M,
        )
    )
    layout = (
        f"X holds the word indices [c; o; w_1; …; w_{negatives}] of each pair, one pair per column: the center word,"
        f"\nthe outside word and its {negatives} negative samples; Y its labels [1; 0; …; 0]"
        if negatives
        else "X holds the center word of each (center, outside) pair, one pair per column (1×m); Y the outside word"
    )
    stdlib = ["import argparse", "from collections import Counter", "from pathlib import Path"]
    ctx.update(
        text=text.strip(),
        imports=[*stdlib, "", *[i for i in ctx["imports"] if i not in stdlib]],
        text_doc=(
            f"{layout}.\nJ sums the pairs' losses: skip-gram sums over the outside words of a center's window"
            f" (WINDOW = {task.window}).\n\n    python3 {name}.py [--data DIR] [--epochs N] [--lr LR] [--seed S]\n\n"
            "trains on the data shipped with chainrule (lm/corpus.txt, held out lm/heldout.txt; see `data_folder`)\n"
            f"with the defaults HYPER and reports {REPORT[task.task]}.\n"
            "`load_data()` gives ((X, Y) training, (X, Y) held out, the vocabulary); `train_word_vectors` trains"
            + (" with fresh\nnegative samples every epoch" if negatives else "")
            + f"; `neighbours(params, vocab, word)`; `demo_data(seed)` {DEMO_M} training pairs drawn at random."
        ),
    )
    return ctx


def module_text(name: str) -> str:
    """The generated training module of NLP model ``name``: formatted by ruff, stamped with its hash."""
    return render_module(context(name), f"NLP model '{name}'")


def test_text(name: str, module: str) -> str:
    """The pytest file for the module of ``name`` saved as ``module``.py beside it."""
    return render_test(module, CHECK_M, 0, f"NLP model '{name}'", context(name))
