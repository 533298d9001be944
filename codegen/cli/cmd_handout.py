"""``chainrule handout SPEC -o NAME.tex [--pdf]``: a LaTeX derivation handout.

Also the handouts' part of ``chainrule demo`` (``demo``) and their golden
files in ``docs/handouts/`` (``regenerate``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from operator import itemgetter
from pathlib import Path

from derive import ChainruleError
from derive.catalogue import load, load_spec, names

from ..emit.files import (
    check_overwrite,
    check_pdf_overwrite,
    check_writable,
    read_text,
    sha256,
    stamp,
    stamped_pdf,
    write_all_atomic,
    write_atomic,
)
from ..handout import html as handout_html
from ..handout import latex_build
from ..handout import notebook as handout_notebook
from ..handout import slides as handout_slides
from ..handout.builder import OPTIMIZERS, SECTIONS, HandoutOptions, render
from ..render.latex_printer import DIGITS
from . import demo_plan, jsonout
from .report import announce_size, status

GOLDEN_DIR = Path("docs") / "handouts"
FORMATS = (".tex", ".html", ".ipynb")


OUTPUTS = """outputs, chosen by the name given with -o:
  NAME.tex            the LaTeX handout (add --pdf for NAME.pdf beside it)
  NAME.tex --slides   Beamer slides, the backward pass one chain-rule step per overlay (--pdf too)
  NAME.html           one web page: the same handout, maths as MathML, figures as SVG
  NAME.ipynb          a Jupyter notebook: the handout with the network's module and a gradient check
a file there that chainrule did not write, or one edited since, is kept unless --force is given"""


def register(sub) -> None:
    p = sub.add_parser(
        "handout",
        help="write a derivation handout: LaTeX (and its PDF), slides, an HTML page or a notebook",
        description="Write the derivation handout of a network: every gradient by the chain rule, worked at an "
        "example, as LaTeX (--pdf: and its PDF), Beamer slides, an HTML page or a Jupyter notebook.",
        epilog=OUTPUTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SPEC", help="catalogue name, or a Python file that defines `network`")
    p.add_argument(
        "-o",
        "--output",
        metavar="NAME.tex|NAME.html|NAME.ipynb",
        help="the file to write; its suffix chooses the output (default: <network>.tex)",
    )
    p.add_argument(
        "--pdf", action="store_true", help="also compile NAME.pdf next to NAME.tex (latexmk, else the engine)"
    )
    p.add_argument(
        "--engine", choices=latex_build.ENGINES, default="pdflatex", help="LaTeX engine for --pdf (default: pdflatex)"
    )
    p.add_argument("--force", action="store_true", help="overwrite a file that chainrule did not write, or one edited")
    p.add_argument("--json", action="store_true", help="say what was written as JSON on stdout (keys: see docs/cli.md)")
    p.add_argument(
        "--slides",
        action="store_true",
        help="Beamer slides (NAME.tex): the backward pass one chain-rule step per overlay",
    )
    p.add_argument(
        "--omit", nargs="+", default=[], metavar="SECTION", help=f"sections to leave out: {', '.join(SECTIONS)}"
    )
    p.add_argument("--exercise", action="store_true", help="questions with blanks instead of worked answers")
    p.add_argument(
        "--solutions", choices=("appendix", "none"), default="appendix", help="with --exercise: where the solutions go"
    )
    p.add_argument("--expand", nargs="+", default=[], metavar="PARAM",
                   help="parameters to derive in full, or 'all' (default: per layer one weight and one bias)")  # fmt: skip
    p.add_argument(
        "--output-notation", choices=("hat", "layer"), default="hat", help=r"the output as \hat{y} or a^{[L]}"
    )
    p.add_argument("--gradient-notation", choices=("dZ", "delta"), default="dZ", help="batch gradients as dZ or δ")
    p.add_argument("--example", metavar="NAME", help="which of the network's examples to work (default: the first)")
    p.add_argument("--seed", type=int, default=0, help="seed for the values when the network has no example")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="the update rule (default: sgd)")
    p.add_argument("--learning-rate", type=float, default=0.1, metavar="ALPHA", help="learning rate (default: 0.1)")
    p.add_argument(
        "--digits",
        type=int,
        default=DIGITS,
        metavar="N",
        help=f"significant digits of worked numbers (default {DIGITS})",
    )
    p.set_defaults(run=run)


def options_from(args) -> HandoutOptions:
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        raise ChainruleError(
            f"the learning rate must be a positive finite number, got {args.learning_rate}", "--learning-rate"
        )
    if not 1 <= args.digits <= 15:
        raise ChainruleError(f"the number of significant digits must be 1 to 15, not {args.digits}", "--digits")
    for s in args.omit:
        if s not in SECTIONS:
            raise ChainruleError(f"unknown section '{s}' (sections: {', '.join(SECTIONS)})", "--omit")
    return HandoutOptions(
        sections=tuple(s for s in SECTIONS if s not in args.omit),
        exercise=args.exercise,
        solutions=args.solutions,
        expand=tuple(args.expand),
        output=args.output_notation,
        delta=args.gradient_notation,
        example=args.example,
        seed=args.seed,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        digits=args.digits,
    )


TEX_NOTE = "do not edit; regenerate with chainrule handout"


def write_handout(out: str, tex: str, *, pdf: bool, engine: str = "pdflatex", force: bool = False) -> list[str]:
    """Write ``out`` (stamped) and, with ``pdf``, the PDF beside it; the paths written.  A .tex or .pdf
    that chainrule did not write, or that was changed since, is refused unless ``force``.  The PDF is built
    from the text first; then both files are written as one step, so an error, Ctrl-C or SIGTERM leaves
    neither (and the .tex always records the PDF built from it).  When LaTeX fails, the .tex alone is
    written: the error names its line."""
    pdf_path = os.path.splitext(out)[0] + ".pdf"

    def check() -> str | None:
        """The .tex there now (None: none), once the overwrite rules allow writing."""
        check_overwrite(out, force)
        old = read_text(out)
        if pdf:
            check_pdf_overwrite(pdf_path, old, force)
        return old

    old = check()
    if pdf and not latex_build.available(engine):  # fail before anything is built
        raise ChainruleError(f"--pdf needs {engine} (TeX Live); install it with: bash scripts/setup.sh", out)
    if pdf:
        try:
            built = latex_build.compile_text(tex, engine, out).pdf
        except latex_build.LatexFailed:  # the .tex is written, to read the line the error names
            write_all_atomic([(out, stamp(tex, "%", TEX_NOTE))], check=check)
            raise
        write_all_atomic([(out, stamp(tex, "%", TEX_NOTE, pdf=sha256(built))), (pdf_path, built)], check=check)
        return [out, pdf_path]
    # the PDF beside an untouched .tex stays recorded in its stamp, so a later --pdf may replace it
    kept = stamped_pdf(old) if old is not None and os.path.exists(pdf_path) else None
    if kept is not None and sha256(Path(pdf_path).read_bytes()) != kept:
        kept = None
    write_all_atomic([(out, stamp(tex, "%", TEX_NOTE, pdf=kept))], check=check)
    return [out]


def write_page(out: str, page: str, *, force: bool = False) -> None:
    """Write an HTML (or notebook) handout, its stamp sealed inside; a file there that chainrule did not
    write, or one edited since, is refused unless ``force``."""
    check_overwrite(out, force)
    write_all_atomic([(out, page)], check=lambda: check_overwrite(out, force))


def run(args) -> int:
    net = load_spec(args.spec)
    announce_size(net)
    options = options_from(args)
    out = args.output or f"{net.name}.tex"
    if not out.endswith(FORMATS):
        raise ChainruleError(f"the output name must end in {', '.join(FORMATS)}: '{out}'", "-o")
    if args.pdf and not out.endswith(".tex"):
        raise ChainruleError("--pdf compiles a .tex handout; this output is not one", "--pdf")
    if args.slides and not out.endswith(".tex"):
        raise ChainruleError(f"--slides writes Beamer LaTeX: the output name must end in .tex: '{out}'", "-o")
    check_writable(out)  # before the (long) rendering
    if out.endswith(".html"):
        write_page(out, handout_html.render(net, options), force=args.force)
        written = [out]
    elif out.endswith(".ipynb"):
        write_page(out, handout_notebook.render(net, options, args.spec), force=args.force)
        written = [out]
    else:
        tex = handout_slides.render(net, options) if args.slides else render(net, options)
        written = write_handout(out, tex, pdf=args.pdf, engine=args.engine, force=args.force)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        jsonout.dump(jsonout.written(net.name, written))
    return 0


HTML_GOLDEN = (
    "computation_graph",
    "logistic_regression",
    "two_layer_sigmoid",
    "two_layer_softmax",
    "one_hidden_layer",
    "batchnorm_mlp",
    "lstm_cell",
)
HTML_EXERCISE = "two_layer_sigmoid"
ADAM_GOLDEN = "two_layer_sigmoid"  # its handout with --optimizer adam: the bias correction derived, the variants
SLIDES_GOLDEN = ("computation_graph", "two_layer_sigmoid", "batchnorm_mlp", "lstm_cell")
NOTEBOOK_GOLDEN = ("two_layer_sigmoid", "one_hidden_layer")


def regenerate(root: Path) -> list[Path]:
    """The checked-in handouts: ``docs/handouts/<name>.tex`` for every catalogue network, and
    ``docs/handouts/html/<name>.html`` for a few (and one exercise sheet, ``<name>_exercise.html``),
    the Beamer slides ``docs/handouts/slides/<name>.tex`` of four and the notebooks
    ``docs/handouts/notebooks/<name>.ipynb`` of two (per unit and a matrix program each)."""
    written = []
    for name in names():
        path = Path(root) / GOLDEN_DIR / f"{name}.tex"
        write_atomic(str(path), render(load(name)))
        written.append(path)
    for name in HTML_GOLDEN:
        path = Path(root) / GOLDEN_DIR / "html" / f"{name}.html"
        write_atomic(str(path), handout_html.render(load(name)))
        written.append(path)
    for suffix, render_one in (
        (".tex", render),
        (".html", handout_html.render),
    ):  # the optimisers section: Adam, derived
        path = Path(root) / GOLDEN_DIR / ("html" if suffix == ".html" else "optimisers") / f"{ADAM_GOLDEN}_adam{suffix}"
        write_atomic(str(path), render_one(load(ADAM_GOLDEN), HandoutOptions(optimizer="adam")))
        written.append(path)
    path = Path(root) / GOLDEN_DIR / "html" / f"{HTML_EXERCISE}_exercise.html"
    write_atomic(str(path), handout_html.render(load(HTML_EXERCISE), HandoutOptions(exercise=True)))
    written.append(path)
    for name in SLIDES_GOLDEN:
        path = Path(root) / GOLDEN_DIR / "slides" / f"{name}.tex"
        write_atomic(str(path), handout_slides.render(load(name)))
        written.append(path)
    for name in NOTEBOOK_GOLDEN:
        path = Path(root) / GOLDEN_DIR / "notebooks" / f"{name}.ipynb"
        write_atomic(str(path), handout_notebook.render(load(name), spec=name))
        written.append(path)
    return written


DEMO_MEDIA = (  # beside handout.tex: (file, its text from the network and its catalogue name)
    ("handout.html", lambda net, name: handout_html.render(net)),
    ("handout.ipynb", lambda net, name: handout_notebook.render(net, spec=name)),
    ("slides.tex", lambda net, name: handout_slides.render(net)),
)


def demo(out_dir) -> bool:
    """The handouts of the main job: ``<out>/<name>/handout.tex`` (and its PDF when pdflatex is present),
    ``handout.html``, ``handout.ipynb`` and ``slides.tex`` (and its PDF) of every catalogue network."""
    pdf = latex_build.available()
    ok = True
    count = 0
    todo = demo_plan.networks()
    status(f"demo: writing {len(todo)} handouts, HTML pages, notebooks and slides{' with PDFs' if pdf else ''}")
    results = demo_plan.run_all(write_demo_media, [(name, out_dir, pdf) for name in todo], network=itemgetter(0))
    for number, (name, errors) in enumerate(zip(todo, results), 1):
        status(f"demo: handouts of {name} ({number}/{len(todo)})")
        count += not errors or not errors[0].startswith("handout ")
        for error in errors:
            print(f"chainrule: error: {error}", file=sys.stderr)
            ok = False
    what = "handouts with PDFs" if pdf else "handouts (no pdflatex: .tex only)"
    status(
        f"wrote {count} {what}, their HTML pages, notebooks and slides to {out_dir}/<network>/; "
        f"{'ok' if ok else 'FAILED'}"
    )
    return ok


def write_demo_media(job: tuple[str, str, bool]) -> list[str]:
    """Write catalogue network NAME's handout into OUT/NAME/ (and its PDF), then its other media
    (``DEMO_MEDIA``): what went wrong, one line each (none when all was written)."""
    name, out_dir, pdf = job
    folder = os.path.join(out_dir, name)
    net = load(name)
    try:
        write_handout(os.path.join(folder, "handout.tex"), render(net), pdf=pdf, force=True)
    except ChainruleError as exc:
        return [f"handout {name}: {exc}"]
    errors = []
    for filename, make in DEMO_MEDIA:
        path = os.path.join(folder, filename)
        try:
            text = make(net, name)
            if filename == "slides.tex":
                write_handout(path, text, pdf=pdf, force=True)
            else:
                write_page(path, text, force=True)
        except ChainruleError as exc:
            errors.append(f"{filename} of {name}: {exc}")
    return errors
