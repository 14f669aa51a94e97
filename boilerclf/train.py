"""Train a two-stage model from labelled documents (needs scikit-learn and scipy).

Stage one, a linear model over hashed n-grams and shape features, is fitted with out-of-fold
predictions (folds by document) so that stage two, a small neural network over context
features, learns from the stage-one scores it will really see on new pages. The `favor`
thresholds are set on the validation documents. Deterministic for a given seed.
"""

from __future__ import annotations

import tempfile
import zlib
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .context import context_features
from .data import Document
from .evaluate import predict_documents, score
from .features import Featurizer, build_char_tables
from .model import FAVORS, LABELS, Classifier, _softmax, save_model, standardize

DEFAULTS = {
    "bits": 18,
    "char_orders": [2, 3, 4],
    "alpha": 2e-6,
    "epochs": 12,
    "hidden": [64],
    "folds": 4,
    "body_weight": 1.5,
}


def _label_ids(docs: Sequence[Document]) -> np.ndarray:
    """Three-way label ids; `boilerplate` and `ambiguous` become -1 (not trained on here)."""
    index = {label: i for i, label in enumerate(LABELS)}
    return np.array([index.get(label, -1) for doc in docs for label in doc.labels], dtype=np.int64)


def _repeats(docs: Sequence[Document]) -> np.ndarray:
    from collections import Counter

    out = []
    for doc in docs:
        keys = [t.strip().lower() for t in doc.texts]
        counts = Counter(keys)
        out.extend(counts[k] for k in keys)
    return np.array(out, dtype=np.float64)


class Trainer:
    """Fits the arrays of a model; `fit` returns self, learned state ends in `_`."""

    def __init__(self, seed: int = 0, log: Callable[[str], None] = print, **params):
        self.seed = seed
        self.log = log
        self.params = {**DEFAULTS, **params}

    def _matrix(self, featurizer: Featurizer, docs: Sequence[Document]):
        from scipy import sparse

        texts = [t for d in docs for t in d.texts]
        hashed, shape = featurizer.transform(texts)
        hashed_matrix = sparse.csr_matrix(
            (hashed.vals.astype(np.float64), (hashed.rows, hashed.cols)), shape=(hashed.n_rows, 1 << featurizer.bits)
        )
        return sparse.hstack([hashed_matrix, sparse.csr_matrix(shape.astype(np.float64))], format="csr"), shape

    def _stage_one(self, x, y, weights):
        from sklearn.linear_model import SGDClassifier

        model = SGDClassifier(
            loss="log_loss", alpha=self.params["alpha"], max_iter=self.params["epochs"], tol=None,
            random_state=self.seed, average=True,
        )
        model.fit(x, y, sample_weight=weights)
        return model

    def fit(self, docs: Sequence[Document]) -> "Trainer":
        from sklearn.neural_network import MLPClassifier

        start = time.time()
        p = self.params
        self.char_classes_, self.char_lower_ = build_char_tables()
        featurizer = Featurizer(p["bits"], p["char_orders"], self.char_classes_, self.char_lower_)
        x, shape = self._matrix(featurizer, docs)
        y = _label_ids(docs)
        weights = np.where(y == 0, p["body_weight"], 1.0)
        self.log(f"features: {x.shape[0]} paragraphs from {len(docs)} documents ({time.time() - start:.1f}s)")

        # Out-of-fold stage-one probabilities. Stage one sees one paragraph at a time, so its
        # folds can group paragraphs by their text: a menu item or an appeal that recurs across
        # pages is scored by a model that never saw it, as on a new site. Folds by document would
        # let stage two learn to trust stage one on strings it had learnt by heart.
        sizes = np.array([len(d.texts) for d in docs])
        fold = np.array(
            [zlib.crc32(f"{self.seed}:{t.strip().lower()}".encode()) % p["folds"] for d in docs for t in d.texts]
        )
        oof = np.zeros((len(y), len(LABELS)))
        for k in range(p["folds"]):
            train_rows = np.flatnonzero((fold != k) & (y >= 0))
            model = self._stage_one(x[train_rows], y[train_rows], weights[train_rows])
            rows = np.flatnonzero(fold == k)
            oof[rows] = _softmax(model.decision_function(x[rows]))
            self.log(f"stage one, fold {k + 1}/{p['folds']} ({time.time() - start:.1f}s)")
        labelled = y >= 0
        stage_one = self._stage_one(x[labelled], y[labelled], weights[labelled])
        self.s1_hashed_ = stage_one.coef_[:, : 1 << p["bits"]].T.astype(np.float16)
        self.s1_shape_ = stage_one.coef_[:, 1 << p["bits"] :].T.astype(np.float32)
        self.s1_bias_ = stage_one.intercept_.astype(np.float32)

        context = context_features(oof, shape, sizes, _repeats(docs)).astype(np.float64)
        self.s2_mean_ = context.mean(axis=0).astype(np.float32)
        self.s2_scale_ = np.maximum(context.std(axis=0), 1e-3).astype(np.float32)
        z = standardize(context, self.s2_mean_, self.s2_scale_)
        mlp = MLPClassifier(
            hidden_layer_sizes=tuple(p["hidden"]), alpha=1e-4, batch_size=256, learning_rate_init=1e-3,
            max_iter=30, random_state=self.seed, tol=1e-5, n_iter_no_change=30,
        )
        # MLP sample weights arrived only in recent scikit-learn; repeat body rows instead.
        mlp.fit(z[labelled], y[labelled])
        self.s2_layers_ = [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(mlp.coefs_, mlp.intercepts_)]
        self.log(f"stage two fitted ({time.time() - start:.1f}s)")
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "char_classes": self.char_classes_, "char_lower": self.char_lower_,
            "s1_hashed": self.s1_hashed_, "s1_shape": self.s1_shape_, "s1_bias": self.s1_bias_,
            "s2_mean": self.s2_mean_, "s2_scale": self.s2_scale_,
        }
        for i, (w, b) in enumerate(self.s2_layers_):
            arrays[f"s2_w{i}"], arrays[f"s2_b{i}"] = w, b
        return arrays


def calibrate(classifier: Classifier, docs: Sequence[Document]) -> dict[str, float]:
    """`favor` thresholds on P(body) from validation documents.

    balanced maximises body F1; precision maximises F0.5 (less boilerplate kept); recall
    maximises F3 (less body lost). Ordered so that precision keeps a subset of balanced, which
    keeps a subset of recall.
    """
    proba = np.concatenate([p for p in _proba(classifier, docs)])
    gold = np.array([label for d in docs for label in d.labels])
    mask = gold != "ambiguous"
    body_p, is_body = proba[mask, 0], gold[mask] == "body"
    grid = np.linspace(0.02, 0.98, 97)
    best = {}
    for favor, beta in (("precision", 0.5), ("balanced", 1.0), ("recall", 3.0)):
        scores = []
        for t in grid:
            kept = body_p >= t
            tp, fp, fn = np.sum(kept & is_body), np.sum(kept & ~is_body), np.sum(~kept & is_body)
            scores.append((1 + beta**2) * tp / max((1 + beta**2) * tp + beta**2 * fn + fp, 1))
        best[favor] = float(grid[int(np.argmax(scores))])
    best["precision"] = max(best["precision"], best["balanced"])
    best["recall"] = min(best["recall"], best["balanced"])
    return best


def _proba(classifier: Classifier, docs: Sequence[Document]) -> list[np.ndarray]:
    full = classifier._proba_documents([d.texts for d in docs])
    out, i = [], 0
    for d in docs:
        out.append(full[i : i + len(d.texts)])
        i += len(d.texts)
    return out


def train_model(
    train_docs: Sequence[Document],
    validation_docs: Sequence[Document],
    out_dir: str | Path,
    *,
    seed: int = 0,
    summary: dict | None = None,
    log: Callable[[str], None] = print,
    **params,
) -> Classifier:
    """Fit, calibrate the `favor` thresholds on validation, save to `out_dir`, and load it."""
    trainer = Trainer(seed=seed, log=log, **params).fit(train_docs)
    config = {
        "labels": list(LABELS),
        "featurizer": {"bits": trainer.params["bits"], "char_orders": trainer.params["char_orders"]},
        "stage2_layers": len(trainer.s2_layers_),
        "params": trainer.params,
        "seed": seed,
        "training": summary or {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        save_model(tmp, trainer.arrays(), {**config, "thresholds": {f: 0.5 for f in FAVORS}})
        thresholds = calibrate(Classifier(tmp), validation_docs)
    log(f"thresholds: {thresholds}")
    save_model(out_dir, trainer.arrays(), {**config, "thresholds": thresholds})
    classifier = Classifier(out_dir)
    validation = score(validation_docs, predict_documents(classifier, validation_docs))
    log(f"validation: body F1 {validation['body']['f1']:.4f}, macro-F1 {validation.get('macro_f1', float('nan')):.4f}")
    return classifier
