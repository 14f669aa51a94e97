"""Read labelled documents: our JSONL format (plain or gzip), one document per line.

`{"doc_id": ..., "lang": ..., "paragraphs": [{"text": ..., "label": ...}, ...]}` with labels
`body`, `appeal`, `debris`, or the binary `boilerplate` ("not body"), or `ambiguous` (skipped
when scoring and training). Errors name the file and the line.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

KNOWN_LABELS = ("body", "appeal", "debris", "boilerplate", "ambiguous")


class DataError(ValueError):
    """A labelled file that cannot be read: names the file, the line and the problem."""


@dataclass
class Document:
    doc_id: str
    texts: list[str]
    labels: list[str]
    meta: dict = field(default_factory=dict)


def _open(path: Path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else open(path, encoding="utf-8")


def iter_documents(path: str | Path) -> Iterator[Document]:
    """Documents of one labelled JSONL file, checked line by line."""
    path = Path(path)
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield parse_line(line, path, number)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def parse_line(line: str, path: Path, number: int) -> Document:
    """One line of a labelled JSONL file as a checked `Document`; errors name `path:number`."""
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: malformed JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("paragraphs"), list):
        raise DataError(f"{where}: a document needs a 'paragraphs' list")
    texts, labels = [], []
    for i, paragraph in enumerate(record["paragraphs"]):
        if not isinstance(paragraph, dict) or "text" not in paragraph or "label" not in paragraph:
            raise DataError(f"{where}: paragraph {i} needs 'text' and 'label'")
        text, label = paragraph["text"], paragraph["label"]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: paragraph {i} has an empty text")
        if label not in KNOWN_LABELS:
            raise DataError(f"{where}: paragraph {i} has unknown label {label!r} (use {', '.join(KNOWN_LABELS)})")
        texts.append(text)
        labels.append(label)
    meta = {k: v for k, v in record.items() if k != "paragraphs"}
    return Document(str(record.get("doc_id", f"{path.name}:{number}")), texts, labels, meta)


def read_documents(*paths: str | Path) -> list[Document]:
    return [doc for path in paths for doc in iter_documents(path)]


def base_data_path(split: str) -> Path:
    """Our labelled split `split` (train, validation or test): in the package, or the source tree."""
    name = f"{split}.jsonl.gz"
    packaged = Path(__file__).parent / "_data" / name
    if packaged.is_file():
        return packaged
    source = Path(__file__).resolve().parent.parent / "data" / name
    if source.is_file():
        return source
    raise DataError(f"the shipped training data ({name}) is missing from this installation; reinstall boilerclf")
