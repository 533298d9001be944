#!/usr/bin/env python3
"""Write derive/nlp/data/sentiment/corpus.tsv: labelled review sentences composed from templates, seeded.

    python3 scripts/make_sentiment_corpus.py [OUT]

Deterministic (``random.Random(SEED)``): rerunning rewrites the same bytes.  A
document is 1–4 clauses about a film, a restaurant or a gadget; its label
(1 positive, 0 negative) is the writer's overall opinion, and most clauses
agree with it.  What makes the task non-trivial for the six J&M features:
mixed clauses, negation ("was not good", "no complaints", "no problems at all"),
"!" and pronouns in both classes, words outside the lexicon, and a "but" that
turns the review around.  Lines: ``label<TAB>topic<TAB>split<TAB>text``
(topic: film, food or gadget, for the multiclass embedding model); every fourth
document (after shuffling) is held out (split "test").
"""

import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "derive" / "nlp" / "data" / "sentiment" / "corpus.tsv"
SEED = 20261125
COUNT = 480

DOMAINS = {
    "film": (
        "the film|the movie|the plot|the acting|the soundtrack|the ending|the dialogue|the script|the lead|the story|the pacing|the sequel",
        "film|movie|story|performance|script|ending|cast",
        "watch|see|stream",
    ),
    "food": (
        "the food|the service|the staff|the soup|the pasta|the dessert|the waiter|the menu|the pizza|the coffee|the curry|the bread",
        "meal|dinner|place|restaurant|lunch|menu",
        "eat|order|try",
    ),
    "gadget": (
        "this phone|the battery|the screen|the camera|the charger|the app|the keyboard|the speaker|the laptop|the case|the headset|the update",
        "phone|gadget|device|purchase|laptop|product",
        "buy|use|order",
    ),
}
POS_ADJ = [
    "good",
    "great",
    "excellent",
    "wonderful",
    "amazing",
    "fantastic",
    "brilliant",
    "superb",
    "enjoyable",
    "nice",
    "lovely",
    "delightful",
    "charming",
    "beautiful",
    "impressive",
    "memorable",
    "clever",
    "fresh",
    "original",
    "engaging",
    "gripping",
    "entertaining",
    "fun",
    "pleasant",
    "solid",
    "perfect",
    "elegant",
    "sharp",
    "warm",
    "sweet",
    "terrific",
    "fabulous",
    "splendid",
    "reliable",
    "sturdy",
    "friendly",
    "efficient",
    "delicious",
    "tasty",
    "handy",
    "useful",
    "flawless",
    "intuitive",
]
NEG_ADJ = [
    "bad",
    "terrible",
    "awful",
    "horrible",
    "dreadful",
    "poor",
    "weak",
    "boring",
    "dull",
    "tedious",
    "bland",
    "flat",
    "stale",
    "predictable",
    "mediocre",
    "lame",
    "silly",
    "stupid",
    "ridiculous",
    "pointless",
    "shallow",
    "messy",
    "sloppy",
    "clumsy",
    "confusing",
    "sluggish",
    "bloated",
    "overrated",
    "wooden",
    "cheesy",
    "hokey",
    "second-rate",
    "shoddy",
    "flimsy",
    "broken",
    "faulty",
    "useless",
    "disappointing",
    "annoying",
    "frustrating",
    "rude",
    "dirty",
    "greasy",
    "soggy",
    "overpriced",
    "unreliable",
    "glitchy",
]
NEUTRAL_ADJ = [
    "long",
    "short",
    "loud",
    "quiet",
    "red",
    "big",
    "small",
    "new",
    "old",
    "spicy",
    "dark",
    "colourful",
    "french",
    "serious",
    "strange",
    "unusual",
    "busy",
    "heavy",
    "light",
]
OFF_LEXICON_POS = ["superlative", "top-notch", "spot-on", "first-class", "stellar"]
OFF_LEXICON_NEG = ["meh", "so-so", "mind-numbing", "lacklustre", "subpar"]
ADV = ["really", "very", "quite", "so", "truly", "rather", "pretty", "incredibly", "surprisingly", "genuinely"]
POS_VERB = ["loved", "enjoyed", "adored", "liked", "admired"]
NEG_VERB = ["hated", "disliked", "regretted"]
ENDINGS = [".", ".", ".", ".", "!", "?"]


def pick(rng, options):
    return rng.choice(options.split("|") if isinstance(options, str) else options)


def clause(rng, domain, positive):
    subjects, nouns, verbs = DOMAINS[domain]
    adj = pick(rng, POS_ADJ if positive else NEG_ADJ)
    opposite = pick(rng, NEG_ADJ if positive else POS_ADJ)
    off = pick(rng, OFF_LEXICON_POS if positive else OFF_LEXICON_NEG)
    subj, noun, verb = pick(rng, subjects), pick(rng, nouns), pick(rng, verbs)
    forms = [
        f"{subj} was {adj}",
        f"{subj} is {pick(rng, ADV)} {adj}",
        f"what a {adj} {noun}",
        f"{subj} was {pick(rng, NEUTRAL_ADJ)} but {adj}",
        f"{subj} was not {opposite}",  # negation: the lexicon word has the other polarity
        f"{subj} was {off}",  # a sentiment word the lexicon does not know
        f"{subj} felt {pick(rng, NEUTRAL_ADJ)}",  # no sentiment at all
    ]
    if positive:
        forms += [
            f"i {pick(rng, POS_VERB)} the {noun}",
            f"you should {verb} it",
            f"we will {verb} it again",
            f"no complaints about {subj}",
            f"no problems with {subj} at all",
            f"my friends {pick(rng, POS_VERB)} it too",
        ]
    else:
        forms += [
            f"i {pick(rng, NEG_VERB)} the {noun}",
            f"do not {verb} it",
            f"there was no {pick(rng, 'point|flavour|tension|plot|warmth|effort')} in {subj}",
            f"no one should {verb} this {noun}",
            f"{subj} had no {pick(rng, 'charm|taste|life|style|sense')}",
            f"we left {pick(rng, 'early|halfway through|before the end')}",
        ]
    return rng.choice(forms)


def document(rng):
    domain = rng.choice(sorted(DOMAINS))
    label = rng.random() < 0.5
    n = rng.choice([1, 2, 2, 3, 3, 4])
    polarities = [label if rng.random() < 0.85 else not label for _ in range(n)]
    if polarities.count(label) <= n - polarities.count(label):
        polarities[-1] = label
    parts = [clause(rng, domain, p) for p in polarities]
    text = parts[0]
    for part, prev, cur in zip(parts[1:], polarities, polarities[1:]):
        joiner = " , but " if prev != cur else rng.choice([" , and ", " . ", " ; "])
        text += joiner + part
    end = "!" if rng.random() < (0.35 if label else 0.2) else rng.choice(ENDINGS)
    text = text + " " + end
    text = re.sub(r" ([,.;!?])", r"\1", text)
    text = re.sub(r"\ba ([aeiou])", r"an \1", text)
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"(^|[.!?] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return int(label), domain, text


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    docs, seen = [], set()
    while len(docs) < COUNT:
        doc = document(rng)
        if doc[2] not in seen:
            seen.add(doc[2])
            docs.append(doc)
    lines = ["# label\ttopic\tsplit\ttext  (written for chainrule by scripts/make_sentiment_corpus.py; MIT)"]
    for i, (label, topic, text) in enumerate(docs):
        lines.append(f"{label}\t{topic}\t{'test' if i % 4 == 3 else 'train'}\t{text}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
