"""Evaluation gate: the packaged model must meet the floors pinned in `eval_floors.json`.

Floors are pinned with `python training/pin_floors.py`, which only ever raises them. They are
tied to a hash of the scored data, so a change of data is seen, not silently absorbed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import boilerclf
from boilerclf.data import read_documents
from boilerclf.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
FLOORS = json.loads((Path(__file__).parent / "eval_floors.json").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_model_meets_pinned_floors(name: str, classifier: boilerclf.Classifier) -> None:
    entry = FLOORS[name]
    path = (ROOT / entry["path"]).resolve()
    if not path.is_file():
        pytest.skip(f"{entry['path']} is absent (../shared not beside the clone)")
    assert sha256(path) == entry["sha256"], f"{entry['path']} changed: re-pin with training/pin_floors.py"
    overall = evaluate(classifier, read_documents(path), favor=entry["favor"], by=())["overall"]
    measured = {"body_f1": overall["body"]["f1"], "retention": overall["retention"], "leakage": overall["leakage"], "macro_f1": overall.get("macro_f1")}
    for metric, floor in entry["floors"].items():
        if metric == "leakage":
            assert measured[metric] <= floor, f"{name}: leakage {measured[metric]:.4f} above ceiling {floor}"
        else:
            assert measured[metric] >= floor, f"{name}: {metric} {measured[metric]:.4f} below floor {floor}"
