"""The public API: shapes, agreement between entry points, favor, and light imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import boilerclf

ARTICLE = [
    "City council approves new bike lanes after long debate",
    "By Jordan Reyes",
    "The council voted 7-2 on Tuesday night to build protected bike lanes along three of the city's busiest streets, "
    "ending a year of public hearings in which residents argued over parking, safety and the cost of the project.",
    "Construction is expected to begin in the spring and last about eight months, according to the transport office, "
    "which said the lanes would be separated from traffic by concrete kerbs and planters.",
    "What changes for drivers",
    "About 140 parking spaces will be removed, and delivery zones will move to side streets. Shop owners said they "
    "worried about losing customers, but a study commissioned by the city found little effect in similar projects.",
]
DONATION_BOX = [
    "Support independent local journalism",
    "Our reporting is free for everyone because readers like you chip in. If you value what we do, please consider "
    "a monthly gift today: every contribution, however small, keeps our newsroom going.",
    "Once",
    "Monthly",
    "Annual",
    "Continue",
    "Remind me later",
    "×",
]


def test_labels_and_probabilities(classifier: boilerclf.Classifier) -> None:
    paragraphs = ARTICLE + DONATION_BOX
    proba = classifier.predict_proba(paragraphs)
    assert proba.shape == (len(paragraphs), 3)
    assert classifier.labels == ("body", "appeal", "debris")
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = classifier.predict(paragraphs)
    assert labels[:3] == ["body"] * 3 and labels[4] == "body"  # headline, byline, subheading
    assert labels[len(ARTICLE) + 1] == "appeal"
    assert labels[len(ARTICLE) + 2 :] == ["debris"] * 6


def test_clean_keeps_article_byte_for_byte(classifier: boilerclf.Classifier) -> None:
    text = "\n".join(ARTICLE + DONATION_BOX) + "\n"
    assert classifier.clean(text) == "\n".join(ARTICLE) + "\n"


def test_module_shortcuts_use_the_default_model(classifier: boilerclf.Classifier) -> None:
    text = "\n".join(ARTICLE + DONATION_BOX)
    assert boilerclf.clean(text) == classifier.clean(text)
    assert boilerclf.classify(ARTICLE) == classifier.predict(ARTICLE)
    assert boilerclf.load() is boilerclf.load()
    assert [p.text for p in boilerclf.segment(text)] == ARTICLE + DONATION_BOX


def test_clean_batch_equals_clean_one_by_one(classifier: boilerclf.Classifier) -> None:
    texts = ["\n".join(ARTICLE + DONATION_BOX), "", "Just one line.", "\n".join(DONATION_BOX), "\n\n"]
    assert classifier.clean_batch(texts) == [classifier.clean(t) for t in texts]


@pytest.mark.parametrize("text", ["\n".join(ARTICLE + DONATION_BOX), "\n".join(DONATION_BOX + ARTICLE[2:])])
def test_favor_is_monotonic(classifier: boilerclf.Classifier, text: str) -> None:
    kept = {f: [d.kept for d in classifier.annotate(text, favor=f)] for f in boilerclf.FAVORS}
    for stricter, looser in (("precision", "balanced"), ("balanced", "recall")):
        assert all(b for a, b in zip(kept[stricter], kept[looser]) if a)
    t = classifier.thresholds
    assert t["precision"] >= t["balanced"] >= t["recall"]


def test_unknown_favor_is_refused(classifier: boilerclf.Classifier) -> None:
    with pytest.raises(ValueError, match="favor"):
        classifier.clean("Hello.", favor="maximum")  # type: ignore[arg-type]


def test_empty_inputs(classifier: boilerclf.Classifier) -> None:
    assert classifier.predict([]) == []
    assert classifier.predict_proba([]).shape == (0, 3)
    assert classifier.clean("") == ""


def test_seed_example_keeps_the_article_and_drops_the_appeal(classifier: boilerclf.Classifier, seed_text: bytes) -> None:
    text = seed_text.decode("utf-8")
    lines = text.splitlines(keepends=True)
    cleaned = classifier.clean(text)
    assert cleaned.startswith("".join(lines[:10]))
    appeal_start = next(i for i, line in enumerate(lines) if line.startswith("A Message from"))
    assert all(line.strip() not in cleaned for line in lines[appeal_start:])


def test_inference_imports_neither_sklearn_nor_scipy() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import boilerclf; boilerclf.clean('Hello.\\n')"],
        capture_output=True, text=True, check=True,
    )
    modules = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "numpy" in modules
    assert not modules & {"sklearn", "scipy", "datasets", "joblib", "pandas"}
