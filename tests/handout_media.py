"""Every catalogue network's handout in every medium, rendered once per test session and shared by the tests.

``tex(name)``, ``html(name)``, ``slides(name)`` and ``notebook(name)`` are the
texts ``chainrule handout`` writes (default options); ``matrix(name)`` says
whether the network is a matrix program (its handout is ``matrix.context``'s).
"""

from __future__ import annotations

import functools

from codegen.handout import html as handout_html
from codegen.handout import notebook as handout_notebook
from codegen.handout import slides as handout_slides
from codegen.handout.builder import render
from derive.catalogue import load


@functools.cache
def tex(name: str) -> str:
    return render(load(name))


@functools.cache
def html(name: str) -> str:
    return handout_html.render(load(name))


@functools.cache
def slides(name: str) -> str:
    return handout_slides.render(load(name))


@functools.cache
def notebook(name: str) -> str:
    return handout_notebook.render(load(name), spec=name)


def matrix(name: str) -> bool:
    return not hasattr(load(name), "nodes")
