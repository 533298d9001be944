"""`chainrule nlp` and `chainrule generate` for the NLP models; golden modules; the reported figures."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.cli import cmd_nlp, main
from codegen.cli.cmd_generate import render
from codegen.emit import nlp_module
from codegen.handout.nlp import render as render_handout

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ["sentiment_features", "sentiment_features_2layer", "embedding_classifier", "ffnn_lm"]


def test_explain_prints_equations_and_the_sparse_e_gradient(capsys):
    assert main(["nlp", "explain", "ffnn_lm"]) == 0
    out = capsys.readouterr().out
    assert "(1) Emb = E[:, W]" in out and "dE = (1/m) scatter_add(dEmb, W)" in out and "scatter-add" in out
    assert "dE is non-zero in 3 of 88 columns" in out  # the worked example: a window of three different words


def test_worked_example_shows_seen_columns_and_max_routing():
    import re

    def columns(name):
        line = next(x for x in cmd_nlp.worked_example(name) if "dE is non-zero" in x)
        seen, total = map(int, re.search(r"in (\d+) of (\d+) columns", line).groups())
        return seen, total

    mean_seen, total = columns("embedding_classifier")
    max_seen, _ = columns("embedding_classifier_max")
    assert max_seen <= 16 < mean_seen < total  # max pooling: at most one word per coordinate (d = 16)
    assert any("routes coordinate" in x for x in cmd_nlp.worked_example("embedding_classifier_max"))
    assert columns("ffnn_lm")[0] == 3  # a window of three different words


def test_unknown_model_is_one_line_and_exit_2(capsys, tmp_path):
    assert main(["nlp", "generate", "gpt", "-o", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: unknown NLP model 'gpt'") and err.count("\n") == 1
    assert not (tmp_path / "x.py").exists()


def test_nlp_generate_refuses_a_hand_edited_file_and_a_bad_name(tmp_path, capsys):
    target = tmp_path / "lm.py"
    assert main(["nlp", "generate", "ffnn_lm", "-o", str(target)]) == 0
    target.write_text(target.read_text() + "# my edit\n")
    assert main(["nlp", "generate", "ffnn_lm", "-o", str(target)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert main(["nlp", "generate", "ffnn_lm", "-o", str(target), "--force"]) == 0
    assert main(["nlp", "generate", "ffnn_lm", "-o", str(tmp_path / "lm.txt")]) == 2
    assert "must be a .py file" in capsys.readouterr().err


def test_generate_writes_a_module_whose_tests_pass(tmp_path):
    assert main(["generate", "embedding_classifier", "-o", str(tmp_path / "emb.py")]) == 0
    text = (tmp_path / "emb.py").read_text()
    assert "np.add.at(out, at, rows.ravel())" in text and "# (17) dE = (1/m) scatter_add(dEmb, W)" in text
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_emb.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]


def test_generated_code_never_builds_a_dense_vocabulary_wide_gradient():
    for name in nlp_module.names():
        text = nlp_module.module_text(name)
        if "N_WORDS" in text:
            assert "np.add.at" in text
            # a recurrence sums dE over the steps into one d×|V| accumulator (np.zeros_like(E)), written
            # by scatter-adds; nothing else builds a dense vocabulary-wide gradient
            recurrent = "def run_steps" in text
            assert recurrent or "np.zeros_like(E)" not in text
            # the targets' one-hot columns (N_TARGETS × m) are built by indexing; no one-hot meets a matrix product
            assert "E.T @" not in text and "@ onehot" not in text and "onehot @" not in text
            assert "np.eye(N_TARGETS" not in text.replace("not np.eye(N_TARGETS)", "")  # |V|² entries


def test_golden_modules_and_handouts_are_up_to_date(tmp_path):
    expected = {}
    for path in cmd_nlp.regenerate(tmp_path):
        expected[str(path.relative_to(tmp_path))] = path.read_text()
    for name in CATALOGUE:
        expected[f"generated/{name}.py"], expected[f"generated/test_{name}.py"] = render(name, name)
    for filename, text in expected.items():
        assert (ROOT / filename).read_text() == text, f"{filename} is stale: run scripts/regenerate.py"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex")
@pytest.mark.parametrize("name", ["ffnn_lm", "embedding_classifier_max", "sentiment_features"])
def test_handout_compiles(tmp_path, name):
    (tmp_path / "h.tex").write_text(render_handout(name))
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "h.tex"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-1500:]
    assert (tmp_path / "h.pdf").stat().st_size > 10_000


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nlp")
    return {name: cmd_nlp.train_and_measure(name, folder) for name in nlp_module.names()}


def test_sentiment_held_out_accuracy(figures):
    assert figures["sentiment_features"]["after"] >= 0.7
    assert figures["sentiment_features_2layer"]["after"] >= 0.75


def test_embedding_classifiers_held_out_accuracy(figures):
    for name in ("embedding_classifier", "embedding_classifier_max", "embedding_classifier_concat"):
        assert figures[name]["after"] >= 0.85, name
    # sentiment from embeddings instead of the six hand features (C.9): better than logistic regression on x1..x6
    assert figures["embedding_classifier_sentiment"]["after"] > figures["sentiment_features"]["after"]


def test_elman_rnn_reads_sentiment_word_by_word(figures):
    # BPTT through 24 steps trains: better held out than the six hand features and than chance
    row = figures["elman_rnn"]
    assert row["after"] > max(figures["sentiment_features"]["after"], 0.75)
    assert row["cost"][1] < 0.1 * row["cost"][0]


def test_rnn_language_model_beats_uniform_and_unigram(figures):
    # windows of 16 words, each from the zero state: far below the unigram, above ffnn_lm (which always sees 3 words)
    row = figures["rnn_lm"]
    assert row["uniform"] > row["unigram"] > 8 * row["after"]
    assert row["before"] > row["unigram"]
    assert row["next"][0][0] == "fed"
    assert row["unseen"] > 0.5 > row["bigram"] - 0.2


def test_language_model_clearly_beats_uniform_and_unigram(figures):
    row = figures["ffnn_lm"]
    assert row["uniform"] > row["unigram"] > 4 * row["after"]
    assert row["before"] > row["unigram"]
    assert row["next"][0][0] == "fed"
    # J&M's point (C.10): "hamster sleeps" is never in training, yet the embeddings carry cat/dog over to it
    training = (ROOT / "derive/nlp/data/lm/corpus.txt").read_text()
    assert "hamster sleeps" not in training and "cat sleeps on" in training and "hamster" in training
    assert row["unseen"] > 0.9 > row["bigram"] + 0.2
    assert all(isinstance(s, str) and s for s in row["samples"])


def test_every_nlp_model_has_its_explanation_and_worked_example():
    # the demo writes each model's explanation; a next word per step (rnn_lm) is a column of Y, not an entry
    for name in nlp_module.names():
        text = cmd_nlp.explain_text(name)
        assert text.startswith(f"# {name}"), name
        if "E" in nlp_module.model(name).matrices:  # the word vectors: the sparse dE, worked
            assert "worked example" in text and "every other column is exactly 0" in text, name
