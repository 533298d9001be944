"""``chainrule nlp``: the lectures' NLP models (J&M ch. 7) as training modules, and their report.

    chainrule nlp generate NAME -o FILE.py   # a training module (and test_FILE.py), any of the variants
    chainrule nlp explain NAME               # the engine's derivation, and the sparse gradient of E on one text
    chainrule nlp report                     # train every NLP model on the shipped data; accuracy, perplexity

The modules are the layer modules every ``VecNetwork`` gets, with a data
section (``codegen.emit.nlp_module``); ``chainrule generate`` writes the
catalogue's NLP models the same way, and the variants that are not catalogue
names (``embedding_classifier_max``, ``_concat``, ``_sentiment``) are golden
files written here, as are the GRUs over a review's words (the catalogue's ``gru`` and ``gru_d2l`` read numbers).
"""

from __future__ import annotations

import os
import sys
import time
from operator import itemgetter
from pathlib import Path

import numpy as np

from derive import ChainruleError
from derive.nlp.features import data_folder

from ..emit import nlp_module
from ..emit.files import write_all_atomic, write_atomic
from ..emit.load import load_file, load_module
from . import demo_plan
from .report import status

VARIANTS = (
    "embedding_classifier_max",
    "embedding_classifier_concat",
    "embedding_classifier_sentiment",
    "gru_sentiment",
    "gru_d2l_sentiment",
)  # catalogue names go through `generate`


def cmd_nlp_generate(args) -> int:
    from ..emit.numpy_module import check_overwrite as guard  # the same overwrite rules as `chainrule generate`

    nlp_module.model(args.name)  # unknown names fail here, before anything is written
    output = args.output
    if not output.endswith(".py") or not Path(output).stem.isidentifier():
        raise ChainruleError("the output must be a .py file with a valid module name", output)
    stem = Path(output).stem
    test_path = str(Path(output).with_name(f"test_{stem}.py"))
    for path in (output, test_path):
        guard(path, args.force)
    module, test = nlp_module.module_text(args.name), nlp_module.test_text(args.name, stem)
    write_all_atomic([(test_path, test), (output, module)])  # the module never without its tests
    print(f"wrote {output}\nwrote {test_path}", file=sys.stderr)
    return 0


def explain_text(name: str) -> str:
    """The engine's derivation of ``name`` (equations with shapes, then every step) and, for a model with
    embeddings, the sparse gradient of E on one training text."""
    net = nlp_module.model(name)
    lines = [f"# {name}: {net.doc}", ""]
    lines += net.derive().text().rstrip("\n").splitlines()
    if net.text_task.embedded:
        lines += ["", *worked_example(name)]
    return "\n".join(lines) + "\n"


def worked_example(name: str, data: Path | None = None) -> list[str]:
    """The sparse E gradient on the first training text, at the module's starting parameters."""
    module = load_module(name, f"chainrule_nlp_{name}")
    with data_folder(data) as folder:
        (X, Y), _, vocab = module.load_data(folder)
    params = module.init_params(seed=0)
    distinct = [k for k in range(X.shape[1]) if len(set(X[:, k].tolist()) - {0, 2}) >= 3]
    first = distinct[0] if distinct else 0  # the first text (window) with three different words
    W = X[:, [first]]
    target = Y[:, [first]] if Y.ndim == 2 else Y[[first]]  # next words or labels per column, or a label per text
    grads = module.gradients(params, W, target)
    words = [vocab[i] for i in W[:, 0] if i != 0]
    lines = [
        "worked example: the first training text with three different words, parameters from init_params(seed=0)",
        f"  words: {' '.join(words)}",
    ]
    if hasattr(module, "WINDOW"):  # word2vec: one (center, outside) pair and its negative samples
        lines = [
            "worked example: the first training pair, parameters from init_params(seed=0)",
            f"  center {words[0]}, outside {words[1] if len(words) > 1 else vocab[int(np.ravel(target)[0])]}"
            + (f", negative samples {' '.join(words[2:])}" if len(words) > 2 else ""),
        ]
    for param in (n for n, (_, scheme, _) in module.PARAMS.items() if scheme == "embedding"):  # E; word2vec's V, U
        seen = sorted(set(np.flatnonzero(np.any(grads[param] != 0, axis=0)).tolist()))
        lines.append(
            f"  d{param} is non-zero in {len(seen)} of {grads[param].shape[1]} columns:"
            f" {', '.join(vocab[i] for i in seen)}; every other column is exactly 0"
        )
    if hasattr(module, "max_position"):
        Emb = module.embed(params["E"], W)
        arg = module.max_position(Emb, W)[:, 0]
        lines.append(
            "  max pooling routes coordinate i to the word at its arg-max: "
            + ", ".join(f"{i + 1}→{vocab[W[t, 0]]}" for i, t in enumerate(arg))
        )
    return lines


def cmd_nlp_explain(args) -> int:
    sys.stdout.write(explain_text(args.name))
    return 0


def train_and_measure(name: str, folder: Path, data: Path | None = None) -> dict:
    """Generate ``name`` into ``folder``, train it with its defaults on ``data`` (default: the shipped data), measure it."""
    path = folder / f"{name}.py"
    write_atomic(str(path), nlp_module.module_text(name))
    mod = load_file(path)
    with data_folder(data) as data_dir:
        (X, Y), (X_test, Y_test), extra = mod.load_data(data_dir)
    hyper = mod.HYPER
    params = mod.init_params(seed=hyper["seed"])
    row = {"name": name}
    if hasattr(mod, "neighbours"):  # word vectors (word2vec): the held-out loss and the nearest neighbours
        return _word_vectors(mod, row, params, (X, Y), (X_test, Y_test), extra, data)
    lm = hasattr(mod, "perplexity")
    if lm:
        row["uniform"] = float(mod.N_WORDS - 1 if hasattr(mod, "next_char") else mod.N_WORDS)  # <pad> is never next
        row["unigram"] = mod.unigram_perplexity(Y, Y_test)
        row["before"] = mod.perplexity(params, X_test, Y_test)
    else:
        row["before"] = mod.accuracy(params, X_test, Y_test)
    start = time.perf_counter()
    clip = {"clip_norm": hyper["clip"]} if "clip" in hyper else {}  # a recurrence: gradient clipping
    params, history = mod.train(
        X,
        Y,
        epochs=hyper["epochs"],
        lr=hyper["lr"],
        batch_size=hyper["batch"],
        seed=hyper["seed"],
        params=params,
        **clip,
        **({"optimizer": hyper["optimizer"]} if "optimizer" in hyper else {}),
    )
    row["seconds"] = time.perf_counter() - start
    row["cost"] = (history[0], history[-1])
    if lm and hasattr(mod, "next_char"):  # a character-level LM: perplexity per character, and samples
        row["after"] = mod.perplexity(params, X_test, Y_test)
        row["samples"] = [mod.sample(params, extra, seed=s, start="the ") for s in range(3)]
        probs = mod.next_char(params, extra, "the dog gets f")
        row["next"] = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
        row["ok"] = row["after"] < min(row["unigram"], row["uniform"]) / 2
    elif lm:
        row["after"] = mod.perplexity(params, X_test, Y_test)
        row["samples"] = [mod.sample(params, extra, seed=s) for s in range(3)]
        probs = mod.next_word(params, extra, ["the", "dog", "gets"])
        row["next"] = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
        row["unseen"] = mod.next_word(params, extra, ["the", "hamster", "sleeps"])["on"]
        row["bigram"] = mod.bigram(X, Y, extra, "sleeps", "on")
        row["ok"] = row["after"] < min(row["unigram"], row["uniform"]) / 2
    else:
        row["after"] = mod.accuracy(params, X_test, Y_test)
        row["train_accuracy"] = mod.accuracy(params, X, Y)
        row["ok"] = row["after"] > 0.6
    return row


def _word_vectors(mod, row: dict, params, train, heldout, vocab, data) -> dict:
    """Train a word2vec module with its defaults (fresh negative samples every epoch); the held-out loss per pair,
    the agreement of the nearest neighbours with the corpus's word groups, and the probes' neighbours, before
    and after."""
    hyper = mod.HYPER
    row["before"] = mod.heldout_loss(params, *heldout)
    row["agreement"] = [mod.neighbour_agreement(params, vocab)]
    row["neighbours"] = {w: [mod.neighbours(params, vocab, w)] for w in mod.PROBES}
    start = time.perf_counter()
    with data_folder(data) as data_dir:
        params, _ = mod.train_word_vectors(
            *train,
            epochs=hyper["epochs"],
            lr=hyper["lr"],
            batch_size=hyper["batch"],
            seed=hyper["seed"],
            params=params,
            optimizer=hyper["optimizer"],
            data_dir=data_dir,
        )
    row["seconds"] = time.perf_counter() - start
    row["after"] = mod.heldout_loss(params, *heldout)
    row["agreement"].append(mod.neighbour_agreement(params, vocab))
    for word, found in row["neighbours"].items():
        found.append(mod.neighbours(params, vocab, word))
    row["ok"] = row["after"] < row["before"] and row["agreement"][1] > 0.5
    return row


def _word_vector_lines(row: dict) -> list[str]:
    before, after = row["agreement"]
    lines = [
        "",
        (
            f"{row['name']}: held-out loss per pair before training {row['before']:.3f}, after {row['after']:.3f};"
            f" neighbours in their word's group {before:.2f} -> {after:.2f} ({row['seconds']:.2f} s training)"
        ),
    ]
    for word, (was, now) in row["neighbours"].items():
        lines.append(
            f"  nearest to {word}: before {', '.join(w for w, _ in was)}; after {', '.join(w for w, _ in now)}"
        )
    return lines


def report_text(rows: list[dict]) -> str:
    lines = ["NLP models trained on the shipped data (defaults of each generated module, random seed = 0)", ""]
    lines.append(f"{'model':<30} {'held-out before':>16} {'after':>8} {'train':>8} {'seconds':>8}")
    for row in rows:
        if "unigram" in row or "neighbours" in row:
            continue
        lines.append(
            f"{row['name']:<30} {'acc ' + format(row['before'], '.3f'):>16} {row['after']:>8.3f} "
            f"{row['train_accuracy']:>8.3f} {row['seconds']:>8.2f}"
        )
    for row in rows:
        if "unigram" not in row:
            continue
        per = "per character " if "unseen" not in row else ""
        lines += [
            "",
            (
                f"{row['name']}: held-out perplexity {per}uniform {row['uniform']:.2f}, unigram {row['unigram']:.2f}, "
                f"model before training {row['before']:.2f}, after {row['after']:.2f} ({row['seconds']:.2f} s training)"
            ),
        ]
        if "unseen" not in row:  # a character-level LM
            lines.append("  P(c | 'the dog gets f'): " + ", ".join(f"{c!r} {p:.3f}" for c, p in row["next"]))
            lines += [f"  sample: {s}" for s in row["samples"]]
            continue
        lines += [
            "  P(w | the dog gets): " + ", ".join(f"{w} {p:.3f}" for w, p in row["next"]),
            (
                f"  P(on | the hamster sleeps) = {row['unseen']:.3f} ('hamster sleeps' is never in the training text; "
                f"the bigram P(on | sleeps) = {row['bigram']:.3f})"
            ),
        ]
        lines += [f"  sample: {s}" for s in row["samples"]]
    for row in rows:
        if "neighbours" in row:
            lines += _word_vector_lines(row)
    return "\n".join(lines) + "\n"


def train_all(folder: Path, data: Path | None, stage: str) -> list[dict]:
    """Train and measure every NLP model, with a progress line (on stderr) before each."""
    todo = nlp_module.names()
    rows = []
    for number, name in enumerate(todo, 1):
        where = "the shipped data" if data is None else str(data)
        status(f"{stage}: training NLP model {name} on {where} ({number}/{len(todo)})")
        rows.append(train_and_measure(name, folder, data))
    return rows


def cmd_nlp_report(args) -> int:
    folder = Path(args.output)
    if args.data is not None and not all((args.data / part).is_dir() for part in ("sentiment", "lm")):
        raise ChainruleError("no sentiment/ and lm/ data in this folder", str(args.data))
    rows = train_all(folder, args.data, "nlp report")
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
    e = nlp.add_parser("explain", help="print the derivation (equations and steps), and how the gradient reaches E")
    e.add_argument("name", metavar="NAME", help=", ".join(nlp_module.names()))
    e.set_defaults(run=cmd_nlp_explain)
    r = nlp.add_parser("report", help="train every NLP model on the shipped data and report accuracy / perplexity")
    r.add_argument(
        "-o",
        "--output",
        default=os.path.join("chainrule-demo", "nlp"),
        metavar="DIR",
        help="folder for the trained models' modules and report.txt (default: chainrule-demo/nlp)",
    )
    r.add_argument(
        "--data", type=Path, metavar="DIR", help="the data folder (default: the data shipped with chainrule)"
    )
    r.set_defaults(run=cmd_nlp_report)


def regenerate(root: Path) -> list[Path]:
    """generated/ modules and tests of the pooling variants (the catalogue's NLP models come from `generate`),
    and the layer-level handouts docs/handouts/nlp/NAME.tex of every NLP model."""
    from ..handout.nlp import render

    written = []
    for name in nlp_module.handout_names():
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
    todo = demo_plan.nlp_models()
    status(f"demo: training {len(todo)} NLP models on the shipped data")
    rows = []
    for number, (name, (row, explanation)) in enumerate(
        zip(todo, demo_plan.run_all(train_and_explain, [(name, str(folder)) for name in todo], network=itemgetter(0))),
        1,
    ):
        status(f"demo: trained NLP model {name} ({number}/{len(todo)})")
        rows.append(row)
        write_atomic(str(folder / f"{name}.txt"), explanation)
    text = report_text(rows)
    write_atomic(str(folder / "report.txt"), text)
    from ..handout.nlp import render

    for name in nlp_module.handout_names():
        if name in todo:
            write_atomic(str(folder / f"{name}.tex"), render(name))
    sys.stdout.write(text)
    ok = all(r["ok"] for r in rows)
    status(f"wrote NLP modules, explanations and report to {folder}/; {'all beat their baselines' if ok else 'FAIL'}")
    return ok


def train_and_explain(job: tuple[str, str]) -> tuple[dict, str]:
    """NLP model NAME generated into FOLDER and trained (``train_and_measure``), and its explanation."""
    name, folder = job
    return train_and_measure(name, Path(folder)), explain_text(name)
