"""Users' labels: read them from any common format, check them, and pre-label new pages.

Accepted inputs (all but our own JSONL read through `datasets`):

- our document JSONL, plain or gzip (`{"doc_id", "paragraphs": [{"text", "label"}]}`);
- a paragraph table with columns `doc_id`, `text`, `label`, rows in page order, as JSONL, CSV or
  Parquet;
- a Hugging Face dataset saved with `save_to_disk` (either shape), or a Hub dataset id.

Labels are `body` / `appeal` / `debris`, or binary `body` / `boilerplate`; `ambiguous` is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .data import KNOWN_LABELS, DataError, Document, iter_documents
from .model import Classifier, Favor
from .segment import SplitMode

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_labelled(source: str | Path) -> list[Document]:
    """Labelled documents from a file, a saved dataset folder, or a Hub dataset id."""
    path = Path(source)
    if path.is_dir():
        return _from_dataset(_load_from_disk(path), str(path))
    if path.is_file():
        name = path.name.lower()
        suffix = next((s for s in TABLE_SUFFIXES if name.endswith(s)), None)
        if suffix:
            return _from_dataset(_load("csv" if suffix == ".csv" else "parquet", str(path)), str(path))
        if _is_paragraph_table(path):
            return _from_dataset(_load("json", str(path)), str(path))
        return list(iter_documents(path))
    if "/" in str(source) and not str(source).startswith((".", "/")):
        try:
            import datasets
        except ImportError:
            raise DataError(f"{source}: reading a Hub dataset needs `pip install boilerclf[train]`") from None
        try:
            return _from_dataset(datasets.load_dataset(str(source), split="train"), str(source))
        except Exception as exc:  # offline, private or absent: one line says which
            raise DataError(f"{source}: cannot load this Hub dataset ({exc.__class__.__name__}: {exc})") from None
    raise DataError(f"{source}: no such file, folder or dataset")


def _is_paragraph_table(path: Path) -> bool:
    """Whether a JSONL file holds one paragraph per line rather than one document."""
    for doc in _first_record(path):
        return isinstance(doc, dict) and "paragraphs" not in doc and "text" in doc
    return False


def _first_record(path: Path) -> Iterable[object]:
    import gzip

    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:1: malformed JSON ({exc.msg})") from None
                return


def _load(kind: str, path: str):
    try:
        import datasets
    except ImportError:
        raise DataError(f"{path}: reading {kind} needs `pip install boilerclf[train]`") from None
    try:
        return datasets.load_dataset(kind, data_files=path, split="train")
    except Exception as exc:  # datasets wraps parse errors in many types
        raise DataError(f"{path}: cannot read as {kind} ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from None


def _load_from_disk(path: Path):
    try:
        import datasets
    except ImportError:
        raise DataError(f"{path}: reading a saved dataset needs `pip install boilerclf[train]`") from None
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError(f"{path}: not a saved dataset ({exc.__class__.__name__})") from None
    if isinstance(loaded, datasets.DatasetDict):
        loaded = datasets.concatenate_datasets(list(loaded.values()))
    return loaded


def _from_dataset(ds, name: str) -> list[Document]:
    """Documents from a dataset of documents or of paragraphs (rows in page order)."""
    columns = set(ds.column_names)
    if "paragraphs" in columns:
        docs = []
        for number, record in enumerate(ds, 1):
            paragraphs = record["paragraphs"]
            if isinstance(paragraphs, dict):  # columnar storage of a list of structs
                paragraphs = [dict(zip(paragraphs, values)) for values in zip(*paragraphs.values())]
            docs.append(_document(record.get("doc_id") or f"{name}:{number}", paragraphs, record, name, number))
        return docs
    missing = {"doc_id", "text", "label"} - columns
    if missing:
        raise DataError(f"{name}: a paragraph table needs columns doc_id, text and label (missing {', '.join(sorted(missing))})")
    grouped: dict[str, list[tuple[int, dict]]] = {}
    for number, row in enumerate(ds, 1):
        grouped.setdefault(str(row["doc_id"]), []).append((number, {"text": row["text"], "label": row["label"]}))
    docs = []
    for doc_id, rows in grouped.items():
        for number, paragraph in rows:
            _check_paragraph(paragraph, name, number + (1 if name.endswith(".csv") else 0), 0)
        docs.append(Document(doc_id, [p["text"] for _, p in rows], [p["label"] for _, p in rows], {"doc_id": doc_id}))
    return docs


def _check_paragraph(paragraph: dict, name: str, line: int, index: int) -> None:
    where = f"{name}:{line}"
    text, label = paragraph.get("text"), paragraph.get("label")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: paragraph {index} has an empty or missing text")
    if label not in KNOWN_LABELS:
        raise DataError(f"{where}: paragraph {index} has unknown label {label!r} (use {', '.join(KNOWN_LABELS)})")


def _document(doc_id: str, paragraphs: Sequence[dict], record: dict, name: str, number: int) -> Document:
    for i, paragraph in enumerate(paragraphs):
        _check_paragraph(paragraph, name, number, i)
    meta = {k: v for k, v in record.items() if k != "paragraphs"}
    return Document(str(doc_id), [p["text"] for p in paragraphs], [p["label"] for p in paragraphs], meta)


def resolve_binary(docs: Sequence[Document], classifier: Classifier) -> list[Document]:
    """Give `boilerplate` paragraphs a subtype: the one `classifier` finds likelier.

    Many users have keep/drop labels only; a three-way model still learns from them, with the
    appeal-or-debris split borrowed from the current model. `body` labels are never changed.
    """
    needs = [d for d in docs if "boilerplate" in d.labels]
    if not needs:
        return list(docs)
    probabilities = classifier.proba_documents([d.texts for d in needs])
    resolved = {}
    for doc, proba in zip(needs, probabilities):
        labels = [
            ("appeal" if p[1] >= p[2] else "debris") if label == "boilerplate" else label
            for label, p in zip(doc.labels, proba)
        ]
        resolved[id(doc)] = Document(doc.doc_id, doc.texts, labels, doc.meta)
    return [resolved.get(id(d), d) for d in docs]


def prelabel(
    classifier: Classifier,
    named_texts: Sequence[tuple[str, str]],
    *,
    favor: Favor = "balanced",
    split: SplitMode = "auto",
    uncertain_first: bool = False,
) -> list[dict]:
    """Our document JSONL records for `(name, text)` pairs, labelled by `classifier`.

    A person then only corrects. With `uncertain_first`, documents come in order of how unsure
    the model is (mean entropy of its paragraphs' probabilities), so the most useful go first.
    """
    decisions = classifier.annotate_batch([text for _, text in named_texts], favor=favor, split=split)
    records, uncertainty = [], []
    for (name, _), doc in zip(named_texts, decisions):
        paragraphs = [
            {"text": d.paragraph.text, "label": d.label,
             "probabilities": {label: round(p, 4) for label, p in zip(classifier.labels, d.probabilities)}}
            for d in doc
        ]
        records.append({"doc_id": name, "paragraphs": paragraphs})
        proba = np.array([d.probabilities for d in doc]) if doc else np.ones((1, 3)) / 3
        uncertainty.append(float(-(proba * np.log(np.clip(proba, 1e-9, 1))).sum(axis=1).mean()))
    if uncertain_first:
        order = sorted(range(len(records)), key=lambda i: -uncertainty[i])
        records = [records[i] for i in order]
    return records
