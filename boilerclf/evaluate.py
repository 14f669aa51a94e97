"""Score a model against labelled documents: the numbers `boilerclf evaluate` prints.

Paragraphs labelled `ambiguous` are skipped. *keep* means predicted `body`. Three-way scores
(per label, macro-F1, confusion) count only paragraphs whose gold label has a subtype (`appeal`
or `debris`, not the binary `boilerplate`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np

from .data import Document
from .model import LABELS, Classifier, Favor


def _prf(tp: float, fp: float, fn: float) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def score(docs: Sequence[Document], predicted: Sequence[Sequence[str]]) -> dict:
    """Metrics of `predicted` labels against the gold labels of `docs` (same order)."""
    gold_all, pred_all, chars_all, perfect = [], [], [], 0
    for doc, pred in zip(docs, predicted):
        pairs = [(g, p, len(t)) for g, p, t in zip(doc.labels, pred, doc.texts) if g != "ambiguous"]
        gold_all += [g for g, _, _ in pairs]
        pred_all += [p for _, p, _ in pairs]
        chars_all += [c for _, _, c in pairs]
        perfect += all((g == "body") == (p == "body") for g, p, _ in pairs)
    gold = np.array(gold_all, dtype=object)
    pred = np.array(pred_all, dtype=object)
    chars = np.array(chars_all, dtype=np.float64)
    keep_gold, keep_pred = gold == "body", pred == "body"
    result: dict = {
        "documents": len(docs),
        "paragraphs": int(len(gold)),
        "body": _prf(float(np.sum(keep_gold & keep_pred)), float(np.sum(~keep_gold & keep_pred)), float(np.sum(keep_gold & ~keep_pred))),
        "drop": _prf(float(np.sum(~keep_gold & ~keep_pred)), float(np.sum(keep_gold & ~keep_pred)), float(np.sum(~keep_gold & keep_pred))),
        "retention": float(chars[keep_gold & keep_pred].sum() / chars[keep_gold].sum()) if keep_gold.any() else None,
        "leakage": float(chars[~keep_gold & keep_pred].sum() / chars[~keep_gold].sum()) if (~keep_gold).any() else None,
        "perfect": perfect / len(docs) if docs else None,
    }
    three = np.isin(gold, LABELS)
    if three.any() and np.isin(gold[three], LABELS[1:]).any():
        g3, p3 = gold[three], pred[three]
        per_label = {
            label: _prf(float(np.sum((g3 == label) & (p3 == label))), float(np.sum((g3 != label) & (p3 == label))), float(np.sum((g3 == label) & (p3 != label))))
            for label in LABELS
        }
        result["labels"] = per_label
        result["macro_f1"] = float(np.mean([v["f1"] for v in per_label.values()]))
        result["confusion"] = {g: {p: int(np.sum((g3 == g) & (p3 == p))) for p in LABELS} for g in LABELS}
    return result


def evaluate(classifier: Classifier, docs: Sequence[Document], *, favor: Favor = "balanced", by: Sequence[str] = ("lang", "source", "scenario")) -> dict:
    """Overall metrics and the same per value of each metadata field in `by`."""
    predicted = predict_documents(classifier, docs, favor=favor)
    report = {"favor": favor, "overall": score(docs, predicted)}
    for field in by:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            if field in doc.meta:
                groups[str(doc.meta[field])].append(i)
        if len(groups) > 0:
            report[f"by_{field}"] = {
                key: score([docs[i] for i in idx], [predicted[i] for i in idx]) for key, idx in sorted(groups.items())
            }
    return report


def predict_documents(classifier: Classifier, docs: Sequence[Document], *, favor: Favor = "balanced", chunk: int = 2000) -> list[list[str]]:
    """Labels for the paragraphs of each document as given (no re-segmentation)."""
    out: list[list[str]] = []
    for start in range(0, len(docs), chunk):
        part = docs[start : start + chunk]
        out.extend(classifier.predict_documents([d.texts for d in part], favor=favor, langs=[d.meta.get("lang") for d in part]))
    return out
