"""Emit the NumPy training module of an NLP model from its layer-level declaration.

``module_text(name)`` renders ``templates/nlp_module.py.jinja`` over the
forward and backward equations of ``derive.nlp.equations`` (each equation's
NumPy statements come from its kind's line in ``KINDS``); the output is
formatted by ruff and stamped with its hash (``codegen.numpy_module``), and
is byte-identical for the same declaration.  ``test_text`` renders its tests.
"""

from __future__ import annotations

import importlib
import re

import jinja2

from derive import ChainruleError
from derive.nlp.equations import backward, embedding_steps, forward
from derive.nlp.model import TextModel

from .numpy_module import inert, ruff_format, stamp

# Generated module name -> (catalogue module, keyword arguments of its model()).
MODULES = {
    "sentiment_features": ("sentiment_features", {}),
    "sentiment_features_2layer": ("sentiment_features_2layer", {}),
    "embedding_classifier": ("embedding_classifier", {}),
    "embedding_classifier_max": ("embedding_classifier", {"pooling": "max"}),
    "embedding_classifier_concat": ("embedding_classifier", {"pooling": "concat"}),
    "embedding_classifier_sentiment": ("embedding_classifier", {"task": "sentiment"}),
    "ffnn_lm": ("ffnn_lm", {}),
}

CLASS_NAMES = {"topic": ("film", "food", "gadget"), "sentiment": ("negative", "positive")}
TEST_EPOCHS = {"sentiment": 100, "topic": 10, "lm": 5}  # short training in the generated tests

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("codegen", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["inert"] = inert


def names() -> list[str]:
    return sorted(MODULES)


def model(name: str) -> TextModel:
    """The layer-level declaration behind generated module ``name``."""
    if name not in MODULES:
        raise ChainruleError(f"unknown NLP model '{name}' (known: {', '.join(names())})")
    source, kwargs = MODULES[name]
    return importlib.import_module(f"derive.catalogue.{source}").model(**kwargs)


def _tuple(names_: list[str], mapping: str) -> tuple[str, str]:
    left = ", ".join(names_)
    right = ", ".join(f'{mapping}["{n}"]' for n in names_)
    return left, right


def context(name: str) -> dict:
    m = model(name)
    fwd, bwd = forward(m), backward(m)
    L = m.layers
    params = m.params()
    cache = [eq.target for eq in fwd if not eq.kind.startswith("loss")]
    if m.embedded and m.inputs.pooling == "max":
        cache.insert(cache.index("X"), "arg")
    sizes = ["V" if s is None else str(s) for s in m.sizes(None if m.classes != "vocab" else 0)]
    if m.classes == "vocab":
        sizes[-1] = "V"
    shapes = {}
    if m.embedded:
        shapes["E"] = f"({m.inputs.dim}, V)"
    for layer in range(1, L + 1):
        shapes[f"W{layer}"] = f"({sizes[layer]}, {sizes[layer - 1]})"
        shapes[f"b{layer}"] = f"({sizes[layer]}, 1)"
    unpack_params, unpack_params_values = _tuple(params, "params")
    used = [p for p in params if any(p in eq.operands for eq in bwd)]
    unpack_bparams, unpack_bparams_values = _tuple(used, "params")
    needed = sorted(
        {op for eq in bwd for op in eq.operands} & (set(cache) - ({"X"} if not m.embedded else set())), key=cache.index
    )
    unpack_cache, unpack_cache_values = _tuple(needed, "cache")
    grads = {p: f"d{p}" for p in params}
    report = {
        "sentiment": "the held-out accuracy of the sentiment (negative, positive)",
        "topic": "the held-out accuracy of the topic (film, food, gadget)",
        "lm": "held-out perplexity before and after training, against the uniform and unigram models, and samples",
    }[m.task]
    ctx = {
        "name": name,
        "source": MODULES[name][0],
        "doc": m.doc,
        "task": m.task,
        "report_what": report,
        "forward": fwd,
        "backward": bwd,
        "loss_eq": fwd[-1],
        "embedding_steps": [step.text for step in embedding_steps(m)],
        "embedded": m.embedded,
        "binary": m.binary,
        "L": L,
        "activations": sorted({m.activation(layer) for layer in range(1, L + 1)}),
        "hyper": repr(dict(sorted(m.training.items()))),
        "shapes": "{" + ", ".join(f'"{k}": {v}' for k, v in shapes.items()) + "}",
        "unpack_params": unpack_params,
        "unpack_params_values": unpack_params_values,
        "unpack_bparams": unpack_bparams,
        "unpack_bparams_values": unpack_bparams_values,
        "unpack_cache": unpack_cache,
        "unpack_cache_values": unpack_cache_values,
        "cache_dict": "{" + ", ".join(f'"{n}": {n}' for n in cache) + "}",
        "grads_dict": "{" + ", ".join(f'"{p}": {g}' for p, g in grads.items()) + "}",
    }
    if m.embedded:
        ctx.update(dim=m.inputs.dim, length=m.inputs.length, pooling=m.inputs.pooling)
        ctx.update(forward_batch=_batch_fields(fwd), backward_batch=_batch_fields(bwd, always=("ids",)))
        ctx["class_names"] = repr(CLASS_NAMES.get(m.task))
    return ctx


def _batch_fields(equations, always=()) -> str:
    """``ids, mask = batch["ids"], batch["mask"]``: the fields of a word batch the equations' NumPy reads."""
    code = "\n".join(line for eq in equations for line in eq.numpy)
    used = [f for f in ("ids", "mask", "lengths") if f in always or re.search(rf"\b{f}\b", code)]
    return _tuple(used, "batch")[0] + " = " + _tuple(used, "batch")[1]


def module_text(name: str) -> str:
    """The generated training module of NLP model ``name``: formatted by ruff, stamped with its hash."""
    text = _ENV.get_template("nlp_module.py.jinja").render(**context(name))
    return stamp(ruff_format(text, f"NLP model '{name}'"))


def test_text(name: str, module: str) -> str:
    """The pytest file for the module of ``name`` saved as ``module``.py beside it."""
    m = model(name)
    text = _ENV.get_template("nlp_test_module.py.jinja").render(
        module=module,
        embedded=m.embedded,
        pooling=m.inputs.pooling if m.embedded else "",
        task=m.task,
        params=repr(m.params()),
        test_epochs=TEST_EPOCHS[m.task],
        binary=m.binary,
        chance=0.6,
    )
    return stamp(ruff_format(text, f"NLP model '{name}'"))
