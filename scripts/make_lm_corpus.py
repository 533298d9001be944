#!/usr/bin/env python3
"""Write derive/nlp/data/lm/corpus.txt (training) and heldout.txt: simple English from a small grammar, seeded.

    python3 scripts/make_lm_corpus.py [OUT_DIR]

Deterministic (``random.Random(SEED)``).  One sentence per line, tokens
separated by spaces.  The grammar has the regularities of J&M's example
(J&M ch. 7): pets are interchangeable in most frames ("the cat gets fed", "the dog
gets fed"), so a model with embeddings can share what it learns about one pet
with the others.  One pair never occurs in training on purpose: the hamster
never "sleeps" there, though it is in every other frame the cat and the dog
are in, and pets sleep *on* the sofa where farm animals sleep *in* the barn.
The held-out text has hamsters that sleep: after "the hamster sleeps" an
n-gram model has no count and backs off to P(on | sleeps), while a model with
embeddings can carry over what it learnt about cats and dogs.
"""

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "derive" / "nlp" / "data" / "lm"
SEED = 7
TRAIN_SENTENCES = 900
HELDOUT_SENTENCES = 150
UNSEEN = "hamster sleeps"

PETS = ["cat", "dog", "kitten", "puppy", "rabbit", "hamster"]
FARM = ["horse", "cow", "goat", "sheep", "pig"]
PEOPLE = ["the girl", "the boy", "my sister", "my brother", "our neighbour", "the farmer", "grandma", "the teacher"]
TIMES = ["morning", "evening", "afternoon", "night"]
PLACES = ["sofa", "bed", "rug", "chair", "floor", "blanket"]
FOODS = ["fish", "meat", "biscuits", "carrots", "hay", "grain"]
PET_FOOD = {"cat": "fish", "kitten": "fish", "dog": "meat", "puppy": "meat", "rabbit": "carrots", "hamster": "carrots"}
FARM_FOOD = {"horse": "hay", "cow": "hay", "goat": "grain", "sheep": "grain", "pig": "biscuits"}
COLOURS = ["black", "white", "brown", "grey", "small", "old", "young"]
WEATHER = ["it is sunny today", "it is raining again", "it is cold outside", "the sun is shining"]


def animal(rng, pets=True):
    kind = rng.choice(PETS if pets else FARM)
    article = rng.choice(["the", "the", "the", "my", "our"])
    if rng.random() < 0.3:
        return [article, rng.choice(COLOURS), kind], kind
    return [article, kind], kind


def sentence(rng):
    pet = rng.random() < 0.65
    a, kind = animal(rng, pet)
    food = (PET_FOOD if pet else FARM_FOOD)[kind]
    who = rng.choice(PEOPLE).split()
    time = rng.choice(TIMES)
    pick = rng.randrange(12)
    if pick == 0:
        return a + ["gets", "fed", "in", "the", time]
    if pick == 1:
        return a + ["is", "hungry", "so", "it", "gets", "fed"]
    if pick == 2:
        return who + ["feeds", "the", kind, "every", time]
    if pick == 3:
        return who + ["gives", "the", kind, "some", food]
    if pick == 4:
        return a + ["likes", "to", "eat", food]
    if pick == 5:
        where = rng.choice(PLACES) if pet else rng.choice(["barn", "field"])
        return a + ["sleeps", "on" if pet else "in", "the", where]
    if pick == 6:
        return a + ["is", "asleep"] + (["on", "the", rng.choice(PLACES)] if pet else ["in", "the", "barn"])
    if pick == 7:
        return who + ["plays", "with", "the", kind, "in", "the", "garden" if pet else "field"]
    if pick == 8:
        return (
            rng.choice(WEATHER).split()
            + ["so", "the", kind, "stays", "inside" if pet else ["in", "the", "barn"][0]]
            + ([] if pet else ["the", "barn"])
        )
    if pick == 9:
        return ["after", "dinner"] + a + ["gets", "fed", "too"]
    if pick == 10:
        return who + ["says", "that"] + a + ["is", "hungry"]
    return (
        a + ["wants", "to", "go", "outside" if pet else ["to", "the", "field"][0]] + ([] if pet else ["the", "field"])
    )


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    header = "written for chainrule by scripts/make_lm_corpus.py (MIT); one sentence per line"
    for name, count in (("corpus.txt", TRAIN_SENTENCES), ("heldout.txt", HELDOUT_SENTENCES)):
        lines = []
        while len(lines) < count:
            words = sentence(rng)
            if name == "corpus.txt" and UNSEEN in " ".join(words):
                continue  # the pair kept out of training
            lines.append(" ".join(words))
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(f"# {header}\n" + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
