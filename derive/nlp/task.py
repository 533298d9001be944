"""What an NLP network reads and how its generated module trains (J&M ch. 7).

A text network is an ordinary ``VecNetwork`` over the op table (``embed``,
``pool_mean``, ``pool_max``, ``concat``); ``TextTask`` adds what the module's
data section needs: the task (``sentiment``: negative/positive, ``topic``:
film/food/gadget, ``lm``: the next word), the number of words per text and
the training defaults.  The vocabulary size |V| is a dimension of the
declaration, counted on the shipped training data (``vocabulary``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ..errors import ChainruleError
from .features import BOS, DATA, EOS, PAD, UNK, build_vocab, tokenize

TASKS = ("sentiment", "topic", "lm", "skipgram")
CLASS_NAMES = {"topic": ("film", "food", "gadget"), "sentiment": ("negative", "positive")}


@dataclass(frozen=True)
class TextExample:
    weights: tuple
    bias: float
    features: tuple
    source: str = ""  # where the numbers come from, for the handout: "J\\&M's example review"


@dataclass(frozen=True)
class TextTask:
    task: str
    training: dict = field(default_factory=dict)  # epochs, lr, batch, seed: the generated module's defaults
    length: int | None = None  # n: words per text (padded / truncated), or the LM's N − 1 previous words
    features: tuple[str, ...] = ()  # J&M's hand features x1..x6, for a features model
    sequence: bool = False  # an LM over one running text (W 1×T, one sequence per call), not N − 1 word windows
    characters: bool = False  # a sequence LM over the characters of the text (each sentence ends with a newline)
    # a features model's worked example (J&M fig. 5.2): weights, bias and one text's feature values (SymPy numbers,
    # so ln 66 stays ln 66), worked through in the handout; None: none
    example: TextExample | None = None
    window: int = 0  # skip-gram: the outside words on each side of the center word

    def __post_init__(self):
        if self.task not in TASKS:
            raise ChainruleError(f"unknown task '{self.task}' (expected one of: {', '.join(TASKS)})")

    @property
    def embedded(self) -> bool:
        return not self.features


def with_task(net, task: TextTask):
    """``net`` with its text task attached (``net.text_task``)."""
    net.text_task = task
    return net


@functools.cache
def vocabulary(part: str) -> tuple[str, ...]:
    """The vocabulary of the shipped training data: ``sentiment`` (reviews) or ``lm`` (the LM corpus)."""
    if part == "lm":
        text = (DATA / "lm" / "corpus.txt").read_text(encoding="utf-8")
        sentences = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return tuple(build_vocab(sentences, specials=(PAD, UNK, BOS, EOS)))
    rows = (DATA / "sentiment" / "corpus.tsv").read_text(encoding="utf-8").splitlines()
    docs = [tokenize(r.split("\t")[3]) for r in rows if r and not r.startswith("#") and r.split("\t")[2] == "train"]
    return tuple(build_vocab(docs))


@functools.cache
def characters(part: str = "lm") -> tuple[str, ...]:
    """The characters of the shipped LM training text, after <pad>: each sentence's letters and spaces, and the
    newline that ends it, in code-point order."""
    text = (DATA / "lm" / "corpus.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return (PAD, *sorted(set("\n".join(lines) + "\n")))
