"""``<out>/index.html``: one page that links everything ``chainrule demo`` wrote, with a line on what each is.

Links are relative (the folder can be moved or served as it is) and only to files that exist; a form a
network has no file of says why (a network with nothing to train has no module).
"""

from __future__ import annotations

import os
from urllib.parse import quote

import jinja2

from derive.catalogue import describe

from ..emit.files import write_atomic
from .cmd_generate import why_no_module

INDEX = "index.html"

# (column, its links: (label, file under <out>), what they are): the table's columns and the legend
COLUMNS = [
    ("derivation", [("text", "{name}/derivation.txt")], "every gradient, step by step, checked by central differences"),
    (
        "handout",
        [("PDF", "{name}/handout.pdf"), ("LaTeX", "{name}/handout.tex")],
        "the derivation worked by hand at an example, typeset (PDF) and as LaTeX to edit",
    ),
    ("HTML", [("page", "{name}/handout.html")], "the same handout as one web page (maths in MathML, figures in SVG)"),
    (
        "slides",
        [("PDF", "{name}/slides.pdf"), ("LaTeX", "{name}/slides.tex")],
        "Beamer slides: the backward pass one chain-rule step per overlay",
    ),
    (
        "notebook",
        [("ipynb", "{name}/handout.ipynb")],
        "a Jupyter notebook: the handout, the module and a gradient check",
    ),
    (
        "module",
        [("module", "generated/{name}.py"), ("tests", "generated/test_{name}.py")],
        "the NumPy training module (run it: it trains on its demo data) and its pytest file",
    ),
]
NOT_WRITTEN = "not written (see the demo's output)"


def write_index(out: str, networks: list[dict], sheets: dict[str, str], nlp_models: list[str]) -> str:
    """Write ``<out>/index.html``; its path.  ``networks``: one dict per catalogue network with ``name``,
    ``params`` and ``worst`` (the demo's gradient check); ``sheets``: claim sheet -> what it holds;
    ``nlp_models``: the NLP models trained."""

    def link(relative: str) -> str | None:
        return quote(relative) if os.path.isfile(os.path.join(out, relative)) else None

    rows = []
    missing: dict[str, list[str]] = {}  # why a form is missing -> the networks
    for net in networks:
        name = net["name"]
        cells = []
        for column, files, _ in COLUMNS:
            links = [(label, link(pattern.format(name=name))) for label, pattern in files]
            links = [(label, href) for label, href in links if href]
            why = ""
            if not links and column == "module":
                reason = why_no_module(name)
                why = f"no training module: {reason}" if reason else NOT_WRITTEN
            elif not links:
                why = NOT_WRITTEN
            cells.append({"links": links, "why": why})
        rows.append({**net, "description": describe(name), "cells": cells})
        for cell in cells:
            if cell["why"] and name not in missing.setdefault(cell["why"], []):
                missing[cell["why"]].append(name)
    claim_rows = [
        {"sheet": sheet, "what": what, "href": link(f"verify/sheets/{sheet}"), "table": link(f"verify/{sheet}")}
        for sheet, what in sheets.items()
    ]
    nlp_rows = [
        {
            "name": model,
            "module": link(f"nlp/{model}.py"),
            "explanation": link(f"nlp/{model}.txt"),
            "handout": link(f"nlp/{model}.tex"),
        }
        for model in nlp_models
    ]
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("codegen", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    page = environment.get_template("demo_index.html.jinja").render(
        columns=[{"title": c, "what": what} for c, _, what in COLUMNS],
        rows=rows,
        missing=missing,
        claims=claim_rows,
        nlp=nlp_rows,
        report=link("nlp/report.txt"),
        data=link("data/README.md") or (quote("data/") if os.path.isdir(os.path.join(out, "data")) else None),
    )
    path = os.path.join(out, INDEX)
    write_atomic(path, page)
    return path
