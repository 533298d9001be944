"""``chainrule nlp``: the lectures' NLP models (J&M ch. 7) as training modules, and their report.

    chainrule nlp generate NAME -o FILE.py   # a training module (and test_FILE.py), any of the variants
    chainrule nlp explain NAME               # the forward/backward equations and how E's gradient arises
    chainrule nlp report                     # train every NLP model on the shipped data; accuracy, perplexity

``chainrule generate`` also writes the catalogue's NLP models with these
templates (``codegen.nlp_module``); the pooling variants that are not
catalogue names (``embedding_classifier_max``, ``embedding_classifier_concat``)
are golden files written here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

from derive import ChainruleError
from derive.nlp.equations import backward, embedding_steps, forward
from derive.nlp.features import data_folder

from . import nlp_module
from .files import write_atomic
from .report import status

VARIANTS = (
    "embedding_classifier_max",
    "embedding_classifier_concat",
    "embedding_classifier_sentiment",
)  # catalogue names go through `generate`


def cmd_nlp_generate(args) -> int:
    from .numpy_module import check_overwrite as guard  # the same overwrite rules as `chainrule generate`

    nlp_module.model(args.name)  # unknown names fail here, before anything is written
    output = args.output
    if not output.endswith(".py") or not Path(output).stem.isidentifier():
        raise ChainruleError("the output must be a .py file with a valid module name", output)
    stem = Path(output).stem
    test_path = str(Path(output).with_name(f"test_{stem}.py"))
    for path in (output, test_path):
        guard(path, args.force)
    module, test = nlp_module.module_text(args.name), nlp_module.test_text(args.name, stem)
    write_atomic(output, module)
    write_atomic(test_path, test)
    print(f"wrote {output}\nwrote {test_path}", file=sys.stderr)
    return 0


def explain_text(name: str) -> str:
    m = nlp_module.model(name)
    lines = [f"# {name}: {m.doc}", "", "forward:"]
    lines += [f"  {eq}" for eq in forward(m)]
    lines += ["backward (dQ = ∂L/∂Q per example; dW = ∂J/∂W):"]
    lines += [f"  {eq}" for eq in backward(m)]
    steps = embedding_steps(m)
    if steps:
        lines += ["the gradient with respect to E:"] + [f"  {i}. {s}" for i, s in enumerate(steps, 1)]
        lines += worked_example(name)
    return "\n".join(lines) + "\n"


def worked_example(name: str, data: Path | None = None) -> list[str]:
    """The sparse E gradient on the first training text, at the module's starting parameters."""
    namespace = {"__name__": f"chainrule_nlp_{name}", "__file__": f"{name}.py"}
    exec(compile(nlp_module.module_text(name), namespace["__file__"], "exec"), namespace)  # noqa: S102 (our own output)
    with data_folder(data) as folder:
        train, _, vocab = namespace["load_data"](folder)
    params = namespace["init_params"](len(vocab), seed=0)
    distinct = [k for k in range(train["ids"].shape[1]) if len(set(train["ids"][:, k].tolist()) - {0, 2}) >= 3]
    first = distinct[0] if distinct else 0  # the first text (window) with three different words
    one = namespace["take"](train, [first])
    ids, columns = namespace["gradients"](params, one)["E"]
    dense = np.zeros_like(params["E"])
    np.add.at(dense.T, ids, columns.T)
    words = [vocab[i] for i in one["ids"][:, 0] if i != 0]
    seen = sorted(set(np.flatnonzero(np.any(dense != 0, axis=0)).tolist()))
    lines = [
        "worked example: the first training text with three different words, parameters from init_params(seed=0)",
        f"  words: {' '.join(words)}",
        (
            f"  dE is non-zero in {len(seen)} of {dense.shape[1]} columns: {', '.join(vocab[i] for i in seen)};"
            " every other column is exactly 0"
        ),
    ]
    if namespace.get("POOLING") == "max":
        arg = namespace["forward"](params, one)["arg"][:, 0]
        lines.append(
            "  max pooling routes coordinate i to the word at its arg-max: "
            + ", ".join(f"{i + 1}→{words[t]}" for i, t in enumerate(arg))
        )
    return lines


def cmd_nlp_explain(args) -> int:
    sys.stdout.write(explain_text(args.name))
    return 0


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_and_measure(name: str, folder: Path, data: Path | None = None) -> dict:
    """Generate ``name`` into ``folder``, train it with its defaults on ``data`` (default: the shipped data), measure it."""
    path = folder / f"{name}.py"
    write_atomic(str(path), nlp_module.module_text(name))
    mod = load_module(path)
    with data_folder(data) as data_dir:
        train, test, extra = mod.load_data(data_dir)
    embedded = hasattr(mod, "DIM")
    params = (
        mod.init_params(len(extra), seed=mod.HYPER["seed"]) if embedded else mod.init_params(seed=mod.HYPER["seed"])
    )
    row = {"name": name}
    if hasattr(mod, "perplexity"):
        row["uniform"] = float(len(extra))
        row["unigram"] = mod.unigram_perplexity(train, test, len(extra))
        row["before"] = mod.perplexity(params, test)
    else:
        row["before"] = mod.accuracy(params, test)
    start = time.perf_counter()
    params, history = mod.train(params, train, seed=mod.HYPER["seed"])
    row["seconds"] = time.perf_counter() - start
    row["cost"] = (history[0], history[-1])
    if hasattr(mod, "perplexity"):
        row["after"] = mod.perplexity(params, test)
        row["samples"] = [mod.sample(params, extra, seed=s) for s in range(3)]
        probs = mod.next_word(params, extra, ["the", "dog", "gets"])
        row["next"] = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
        row["unseen"] = mod.next_word(params, extra, ["the", "hamster", "sleeps"])["on"]
        row["bigram"] = mod.bigram(train, extra, "sleeps", "on")
        row["ok"] = row["after"] < min(row["unigram"], row["uniform"]) / 2
    else:
        row["after"] = mod.accuracy(params, test)
        row["train_accuracy"] = mod.accuracy(params, train)
        row["ok"] = row["after"] > 0.6
    return row


def report_text(rows: list[dict]) -> str:
    lines = ["NLP models trained on the shipped data (defaults of each generated module, random seed = 0)", ""]
    lines.append(f"{'model':<30} {'held-out before':>16} {'after':>8} {'train':>8} {'seconds':>8}")
    for row in rows:
        if "unigram" in row:
            continue
        lines.append(
            f"{row['name']:<30} {'acc ' + format(row['before'], '.3f'):>16} {row['after']:>8.3f} "
            f"{row['train_accuracy']:>8.3f} {row['seconds']:>8.2f}"
        )
    for row in rows:
        if "unigram" not in row:
            continue
        lines += [
            "",
            (
                f"{row['name']}: held-out perplexity uniform {row['uniform']:.2f}, unigram {row['unigram']:.2f}, "
                f"model before training {row['before']:.2f}, after {row['after']:.2f} ({row['seconds']:.2f} s training)"
            ),
            "  P(w | the dog gets): " + ", ".join(f"{w} {p:.3f}" for w, p in row["next"]),
            (
                f"  P(on | the hamster sleeps) = {row['unseen']:.3f} ('hamster sleeps' is never in the training text; "
                f"the bigram P(on | sleeps) = {row['bigram']:.3f})"
            ),
        ]
        lines += [f"  sample: {s}" for s in row["samples"]]
    return "\n".join(lines) + "\n"


def cmd_nlp_report(args) -> int:
    folder = Path(args.output)
    if args.data is not None and not all((args.data / part).is_dir() for part in ("sentiment", "lm")):
        raise ChainruleError("no sentiment/ and lm/ data in this folder", str(args.data))
    rows = [train_and_measure(name, folder, args.data) for name in nlp_module.names()]
    text = report_text(rows)
    write_atomic(str(folder / "report.txt"), text)
    sys.stdout.write(text)
    return 0 if all(r["ok"] for r in rows) else 1


def register(sub) -> None:
    p = sub.add_parser(
        "nlp", help="the NLP models (sentiment features, embeddings, language model): generate, explain, report"
    )
    nlp = p.add_subparsers(dest="nlp_command", required=True, metavar="ACTION")
    g = nlp.add_parser("generate", help="write the training module of an NLP model (and its tests)")
    g.add_argument("name", metavar="NAME", help=", ".join(nlp_module.names()))
    g.add_argument("-o", "--output", required=True, metavar="FILE.py")
    g.add_argument("--force", action="store_true", help="overwrite files edited by hand")
    g.set_defaults(run=cmd_nlp_generate)
    e = nlp.add_parser("explain", help="print the equations, and how the gradient reaches E")
    e.add_argument("name", metavar="NAME", help=", ".join(nlp_module.names()))
    e.set_defaults(run=cmd_nlp_explain)
    r = nlp.add_parser("report", help="train every NLP model on the shipped data and report accuracy / perplexity")
    r.add_argument("-o", "--output", default=os.path.join("chainrule-demo", "nlp"), metavar="DIR")
    r.add_argument(
        "--data", type=Path, metavar="DIR", help="the data folder (default: the data shipped with chainrule)"
    )
    r.set_defaults(run=cmd_nlp_report)


def regenerate(root: Path) -> list[Path]:
    """generated/ modules and tests of the pooling variants (the catalogue's NLP models come from `generate`),
    and the layer-level handouts docs/handouts/nlp/NAME.tex of every NLP model."""
    from .nlp_handout import render

    written = []
    for name in nlp_module.names():
        path = Path(root) / "docs" / "handouts" / "nlp" / f"{name}.tex"
        write_atomic(str(path), render(name))
        written.append(path)
    for name in VARIANTS:
        for filename, text in (
            (f"{name}.py", nlp_module.module_text(name)),
            (f"test_{name}.py", nlp_module.test_text(name, name)),
        ):
            path = Path(root) / "generated" / filename
            write_atomic(str(path), text)
            written.append(path)
    return written


def demo(out_dir) -> bool:
    """Train every NLP model on the shipped data; write OUT/nlp/report.txt, each model's explanation and handout."""
    folder = Path(out_dir) / "nlp"
    todo = nlp_module.names()
    rows = []
    for number, name in enumerate(todo, 1):
        status(f"demo: training NLP model {name} on the shipped data ({number}/{len(todo)})")
        rows.append(train_and_measure(name, folder))
    text = report_text(rows)
    write_atomic(str(folder / "report.txt"), text)
    from .nlp_handout import render

    for name in nlp_module.names():
        write_atomic(str(folder / f"{name}.txt"), explain_text(name))
        write_atomic(str(folder / f"{name}.tex"), render(name))
    sys.stdout.write(text)
    ok = all(r["ok"] for r in rows)
    status(f"wrote NLP modules, explanations and report to {folder}/; {'all beat their baselines' if ok else 'FAIL'}")
    return ok
