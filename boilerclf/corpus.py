"""Clean corpora that do not fit in memory: JSONL records, or very large text files, streamed.

Records are cleaned in chunks (scored together, which is what makes batches fast) and written
in input order, so memory stays flat however large the corpus is.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass, field
from typing import IO, Callable, Iterator

from .files import InputError, decode
from .model import Classifier, Favor
from .segment import Paragraph, SplitMode, join_kept

CHUNK_RECORDS = 256
WINDOW_LINES = 10_000


@dataclass
class CorpusStats:
    """What a corpus run did, for the summary line and for pipelines that count."""

    records: int = 0
    skipped: int = 0
    paragraphs: int = 0
    removed: dict[str, int] = field(default_factory=dict)


def open_input(path: str, stdin: IO[bytes]) -> IO[bytes]:
    """A binary handle on `path` (`-` is standard input), gunzipped when it is gzip."""
    raw = stdin if path == "-" else open(path, "rb")
    buffered = io.BufferedReader(raw) if not hasattr(raw, "peek") else raw
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return buffered  # type: ignore[return-value]


def _lines(handle: IO[bytes], name: str) -> Iterator[tuple[int, bytes]]:
    number = 0
    try:
        for number, line in enumerate(handle, 1):
            yield number, line
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{name}: line {number + 1}: the file is cut short or corrupt ({exc})") from None


def clean_jsonl(
    classifier: Classifier,
    handle: IO[bytes],
    write: Callable[[bytes], object],
    *,
    name: str,
    text_field: str = "text",
    keep_original: str | None = None,
    id_field: str | None = None,
    removed: Callable[[bytes], object] | None = None,
    on_error: str = "stop",
    favor: Favor = "balanced",
    split: SplitMode = "auto",
    warn: Callable[[str], None] = lambda message: None,
) -> CorpusStats:
    """Stream JSONL records from `handle`, replace `text_field` by its cleaned text, `write` each.

    A malformed record (bad JSON, not an object, no string `text_field`) stops the run with an
    `InputError` naming its line, or with `on_error="skip"` is reported through `warn` and left
    out. `removed` receives one JSON line per dropped paragraph, for audit.
    """
    stats = CorpusStats()
    pending: list[tuple[int, dict]] = []

    def flush() -> None:
        texts = [record[text_field] for _, record in pending]
        langs = [record.get("lang") if isinstance(record.get("lang"), str) else None for _, record in pending]
        results = classifier.annotate_batch(texts, favor=favor, split=split, langs=langs)
        for (number, record), text, decisions in zip(pending, texts, results):
            kept = join_kept(text, [d.paragraph for d in decisions], [d.kept for d in decisions])
            if keep_original:
                record[keep_original] = text
            record[text_field] = kept
            write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape"))
            stats.paragraphs += len(decisions)
            for d in decisions:
                if d.kept:
                    continue
                stats.removed[d.label] = stats.removed.get(d.label, 0) + 1
                if removed is not None:
                    side = {"line": number, "id": record.get(id_field) if id_field else None, "start": d.paragraph.start,
                            "end": d.paragraph.end, "label": d.label,
                            "probabilities": dict(zip(classifier.labels, (round(p, 5) for p in d.probabilities))),
                            "text": d.paragraph.text}
                    removed((json.dumps(side, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape"))
        pending.clear()

    for number, line in _lines(handle, name):
        if not line.strip():
            continue
        problem = None
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problem = f"malformed JSON ({getattr(exc, 'msg', exc)})"
        else:
            if not isinstance(record, dict):
                problem = "a record must be a JSON object"
            elif not isinstance(record.get(text_field), str):
                problem = f"no text field {text_field!r} (choose one with --text-field)"
        if problem:
            if on_error != "skip":
                raise InputError(f"{name}: line {number}: {problem}")
            warn(f"{name}: line {number}: {problem}; skipped")
            stats.skipped += 1
            continue
        pending.append((number, record))
        stats.records += 1
        if len(pending) >= CHUNK_RECORDS:
            flush()
    if pending:
        flush()
    return stats


def clean_large_text(
    classifier: Classifier,
    handle: IO[bytes],
    write: Callable[[bytes], object],
    *,
    name: str,
    favor: Favor = "balanced",
) -> int:
    """Clean a text too large to be one document, a window of lines at a time.

    Each window of `WINDOW_LINES` lines is scored as one document (a file this large is a
    concatenation of pages, not one page); kept lines are written byte for byte. Returns the
    count of bytes that were not UTF-8 (passed through unchanged).
    """
    undecodable = 0
    window: list[bytes] = []

    def flush() -> None:
        nonlocal undecodable
        data = b"".join(window)
        text, bad = decode(data, name)
        undecodable += bad
        lines = text.splitlines(keepends=True)
        paragraphs, offset = [], 0
        for line in lines:
            content = line.rstrip("\r\n")
            if content.strip():
                paragraphs.append(Paragraph(content, offset, offset + len(content)))
            offset += len(line)
        keep = [d.kept for d in classifier.decide_batch([paragraphs], favor=favor)[0]]
        write(join_kept(text, paragraphs, keep).encode("utf-8", "surrogateescape"))
        window.clear()

    for _, line in _lines(handle, name):
        window.append(line)
        if len(window) >= WINDOW_LINES:
            flush()
    if window:
        flush()
    return undecodable
