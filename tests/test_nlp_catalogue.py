"""The NLP catalogue entries derive, check against finite differences, and reproduce J&M's numbers."""

import math

import pytest

from derive import gradcheck
from derive.catalogue import load, names
from derive.nlp.features import JM_REVIEW, features, load_lexicon

SCALAR = ["sentiment_features", "sentiment_features_2layer"]


def test_nlp_models_are_in_the_catalogue():
    assert {"sentiment_features", "sentiment_features_2layer"} <= set(names())


def test_jm_sentiment_example_gives_p_positive_0_70():
    net = load("sentiment_features")
    d = net.derive()
    values = d.forward(net.examples["jm_review"])
    assert values["z"] == pytest.approx(0.833, abs=1e-3)
    assert round(values["yhat"], 2) == 0.70


def test_jm_example_features_come_from_the_raw_text():
    x = features(JM_REVIEW, load_lexicon())
    example = load("sentiment_features").examples["jm_review"]
    assert x == pytest.approx([example[f"x{i}"] for i in range(1, 7)])
    assert example["x6"] == pytest.approx(math.log(66))


def test_logistic_regression_gradient_is_the_lectures():
    d = load("sentiment_features").derive()
    for i in range(1, 7):
        assert str(d.gradient(f"w{i}")) == f"x{i}*(-y + yhat)"


@pytest.mark.parametrize("name", SCALAR)
def test_gradients_match_finite_differences(name):
    d = load(name).derive()
    for seed in range(3):
        checks = gradcheck.check(d, gradcheck.smooth_point(d, seed=seed))
        assert max(c.rel_error for c in checks) <= 1e-6


def test_demo_data_says_what_its_y_is():
    """A module's demo_data names Y as it returns it: a row of labels, one-hot columns, or the next word at
    every step (it said 'one-hot columns' everywhere)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "generated"
    said = {}
    for name in ("sentiment_features", "elman_rnn", "embedding_classifier", "rnn_lm"):
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        demo = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "demo_data")
        said[name] = ast.get_docstring(demo)
    assert "Y the labels 0/1 as one row (1×m)" in said["sentiment_features"] and "one-hot" not in said["elman_rnn"]
    assert "Y one-hot columns (3×m)" in said["embedding_classifier"]
    assert "Y the next word at every step" in said["rnn_lm"]
