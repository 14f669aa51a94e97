"""Test cases as data: written documents with every paragraph's label, in `tests/cases/*.jsonl`.

Each case says whether the packaged model gets every keep/drop decision right (`"expect":
"pass"`) or is known to get some wrong (`"expect": "fail"`). Known failures run too, as strict
expected failures: the suite shows what is still wrong, and a case that starts to pass must be
moved to `pass` (the test then fails until it is).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import boilerclf

CASES = Path(__file__).parent / "cases"


def _cases() -> list:
    params = []
    for path in sorted(CASES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                marks = [pytest.mark.xfail(strict=True, reason=case["comment"])] if case["expect"] == "fail" else []
                params.append(pytest.param(case, id=case["name"], marks=marks))
    return params


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict, classifier: boilerclf.Classifier) -> None:
    texts = [p["text"] for p in case["paragraphs"]]
    predicted = classifier.predict(texts)
    wrong = [
        f"{p['label']:>6} predicted {label}: {p['text'][:60]}"
        for p, label in zip(case["paragraphs"], predicted)
        if (label == "body") != (p["label"] == "body")
    ]
    assert not wrong, "\n".join(wrong)


def test_cases_are_well_formed() -> None:
    names = set()
    for param in _cases():
        case = param.values[0]
        assert case["name"] not in names and case["expect"] in ("pass", "fail") and case["comment"]
        names.add(case["name"])
        assert {p["label"] for p in case["paragraphs"]} <= {"body", "appeal", "debris"}
