"""Split a document into paragraphs that remember where they came from.

Offsets let `clean` return kept paragraphs byte for byte with their original separators, so
cleaning never rewrites text it keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SplitMode = Literal["auto", "lines", "blocks"]

_LINE = re.compile(r"[^\r\n]+")
_BREAK = re.compile(r"\r\n|\r|\n")
# In "auto" mode, blank lines mark paragraph boundaries only when they are a real separator of
# the text (hard-wrapped prose, Markdown), not a stray gap in a one-block-per-line dump.
_BLOCK_GAP_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One text block of a document: `text == document[start:end]`."""

    text: str
    start: int
    end: int


def segment(text: str, mode: SplitMode = "auto") -> list[Paragraph]:
    """Split `text` into paragraphs with character offsets.

    `lines`: each line holding more than white space is a paragraph. `blocks`: runs of such
    lines separated by blank lines are paragraphs, inner line breaks kept. `auto`: `blocks` when
    at least a tenth of the gaps between lines are blank lines, else `lines`. Line breaks are LF,
    CRLF or CR; a paragraph never includes its line break.
    """
    if mode not in ("auto", "lines", "blocks"):
        raise ValueError(f"unknown split mode {mode!r}: use auto, lines or blocks")
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if not m.group().isspace()]
    if len(lines) < 2 or mode == "lines":
        return [Paragraph(text[s:e], s, e) for s, e in lines]
    blank_gap = [len(_BREAK.findall(text, prev_end, start)) > 1 for (_, prev_end), (start, _) in zip(lines, lines[1:])]
    if mode == "auto" and sum(blank_gap) < _BLOCK_GAP_SHARE * len(blank_gap):
        return [Paragraph(text[s:e], s, e) for s, e in lines]
    paragraphs = []
    block_start, block_end = lines[0]
    for (start, end), gap in zip(lines[1:], blank_gap):
        if gap:
            paragraphs.append(Paragraph(text[block_start:block_end], block_start, block_end))
            block_start = start
        block_end = end
    paragraphs.append(Paragraph(text[block_start:block_end], block_start, block_end))
    return paragraphs


def join_kept(text: str, paragraphs: list[Paragraph], keep: list[bool]) -> str:
    """Rebuild `text` from the kept paragraphs, each with the separator that followed it.

    With every paragraph kept the result is `text` itself: leading white space goes with the
    first paragraph, and each paragraph carries everything up to the next one.
    """
    if not paragraphs:
        return text if all(keep) else ""
    pieces = []
    bounds = [0] + [p.start for p in paragraphs[1:]] + [len(text)]
    for i, (paragraph, kept) in enumerate(zip(paragraphs, keep)):
        if kept:
            pieces.append(text[bounds[i] if i == 0 else paragraph.start : bounds[i + 1]])
    return "".join(pieces)
