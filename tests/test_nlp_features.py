"""The tokenizer, J&M's six sentiment features, vocabularies and LM windows (derive/nlp/features.py)."""

import math

import pytest

from derive.nlp import features as F

JM_REVIEW = F.JM_REVIEW


@pytest.fixture(scope="module")
def lexicon():
    return F.load_lexicon()


def test_tokenizer_keeps_contractions_and_hyphens_and_splits_punctuation():
    assert F.tokenize("It's second-rate, isn't it?!") == ["it's", "second-rate", ",", "isn't", "it", "?", "!"]


def test_jm_example_review_gives_the_books_features(lexicon):
    # J&M fig. 5.2: x = [3, 2, 1, 3, 0, ln 66 = 4.19]
    x = F.features(JM_REVIEW, lexicon)
    assert x[:5] == [3.0, 2.0, 1.0, 3.0, 0.0]
    assert x[5] == pytest.approx(math.log(66))
    assert round(x[5], 2) == 4.19


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Great!", [1, 0, 0, 0, 1, math.log(2)]),
        ("no no NO", [0, 0, 1, 0, 0, math.log(3)]),
        ("nothing good", [1, 0, 0, 0, 0, math.log(2)]),  # "nothing" is not "no"
        ("I'm sure you're right, we know", [0, 0, 0, 3, 0, math.log(7)]),
        ("They hated it", [0, 1, 0, 0, 0, math.log(3)]),
        ("", [0, 0, 0, 0, 0, 0]),
    ],
)
def test_each_feature(lexicon, text, expected):
    assert F.features(text, lexicon) == pytest.approx(expected)


def test_lexicon_is_a_few_hundred_words_of_both_polarities(lexicon):
    values = list(lexicon.values())
    assert values.count("positive") >= 150 and values.count("negative") >= 150


def test_bad_lexicon_line_names_file_and_line(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("# header\ngood\tpositive\nbad negative\n")
    with pytest.raises(ValueError, match=r"lex.txt:3:"):
        F.load_lexicon(path)


def test_vocab_specials_first_then_by_frequency():
    vocab = F.build_vocab([["b", "a", "b"], ["c", "a", "b"]])
    assert vocab == ["<pad>", "<unk>", "b", "a", "c"]
    assert F.indices(["a", "zebra"], vocab) == [3, 1]


def test_fixed_length_pads_and_truncates():
    assert F.fixed_length([5, 6, 7], 5) == [5, 6, 7, 0, 0]
    assert F.fixed_length([5, 6, 7], 2) == [5, 6]


def test_windows_are_the_n_minus_1_previous_words():
    contexts, targets = F.windows([[10, 11, 12]], n=3, bos=1, eos=2)
    assert contexts == [[1, 1], [1, 10], [10, 11], [11, 12]]
    assert targets == [10, 11, 12, 2]
