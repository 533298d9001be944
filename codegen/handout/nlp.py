"""The layer-level LaTeX handout of an NLP model: the one handout builder's, over the model's declaration.

``codegen.handout.builder.render`` of the model (``codegen.emit.nlp_module.model``): its
equations and every step of the reverse sweep through the lookup, the pooling
and the scatter-add (``derive.ops.text``), with the text model's own sections
(``codegen.handout.text``); golden copies live in ``docs/handouts/nlp/``
(``codegen.cli.cmd_nlp.regenerate``).
"""

from __future__ import annotations

from ..emit.nlp_module import model
from .builder import render as render_network


def render(name: str) -> str:
    """The handout of NLP model ``name``."""
    return render_network(model(name))
