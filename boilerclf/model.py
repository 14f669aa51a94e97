"""The classifier: a saved model (plain arrays plus JSON) and the staged prediction.

Stage one scores each paragraph alone, from hashed n-grams and shape (a linear model). Stage two
re-scores it from stage one's scores for it and its neighbours, its position and its repeats (a
small neural network); stage three does the same again from stage two's scores, so that a
paragraph's decision can rest on its neighbours' context-aware decisions, not just their text.
All are evaluated with numpy only: inference imports neither scikit-learn nor scipy, and the file
loads without executing code (`allow_pickle=False`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from .context import PageContext, repeat_counts
from .features import SHAPE_NAMES, Featurizer, Words, pack_weights
from .rules import Rule, first_match, load_rules
from .segment import Paragraph, SplitMode, join_kept, segment

LABELS = ("body", "appeal", "debris")
FORMAT = "boilerclf-model"
FORMAT_VERSION = 4  # 2: stage two reads the article span and shared words; 3: stacked context stages; 4: ® is no copyright flag
CONFIG_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
Favor = Literal["precision", "balanced", "recall"]
FAVORS = ("precision", "balanced", "recall")
Z_CLIP = 4.0
STAGE_ONE_CHUNK = 2048  # paragraphs per featurizer call: its arrays then stay in the CPU cache
CONTEXT_CHUNK = 8192  # rows per network evaluation in a context stage, for the same reason
DOCUMENT_CHUNK = 16384  # paragraphs of whole documents scored together, for the same reason


class ModelError(ValueError):
    """A model directory that is missing, corrupt, truncated or not a boilerclf model."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the classifier decided for one paragraph of a document."""

    paragraph: Paragraph
    label: str
    probabilities: tuple[float, float, float]
    kept: bool
    rule: str | None = None  # the name of the user rule that decided, if one did


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def standardize(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scale a context stage's inputs, clipped so that a value unseen in training cannot dominate."""
    return np.clip((x - mean) / scale, -Z_CLIP, Z_CLIP)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(directory: str | Path, arrays: dict[str, np.ndarray], config: dict) -> None:
    """Write `weights.npz` and `model.json` (with the weights' checksum) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    # Fixed member order and timestamps-free zip entries keep the bytes reproducible.
    with open(weights, "wb") as handle:
        np.savez_compressed(handle, **{k: arrays[k] for k in sorted(arrays)})
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **config, "weights_sha256": _file_sha256(weights)}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


_REQUIRED = ("char_classes", "char_lower", "s1_hashed", "s1_shape", "s1_bias")


def _read_model(directory: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a model directory; every failure is one `ModelError` naming the problem."""
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    if not config_path.is_file() or not weights_path.is_file():
        raise ModelError(f"{directory} is not a boilerclf model (needs {CONFIG_FILE} and {WEIGHTS_FILE})")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{config_path}: unreadable model config ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelError(f"{config_path} is not a boilerclf model config")
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{directory}: model format {config.get('format_version')!r}, this boilerclf reads format "
            f"{FORMAT_VERSION}; retrain it with `boilerclf train` or install a matching boilerclf"
        )
    if _file_sha256(weights_path) != config.get("weights_sha256"):
        raise ModelError(f"{weights_path}: checksum mismatch, the weights file is corrupt or was changed")
    try:
        with np.load(weights_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # a damaged zip can fail in many ways; all mean the same to a user
        raise ModelError(f"{weights_path}: unreadable weights ({exc})") from None
    missing = [k for k in _REQUIRED if k not in arrays]
    if missing:
        raise ModelError(f"{weights_path}: missing arrays {', '.join(missing)}")
    bits = int(config.get("featurizer", {}).get("bits", -1))
    if arrays["s1_hashed"].shape != (1 << bits, len(LABELS)) or arrays["s1_shape"].shape != (len(SHAPE_NAMES), len(LABELS)):
        raise ModelError(f"{weights_path}: stage-one weights do not match the model config")
    if arrays["char_classes"].shape != (0x10000,) or arrays["char_lower"].shape != (0x10000,):
        raise ModelError(f"{weights_path}: character tables have the wrong shape")
    _check_context_stages(weights_path, config, arrays)
    return config, arrays


def _context_width() -> int:
    """How many context features this version computes: what each context stage's first layer must read."""
    words = Words(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    probs = np.full((1, len(LABELS)), 1.0 / len(LABELS))
    return PageContext(np.zeros((1, len(SHAPE_NAMES))), np.array([1]), np.ones(1), words).features(probs).shape[1]


def _check_context_stages(weights_path: Path, config: dict, arrays: dict[str, np.ndarray]) -> None:
    """Each context stage's layers exist, chain, read this version's context features and end in the labels."""
    stages = config.get("context_stages")
    if not isinstance(stages, list) or not stages or not all(isinstance(n, int) and n > 0 for n in stages):
        raise ModelError(f"{weights_path}: the model config lists no context stages")
    context_width = _context_width()
    for stage, layers in enumerate(stages, start=2):
        prefix = f"s{stage}_"
        names = [(f"{prefix}w{i}", f"{prefix}b{i}") for i in range(layers)]
        if any(w not in arrays or b not in arrays for w, b in names) or f"{prefix}mean" not in arrays:
            raise ModelError(f"{weights_path}: stage-{stage} layers missing")
        if arrays[f"{prefix}mean"].shape != (context_width,) or arrays.get(f"{prefix}scale", np.zeros(0)).shape != (
            context_width,
        ):
            raise ModelError(
                f"{weights_path}: stage {stage} expects other context features than this boilerclf computes"
            )
        width = context_width
        for w, b in names:
            if arrays[w].ndim != 2 or arrays[w].shape[0] != width or arrays[b].shape != (arrays[w].shape[1],):
                raise ModelError(f"{weights_path}: stage-{stage} layer {w} does not fit the layer before it")
            width = arrays[w].shape[1]
        if width != len(LABELS):
            raise ModelError(f"{weights_path}: stage {stage} does not end in {len(LABELS)} labels")


@dataclass(frozen=True)
class ContextStage:
    """One context stage: a small network that corrects the previous stage from context features."""

    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]

    def correction(self, context: np.ndarray) -> np.ndarray:
        """The correction to the previous stage's log-probabilities, for rows of context features."""
        x = standardize(context, self.mean, self.scale)
        for i, (w, b) in enumerate(self.layers):
            x = x @ w + b
            if i < len(self.layers) - 1:
                np.maximum(x, 0.0, out=x)
        return x.astype(np.float64)

    def refine(self, proba: np.ndarray, context: np.ndarray) -> np.ndarray:
        """The previous stage's probabilities corrected: the network's output adds to their logs."""
        correction = np.concatenate(
            [self.correction(context[i : i + CONTEXT_CHUNK]) for i in range(0, len(context), CONTEXT_CHUNK)]
        )
        return _softmax(np.log(np.clip(proba, 1e-6, 1.0)) + correction)


def default_model_path() -> Path:
    """The model shipped inside the package (or, in a source checkout, in `models/default`)."""
    packaged = Path(__file__).parent / "_model"
    if (packaged / CONFIG_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "models" / "default"


class Classifier:
    """Labels paragraphs `body`, `appeal` or `debris` and cleans documents.

    Immutable after loading, so one instance can be shared across threads.

    Args:
        path: a model directory; by default `$BOILERCLF_MODEL`, else the packaged model.
        rules: user rules applied on top of the model (see `boilerclf.rules`), or a rules file.
    """

    labels: tuple[str, ...] = LABELS

    def __init__(self, path: str | os.PathLike[str] | None = None, *, rules: Sequence[Rule] | str | os.PathLike[str] | None = None):
        self.rules: list[Rule] = load_rules(rules) if isinstance(rules, (str, os.PathLike)) else list(rules or [])
        chosen = path if path is not None else os.environ.get("BOILERCLF_MODEL") or default_model_path()
        self.path = Path(chosen)
        self.config, arrays = _read_model(self.path)
        featurizer = self.config["featurizer"]
        self._featurizer = Featurizer(
            featurizer["bits"], featurizer["char_orders"], arrays["char_classes"], arrays["char_lower"]
        )
        # Softmax ignores a shift shared by all classes, so stage one needs only the two logits
        # relative to the last class: half the table look-ups of three.
        hashed = arrays["s1_hashed"].astype(np.float32)
        self._s1_table = pack_weights(hashed[:, 0] - hashed[:, 2], hashed[:, 1] - hashed[:, 2])
        self._s1_shape = arrays["s1_shape"] - arrays["s1_shape"][:, -1:]
        self._s1_bias = arrays["s1_bias"] - arrays["s1_bias"][-1]
        self._context_stages = [
            ContextStage(
                arrays[f"s{stage}_mean"], arrays[f"s{stage}_scale"],
                [(arrays[f"s{stage}_w{i}"], arrays[f"s{stage}_b{i}"]) for i in range(layers)],
            )
            for stage, layers in enumerate(self.config["context_stages"], start=2)
        ]
        self.thresholds: dict[str, float] = {f: float(self.config["thresholds"][f]) for f in FAVORS}

    # -- scoring -----------------------------------------------------------------------------
    def _stage_one(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, Words]:
        """Stage-one logits, shape features and words, a cache-sized chunk of paragraphs at a time."""
        logits, shapes, words = [], [], []
        for start in range(0, max(len(texts), 1), STAGE_ONE_CHUNK):
            scores, shape, chunk_words = self._featurizer.linear_scores(texts[start : start + STAGE_ONE_CHUNK], self._s1_table)
            logits.append(np.hstack([scores, np.zeros((len(scores), 1))]) + shape @ self._s1_shape + self._s1_bias)
            shapes.append(shape)
            words.append(chunk_words.shifted(start))
        return (
            np.concatenate(logits), np.concatenate(shapes),
            Words(np.concatenate([w.rows for w in words]), np.concatenate([w.ids for w in words])),
        )

    def _proba_documents(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """Probabilities for documents laid end to end: one (sum of sizes, 3) array.

        Whole documents are scored a few thousand paragraphs at a time, so that the context
        stages' arrays stay in the CPU cache.
        """
        pieces, start, size = [], 0, 0
        for end, document in enumerate(documents, start=1):
            size += len(document)
            if size >= DOCUMENT_CHUNK or end == len(documents):
                pieces.append(self._proba_chunk(documents[start:end]))
                start, size = end, 0
        return np.concatenate(pieces) if pieces else np.zeros((0, len(LABELS)))

    def _proba_chunk(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """`_proba_documents` for one chunk of documents."""
        texts = [t for doc in documents for t in doc]
        if not texts:
            return np.zeros((0, len(LABELS)))
        logits, shape, words = self._stage_one(texts)
        sizes = np.array([len(doc) for doc in documents], dtype=np.int64)
        repeats = repeat_counts(texts, sizes)
        proba = _softmax(logits)
        page = PageContext(shape, sizes, repeats, words)
        for stage in self._context_stages:
            proba = stage.refine(proba, page.features(proba))
        return proba

    def _decide(
        self, documents: Sequence[Sequence[str]], favor: Favor, langs: Sequence[str | None] | None = None
    ) -> tuple[np.ndarray, list[str], list[str | None]]:
        """Probabilities, labels and the rule (if any) behind each label, for documents end to end."""
        if favor not in self.thresholds:
            raise ValueError(f"unknown favor {favor!r}: use precision, balanced or recall")
        proba = self._proba_documents(documents)
        keep = proba[:, 0] >= self.thresholds[favor]
        other = np.where(proba[:, 1] >= proba[:, 2], 1, 2)
        labels = [LABELS[0] if k else LABELS[o] for k, o in zip(keep, other)]
        fired: list[str | None] = [None] * len(labels)
        if self.rules:
            i = 0
            for d, doc in enumerate(documents):
                lang = langs[d] if langs is not None else None
                for text in doc:
                    rule = first_match(self.rules, text, lang)
                    if rule is not None:
                        labels[i], fired[i] = rule.label, rule.name
                    i += 1
        return proba, labels, fired

    def _split(self, values: Sequence, documents: Sequence[Sequence]) -> list[list]:
        out, i = [], 0
        for doc in documents:
            out.append(list(values[i : i + len(doc)]))
            i += len(doc)
        return out

    # -- public API --------------------------------------------------------------------------
    def predict_proba(self, paragraphs: Sequence[str]) -> np.ndarray:
        """Probabilities (n, 3), columns in `labels` order, for the paragraphs of one document.

        The model's own probabilities: rules change labels, not probabilities.
        """
        return self._proba_documents([list(paragraphs)])

    def predict(self, paragraphs: Sequence[str], *, favor: Favor = "balanced", lang: str | None = None) -> list[str]:
        """A label per paragraph of one document: `body` exactly where `clean` would keep it."""
        return self.predict_documents([paragraphs], favor=favor, langs=[lang])[0]

    def proba_documents(self, documents: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """`predict_proba` for many documents, scored together: one array per document."""
        proba = self._proba_documents(documents)
        return np.split(proba, np.cumsum([len(doc) for doc in documents])[:-1]) if documents else []

    def predict_documents(
        self, documents: Sequence[Sequence[str]], *, favor: Favor = "balanced", langs: Sequence[str | None] | None = None
    ) -> list[list[str]]:
        """`predict` for many documents (each a list of paragraphs), scored together."""
        return self._split(self._decide(documents, favor, langs)[1], documents)

    def annotate(
        self, text: str, *, favor: Favor = "balanced", split: SplitMode = "auto", lang: str | None = None
    ) -> list[Decision]:
        """Each paragraph of `text` with its offsets, label, probabilities and keep decision."""
        return self.annotate_batch([text], favor=favor, split=split, langs=[lang])[0]

    def annotate_batch(
        self, texts: Iterable[str], *, favor: Favor = "balanced", split: SplitMode = "auto",
        langs: Sequence[str | None] | None = None,
    ) -> list[list[Decision]]:
        """`annotate` for many documents, scored together (much faster than one by one)."""
        return self.decide_batch([segment(text, split) for text in texts], favor=favor, langs=langs)

    def decide_batch(
        self, documents: Sequence[Sequence[Paragraph]], *, favor: Favor = "balanced",
        langs: Sequence[str | None] | None = None,
    ) -> list[list[Decision]]:
        """Decisions for documents already split into paragraphs (see `segment`)."""
        texts = [[p.text for p in paragraphs] for paragraphs in documents]
        proba, labels, fired = self._decide(texts, favor, langs)
        flat = [p for paragraphs in documents for p in paragraphs]
        decisions = [
            Decision(p, label, tuple(float(v) for v in row), label == "body", rule)
            for p, label, row, rule in zip(flat, labels, proba, fired)
        ]
        return self._split(decisions, documents)

    def clean(
        self, text: str, *, favor: Favor = "balanced", split: SplitMode = "auto", lang: str | None = None
    ) -> str:
        """The kept paragraphs of `text`, byte for byte, each with its original separator."""
        return self.clean_batch([text], favor=favor, split=split, langs=[lang])[0]

    def clean_batch(
        self, texts: Iterable[str], *, favor: Favor = "balanced", split: SplitMode = "auto",
        langs: Sequence[str | None] | None = None,
    ) -> list[str]:
        """`clean` for many documents, scored together."""
        texts = list(texts)
        decisions = self.annotate_batch(texts, favor=favor, split=split, langs=langs)
        return [
            join_kept(text, [d.paragraph for d in doc], [d.kept for d in doc]) for text, doc in zip(texts, decisions)
        ]


_cache: dict[tuple, Classifier] = {}
_cache_lock = threading.Lock()


def _version(path: Path) -> int | None:
    """A file's modification time, so that a model or rules file rewritten in place is reloaded."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def load(path: str | os.PathLike[str] | None = None, *, rules: str | os.PathLike[str] | None = None) -> Classifier:
    """A `Classifier` for `path` (default: `$BOILERCLF_MODEL`, else the packaged model), cached.

    `rules` is a rules file applied on top of the model; each (model, rules) pair is loaded once,
    and again when either file changes (a model retrained into the same directory, edited rules).
    """
    chosen = Path(path if path is not None else os.environ.get("BOILERCLF_MODEL") or default_model_path()).resolve()
    rules_path = Path(rules).resolve() if rules is not None else None
    key = (
        str(chosen), _version(chosen / CONFIG_FILE), _version(chosen / WEIGHTS_FILE),
        str(rules_path) if rules_path else None, _version(rules_path) if rules_path else None,
    )
    with _cache_lock:
        if key not in _cache:
            for stale in [k for k in _cache if k[0] == key[0] and k[3] == key[3]]:
                del _cache[stale]
            _cache[key] = Classifier(chosen, rules=rules)
        return _cache[key]
