"""Shared fixtures for the text-classification tests: a small, easy, real-looking review file."""

import csv
import random

import pytest

POSITIVE = ["superb", "moving", "delightful", "brilliant", "gripping", "charming", "beautiful", "witty",
            "heartfelt", "stunning", "wonderful", "clever"]
NEGATIVE = ["dull", "clumsy", "tedious", "lifeless", "boring", "awful", "bland", "messy", "shallow",
            "predictable", "tiresome", "hollow"]
SUBJECTS = ["The acting", "The script", "The story", "This film", "The direction", "The cast",
            "The soundtrack", "The ending", "Every scene", "The dialogue"]
TEMPLATES = [
    "{s} is {a}.",
    "{s} feels {a} and {b} from start to finish.",
    "A {a}, {b} piece of work; {s2} is {c}.",
    "{s} was {a}, and {s2} was even more {b}.",
    "Honestly, {s} is {a} -- {b} in every way.",
]


def make_reviews(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """n distinct (text, label) pairs, alternating labels: each review uses words of its own
    polarity only, in varied sentences (so a model must learn which words carry the label)."""
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        label = "positive" if len(rows) % 2 == 0 else "negative"
        words = POSITIVE if label == "positive" else NEGATIVE
        a, b, c = rng.sample(words, 3)
        s, s2 = rng.sample(SUBJECTS, 2)
        text = rng.choice(TEMPLATES).format(s=s, s2=s2.lower(), a=a, b=b, c=c)
        if text not in seen:
            seen.add(text)
            rows.append((text, label))
    rng.shuffle(rows)
    return rows


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(scope="session")
def reviews_csv(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("reviews") / "reviews.csv", make_reviews(400))
