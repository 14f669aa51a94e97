"""Train a staged model from labelled documents (needs scikit-learn and scipy).

Stage one, a linear model over hashed n-grams and shape features, is fitted with out-of-fold
predictions so that stage two, a small neural network over context features, learns from the
stage-one scores it will really see on new pages. Each later context stage learns the same way
from the out-of-fold scores of the stage before it (folds by document). The `favor` thresholds
are set on the validation documents. Deterministic for a given seed.
"""

from __future__ import annotations

import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .context import PageContext, repeat_counts
from .data import DataError, Document
from .evaluate import predict_documents, score
from .features import Featurizer, build_char_tables
from .model import FAVORS, LABELS, Classifier, ContextStage, _softmax, save_model, standardize

DEFAULTS = {
    "bits": 19,  # 2^19 hashed n-gram buckets (validation F1 0.9517 with 2^18 -> 0.9536; 2^20 no better)
    "char_orders": [3, 4],
    "alpha": 1e-5,
    "epochs": 8,
    "hidden": [128, 64],  # hidden units of each context stage (stage two, stage three)
    "folds": 4,
    "body_weight": 1.5,
    "batch_size": 1024,
    "learning_rate": 3e-3,
    "mlp_epochs": 30,
    "average_from": 0.5,  # share of the MLP epochs after which the weights are averaged
    "l2": 1e-4,
    "input_dropout": 0.1,
    "stage_folds": 2,
}


def _label_ids(docs: Sequence[Document]) -> np.ndarray:
    """Three-way label ids; `boilerplate` and `ambiguous` become -1 (not trained on here)."""
    index = {label: i for i, label in enumerate(LABELS)}
    return np.array([index.get(label, -1) for doc in docs for label in doc.labels], dtype=np.int64)


class Trainer:
    """Fits the arrays of a model; `fit` returns self, learned state ends in `_`."""

    def __init__(self, seed: int = 0, log: Callable[[str], None] = print, **params):
        self.seed = seed
        self.log = log
        self.params = {**DEFAULTS, **params}

    def _matrix(self, featurizer: Featurizer, docs: Sequence[Document]):
        from scipy import sparse

        texts = [t for d in docs for t in d.texts]
        hashed, shape, words = featurizer.transform(texts)
        hashed_matrix = sparse.csr_matrix(
            (hashed.vals.astype(np.float64), (hashed.rows, hashed.cols)), shape=(hashed.n_rows, 1 << featurizer.bits)
        )
        return sparse.hstack([hashed_matrix, sparse.csr_matrix(shape.astype(np.float64))], format="csr"), shape, words

    def _stage_one(self, x, y, weights):
        from sklearn.linear_model import SGDClassifier

        model = SGDClassifier(
            loss="log_loss", alpha=self.params["alpha"], max_iter=self.params["epochs"], tol=None,
            random_state=self.seed, average=True,
        )
        model.fit(x, y, sample_weight=weights)
        return model

    def fit(self, docs: Sequence[Document]) -> "Trainer":
        start = time.time()
        p = self.params
        self.char_classes_, self.char_lower_ = build_char_tables()
        featurizer = Featurizer(p["bits"], p["char_orders"], self.char_classes_, self.char_lower_)
        x, shape, words = self._matrix(featurizer, docs)
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
        labelled = y >= 0

        def fit_rows(rows: np.ndarray):
            return self._stage_one(x[rows], y[rows], weights[rows])

        # The fits are independent and scikit-learn's SGD loop releases the GIL: two threads
        # halve the wall time and give the same weights as one.
        with ThreadPoolExecutor(max_workers=2) as pool:
            fold_models = pool.map(fit_rows, [np.flatnonzero((fold != k) & labelled) for k in range(p["folds"])])
            final = pool.submit(fit_rows, np.flatnonzero(labelled))
            for k, model in enumerate(fold_models):
                rows = np.flatnonzero(fold == k)
                oof[rows] = _softmax(model.decision_function(x[rows]))
                self.log(f"stage one, fold {k + 1}/{p['folds']} ({time.time() - start:.1f}s)")
            stage_one = final.result()
        self.s1_hashed_ = stage_one.coef_[:, : 1 << p["bits"]].T.astype(np.float16)
        self.s1_shape_ = stage_one.coef_[:, 1 << p["bits"] :].T.astype(np.float32)
        self.s1_bias_ = stage_one.intercept_.astype(np.float32)

        page = PageContext(shape, sizes, repeat_counts([t for d in docs for t in d.texts], sizes), words)
        doc_fold = np.repeat([zlib.crc32(f"{self.seed}:{d.doc_id}".encode()) % p["stage_folds"] for d in docs], sizes)
        self.context_stages_ = []
        proba = oof
        n_stages = len(p["hidden"])
        for stage in range(2, 2 + n_stages):
            context = page.features(proba).astype(np.float64)
            mean = context.mean(axis=0).astype(np.float32)
            scale = np.maximum(context.std(axis=0), 1e-3).astype(np.float32)
            z, offset = standardize(context, mean, scale), np.log(np.clip(proba, 1e-6, 1.0))

            def fit(rows: np.ndarray) -> ContextStage:
                layers = fit_residual_mlp(
                    z[rows], offset[rows], y[rows], weights[rows], hidden=p["hidden"][stage - 2],
                    epochs=p["mlp_epochs"], batch_size=p["batch_size"], learning_rate=p["learning_rate"],
                    l2=p["l2"], input_dropout=p["input_dropout"], average_from=p["average_from"], seed=self.seed,
                )
                return ContextStage(mean, scale, layers)

            self.context_stages_.append(fit(np.flatnonzero(labelled)))
            self.log(f"stage {stage} fitted ({time.time() - start:.1f}s)")
            if stage < 1 + n_stages:
                # The next stage learns from this one's out-of-fold scores, folds by document.
                next_proba = np.zeros_like(proba)
                for k in range(p["stage_folds"]):
                    held = doc_fold == k
                    next_proba[held] = fit(np.flatnonzero(labelled & ~held)).refine(proba[held], context[held])
                    self.log(f"stage {stage}, fold {k + 1}/{p['stage_folds']} ({time.time() - start:.1f}s)")
                proba = next_proba
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "char_classes": self.char_classes_, "char_lower": self.char_lower_,
            "s1_hashed": self.s1_hashed_, "s1_shape": self.s1_shape_, "s1_bias": self.s1_bias_,
        }
        for stage, context_stage in enumerate(self.context_stages_, start=2):
            arrays[f"s{stage}_mean"], arrays[f"s{stage}_scale"] = context_stage.mean, context_stage.scale
            for i, (w, b) in enumerate(context_stage.layers):
                arrays[f"s{stage}_w{i}"], arrays[f"s{stage}_b{i}"] = w, b
        return arrays


def fit_residual_mlp(
    x: np.ndarray, offset: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, *, hidden: int, epochs: int,
    batch_size: int, learning_rate: float, l2: float, input_dropout: float, average_from: float, seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A context stage: a one-hidden-layer network whose output is added to the previous stage's log-probabilities.

    It learns a correction, so with no evidence from the context the answer is the previous stage's; weight
    decay and input dropout keep corrections small and spread over many cues, which holds up better
    on real pages than a network free to re-decide everything from the synthetic pages' context.
    Plain numpy with Adam, deterministic for a seed. The weights returned are the average over
    the steps of the last epochs (from `average_from` of the way on): a single end point depends on
    the last batches' noise, and that noise decides whole pages when the context is unfamiliar.
    """
    rng = np.random.default_rng(seed)
    n, d = x.shape
    k = offset.shape[1]
    params = [
        rng.normal(0, np.sqrt(2.0 / d), (d, hidden)), np.zeros(hidden),
        rng.normal(0, np.sqrt(1.0 / hidden), (hidden, k)) * 0.1, np.zeros(k),
    ]
    moments = [np.zeros_like(p) for p in params]
    velocities = [np.zeros_like(p) for p in params]
    onehot = np.eye(k)[y]
    step = 0
    averaged = [np.zeros_like(p) for p in params]
    n_averaged = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            xb = x[idx] * (rng.random((len(idx), d)) >= input_dropout) / (1 - input_dropout)
            w1, b1, w2, b2 = params
            h = np.maximum(xb @ w1 + b1, 0.0)
            logits = offset[idx] + h @ w2 + b2
            g = (_softmax(logits) - onehot[idx]) * (sample_weight[idx] / sample_weight[idx].sum())[:, None]
            gh = (g @ w2.T) * (h > 0)
            grads = [xb.T @ gh + l2 * w1, gh.sum(0), h.T @ g + l2 * w2, g.sum(0)]
            step += 1
            for i, grad in enumerate(grads):
                moments[i] = 0.9 * moments[i] + 0.1 * grad
                velocities[i] = 0.999 * velocities[i] + 0.001 * grad * grad
                corrected = moments[i] / (1 - 0.9**step)
                params[i] -= learning_rate * corrected / (np.sqrt(velocities[i] / (1 - 0.999**step)) + 1e-8)
            if epoch >= int(average_from * epochs):
                n_averaged += 1
                for avg, param in zip(averaged, params):
                    avg += (param - avg) / n_averaged
    w1, b1, w2, b2 = averaged if n_averaged else params
    return [(w1.astype(np.float32), b1.astype(np.float32)), (w2.astype(np.float32), b2.astype(np.float32))]


F_TOLERANCE = 0.002  # F-score differences this small are noise on a validation split


def calibrate(classifier: Classifier, docs: Sequence[Document]) -> dict[str, float]:
    """`favor` thresholds on P(body) from validation documents.

    balanced maximises body F1; precision maximises F0.5 (less boilerplate kept); recall
    maximises F3 (less body lost). Ordered so that precision keeps a subset of balanced, which
    keeps a subset of recall. F-scores are flat near their top, so each favor takes the lowest
    threshold within `F_TOLERANCE` of its best score: among equally good choices, the one that
    loses the least article text, which a reader cannot get back.
    """
    proba = np.concatenate(classifier.proba_documents([d.texts for d in docs]))
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
        best[favor] = round(float(grid[int(np.argmax(np.array(scores) >= max(scores) - F_TOLERANCE))]), 2)
    best["precision"] = max(best["precision"], best["balanced"])
    best["recall"] = min(best["recall"], best["balanced"])
    return best


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
        "context_stages": [len(stage.layers) for stage in trainer.context_stages_],
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


def split_holdout(docs: Sequence[Document], share: float, seed: int) -> tuple[list[Document], list[Document]]:
    """A deterministic split of documents into (train, held out), `share` of them held out."""
    if share <= 0 or len(docs) < 2:
        return list(docs), []
    keyed = sorted(docs, key=lambda d: zlib.crc32(f"{seed}:{d.doc_id}".encode()))
    n_out = max(1, round(share * len(docs)))
    return keyed[n_out:], keyed[:n_out]


def check_trainable(docs: Sequence[Document], name: str, minimum: int = 5) -> None:
    """Refuse label sets that cannot train a three-way model, naming the missing class."""
    counts = {label: 0 for label in ("body", "drop")}
    for doc in docs:
        for label in doc.labels:
            if label == "body":
                counts["body"] += 1
            elif label != "ambiguous":
                counts["drop"] += 1
    for label, count in counts.items():
        if count < minimum:
            kind = "body" if label == "body" else "appeal, debris or boilerplate"
            raise DataError(f"{name}: only {count} {kind} paragraphs; at least {minimum} are needed to train")


def train_with_user_data(
    user_docs: Sequence[Document],
    out_dir: Path,
    *,
    base: bool = True,
    base_share: float = 1.0,
    seed: int = 0,
    holdout_share: float = 0.2,
    user_weight: float | None = None,
    reference: Classifier | None = None,
    log: Callable[[str], None] = print,
) -> tuple[Classifier, dict]:
    """Train a model on the user's documents (and by default our shipped data) into `out_dir`.

    `base_share` below 1 trains on that share of our training documents only (a fixed sample):
    quicker, for trying out labels, at some cost in accuracy.
    A held-out share of the user's documents, and our test split, are scored before (with
    `reference`, the current model) and after; the report is returned and saved in the model
    card. User documents are repeated so that they weigh at least a tenth of the base data.
    """
    from .data import base_data_path, read_documents
    from .labels import resolve_binary

    if reference is not None:
        user_docs = resolve_binary(user_docs, reference)
    user_train, user_held = split_holdout(user_docs, holdout_share, seed)
    train_docs, validation_docs, test_docs = list(user_train), [], []
    if base:
        base_train, _ = split_holdout(read_documents(base_data_path("train")), 1.0 - base_share, seed)
        validation_docs = read_documents(base_data_path("validation"))
        test_docs = read_documents(base_data_path("test"))
        user_paragraphs = max(1, sum(len(d.texts) for d in user_train))
        base_paragraphs = sum(len(d.texts) for d in base_train)
        repeat = int(user_weight) if user_weight else min(50, max(1, round(0.1 * base_paragraphs / user_paragraphs)))
        log(f"base data: {len(base_train)} documents; your {len(user_train)} training documents count {repeat} times each")
        train_docs = base_train + [d for d in user_train for _ in range(repeat)]
    if not validation_docs:
        validation_docs = list(user_train)
    check_trainable(train_docs, "training data")
    scored = {"your held-out documents": user_held, "our test split": test_docs}
    report: dict = {"before": {}, "after": {}}
    if reference is not None:
        for name, docs in scored.items():
            if docs:
                report["before"][name] = score(docs, predict_documents(reference, docs))
    summary = {"user_documents": len(user_docs), "user_train": len(user_train), "user_heldout": len(user_held), "base": base,
               "base_share": base_share if base else 0.0}
    classifier = train_model(train_docs, validation_docs, out_dir, seed=seed, summary=summary, log=log)
    for name, docs in scored.items():
        if docs:
            report["after"][name] = score(docs, predict_documents(classifier, docs))
    return classifier, report
