"""The shipped NLP data: present, labelled, split, and regenerable byte for byte."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sentiment_corpus_is_regenerated_identically(tmp_path):
    out = tmp_path / "corpus.tsv"
    subprocess.run([sys.executable, str(ROOT / "scripts/make_sentiment_corpus.py"), str(out)], check=True)
    assert out.read_bytes() == (ROOT / "derive/nlp/data/sentiment/corpus.tsv").read_bytes()


def test_lm_corpus_is_regenerated_identically(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts/make_lm_corpus.py"), str(tmp_path)], check=True)
    for name in ("corpus.txt", "heldout.txt"):
        assert (tmp_path / name).read_bytes() == (ROOT / "derive/nlp/data/lm" / name).read_bytes()


def test_sentiment_corpus_has_both_labels_in_both_splits():
    rows = [line.split("\t") for line in (ROOT / "derive/nlp/data/sentiment/corpus.tsv").read_text().splitlines()[1:]]
    assert len(rows) >= 300
    pairs = {(label, split) for label, _, split, _ in rows}
    assert pairs == {("0", "train"), ("1", "train"), ("0", "test"), ("1", "test")}
    assert {topic for _, topic, _, _ in rows} == {"film", "food", "gadget"}
    assert any("no" in text.lower().split() for *_, text in rows) and any("!" in text for *_, text in rows)


def test_lm_corpus_is_a_few_thousand_tokens():
    tokens = (ROOT / "derive/nlp/data/lm/corpus.txt").read_text().split()
    assert len(tokens) > 3000
