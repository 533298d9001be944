"""Text to numbers: the tokenizer, J&M's six sentiment features, vocabularies, LM windows.

Pure Python.  The six features are the lecture's (J&M ch. 7, from ch. 5, fig. 5.2):

    x1  count of positive lexicon words in the doc
    x2  count of negative lexicon words in the doc
    x3  1 if "no" is in the doc, else 0
    x4  count of 1st and 2nd person pronouns
    x5  1 if "!" is in the doc, else 0
    x6  log(word count of the doc)

Tokens are lower-case words (letters/digits, with inner apostrophes and
hyphens: ``it's``, ``second-rate``) and single punctuation marks.  The word
count of x6 counts every token, punctuation included, as J&M do: their example
review ("It's hokey. ... to you.") has 56 words and 10 marks, and x6 = ln 66.
A contraction counts as a pronoun when its stem is one (``i'm``, ``you're``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

# The NLP data shipped with chainrule as package data (derive/nlp/data/; provenance in its README.md),
# read through importlib.resources so that an installed wheel finds it as a source checkout does.
DATA: Traversable = resources.files("derive.nlp") / "data"
LEXICON = DATA / "sentiment" / "lexicon.txt"

TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*|[^\sa-z0-9]")
PRONOUNS = frozenset(
    [
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "us",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)
FEATURES = ("x1", "x2", "x3", "x4", "x5", "x6")
FEATURE_TEXT = {
    "x1": "count(positive lexicon words in doc)",
    "x2": "count(negative lexicon words in doc)",
    "x3": '1 if "no" in doc, else 0',
    "x4": "count(1st and 2nd person pronouns in doc)",
    "x5": '1 if "!" in doc, else 0',
    "x6": "log(word count of doc)",
}

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"

# J&M's example review (fig. 5.2): x = [3, 2, 1, 3, 0, ln 66].
JM_REVIEW = (
    "It's hokey. There are virtually no surprises, and the writing is second-rate. So why was it so "
    "enjoyable? For one thing, the cast is great. Another nice touch is the music. I was overcome with "
    "the urge to get off the couch and start dancing. It sucked me in, and it'll do the same to you."
)


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens."""
    return TOKEN.findall(text.lower().replace("’", "'"))


@contextlib.contextmanager
def data_folder(folder: Path | str | None = None) -> Iterator[Path]:
    """The data as a folder on disk: ``folder`` when given, else the data shipped with chainrule."""
    if folder is not None:
        yield Path(folder)
        return
    with resources.as_file(DATA) as path:
        yield Path(path)


def as_traversable(path: Traversable | Path | str) -> Traversable:
    """A file name as a ``Path``; a package resource (``DATA / ...``) as it is."""
    return Path(path) if isinstance(path, (str, os.PathLike)) else path


def load_lexicon(path: Traversable | Path | str = LEXICON) -> dict[str, str]:
    """``word -> "positive" | "negative"`` from a ``word<TAB>polarity`` file (``#`` comments)."""
    lexicon: dict[str, str] = {}
    for number, line in enumerate(as_traversable(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or parts[1] not in ("positive", "negative"):
            raise ValueError(f"{path}:{number}: expected '<word><TAB>positive|negative', got {line!r}")
        lexicon[parts[0]] = parts[1]
    return lexicon


def _stem(token: str) -> str:
    return token.split("'", 1)[0]


def features(text: str, lexicon: dict[str, str]) -> list[float]:
    """J&M's six features ``[x1, …, x6]`` of one document (see the module docstring)."""
    tokens = tokenize(text)
    polarity = Counter(lexicon.get(t) for t in tokens)
    return [
        float(polarity["positive"]),
        float(polarity["negative"]),
        1.0 if "no" in tokens else 0.0,
        float(sum(_stem(t) in PRONOUNS for t in tokens)),
        1.0 if "!" in tokens else 0.0,
        math.log(len(tokens)) if tokens else 0.0,
    ]


# ------------------------------------------------------------- vocabularies
def build_vocab(docs: Iterable[Sequence[str]], min_count: int = 1, specials: Sequence[str] = (PAD, UNK)) -> list[str]:
    """Specials first, then words with at least ``min_count`` occurrences, most frequent first (ties: alphabetical)."""
    counts = Counter(t for doc in docs for t in doc)
    words = sorted(
        (w for w, c in counts.items() if c >= min_count and w not in specials), key=lambda w: (-counts[w], w)
    )
    return list(specials) + words


def indices(tokens: Sequence[str], vocab: Sequence[str]) -> list[int]:
    """Word indices; words outside ``vocab`` map to ``<unk>``."""
    index = {w: i for i, w in enumerate(vocab)}
    unk = index[UNK]
    return [index.get(t, unk) for t in tokens]


def fixed_length(ids: Sequence[int], length: int, pad: int = 0) -> list[int]:
    """Truncate to ``length`` ids, or pad at the end with ``pad``."""
    ids = list(ids[:length])
    return ids + [pad] * (length - len(ids))


def windows(sentences: Iterable[Sequence[int]], n: int, bos: int, eos: int) -> tuple[list[list[int]], list[int]]:
    """N-gram training pairs: for each word wₜ of each sentence (and its end ``</s>``), the
    N−1 previous ids (``<s>``-padded) as the context and wₜ as the target."""
    contexts, targets = [], []
    for sent in sentences:
        padded = [bos] * (n - 1) + list(sent) + [eos]
        for t in range(n - 1, len(padded)):
            contexts.append(padded[t - n + 1 : t])
            targets.append(padded[t])
    return contexts, targets
