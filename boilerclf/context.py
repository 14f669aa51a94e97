"""Context features: what a paragraph's neighbours, position, repeats and words say about it.

"Monthly" alone is ambiguous; between "Once" and "Annual", right after a donation appeal, it is
debris. A short line between two body paragraphs is likely a subheading, the more so if it uses
the article's words. These features feed the context stages: stage two re-labels each paragraph
from its own stage-one scores and its surroundings, stage three does the same from stage two's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .features import SHAPE_NAMES, Words

OFFSETS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (2, 5, 10)
FAR = 10  # paragraphs: distances to the article's anchors are capped here
GAP = 6  # anchors at most this far apart belong to one block of text
SPAN_CLIP = 3.0  # one paragraph's say in where the article runs, in log-odds
SPAN_COSTS = (0.0, 1.0)  # the price of each paragraph in the run: the second finds a tighter core


def _shift(values: np.ndarray, doc: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """One value per paragraph, of the paragraph `offset` places away in the same document, and whether it exists."""
    n = len(values)
    idx = np.arange(n) + offset
    exists = (idx >= 0) & (idx < n)
    idx = np.clip(idx, 0, n - 1)
    exists &= doc[idx] == doc
    return np.where(exists, values[idx], 0.0), exists


def _window_mean(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, radius: int) -> np.ndarray:
    """Mean of `values` over the paragraphs at most `radius` away, within each document."""
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(len(values))
    lo = np.maximum(idx - radius, starts)
    hi = np.minimum(idx + radius + 1, ends)
    return (csum[hi] - csum[lo]) / (hi - lo)


def _run_length(flag: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """Length of the run of consecutive `flag` paragraphs (same document) each one is in."""
    n = len(flag)
    breaks = np.ones(n, dtype=bool)
    breaks[1:] = (flag[1:] != flag[:-1]) | (doc[1:] != doc[:-1])
    run_id = np.cumsum(breaks) - 1
    return np.bincount(run_id)[run_id] * flag


def repeat_counts(texts: Sequence[str], doc_sizes: np.ndarray) -> np.ndarray:
    """How many times each paragraph's text (stripped, lower-cased) occurs in its document."""
    if not len(texts):
        return np.zeros(0)
    doc = np.repeat(np.arange(len(doc_sizes), dtype=np.uint64), doc_sizes)
    folded = map(str.lower, map(str.strip, texts))
    keys = np.fromiter(map(hash, folded), dtype=np.int64, count=len(texts)).view(np.uint64)
    keyed = keys ^ (doc * np.uint64(0x9E3779B97F4A7C15))  # one 64-bit key per (document, text)
    _, inverse, counts = np.unique(keyed, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()].astype(np.float64)


def _main_block(anchor: np.ndarray, log_chars: np.ndarray, doc_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each document's main block (-1 where it has no anchor).

    Anchors closer than `GAP` paragraphs form one run; the main block is the run with the most
    text. Related teasers and bios are anchors too, but they seldom outweigh the article.
    """
    doc_starts = np.cumsum(doc_sizes) - doc_sizes
    first = np.full(len(doc_sizes), -1, dtype=np.int64)
    last = np.full(len(doc_sizes), -1, dtype=np.int64)
    positions = np.flatnonzero(anchor)
    if len(positions) == 0:
        return first, last
    doc_of = np.searchsorted(doc_starts, positions, side="right") - 1
    new_run = np.ones(len(positions), dtype=bool)
    new_run[1:] = (np.diff(positions) > GAP) | (doc_of[1:] != doc_of[:-1])
    run = np.cumsum(new_run) - 1
    weight = np.bincount(run, weights=log_chars[positions])
    run_first = positions[new_run]
    run_last = positions[np.r_[np.flatnonzero(new_run)[1:] - 1, len(positions) - 1]]
    run_doc = doc_of[new_run]
    order = np.lexsort((-weight, run_doc))  # per document, heaviest run first
    best = order[np.r_[True, run_doc[order][1:] != run_doc[order][:-1]]]
    first[run_doc[best]] = run_first[best]
    last[run_doc[best]] = run_last[best]
    return first, last


def _best_span(gain: np.ndarray, doc: np.ndarray, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Per document, the run of consecutive paragraphs with the largest total `gain` (first, last).

    A vectorised maximum-sum subarray: the best run ending at `i` is worth the prefix sum at `i`
    minus the smallest prefix sum before any start in its document, a running minimum.
    """
    index = np.arange(len(gain))
    is_start = np.r_[True, doc[1:] != doc[:-1]]
    starts = np.flatnonzero(is_start)  # each document's first row
    segment = np.cumsum(is_start) - 1  # each row's document, counting only non-empty ones
    prefix = np.cumsum(gain)
    before = prefix - gain  # sum of everything before each paragraph
    # Lift each document above all earlier ones so that one running minimum restarts per document.
    lift = doc * (2.0 * np.abs(gain).sum() + 1.0)
    worth = prefix - (np.minimum.accumulate(before - lift) + lift)
    # The run ends at the last paragraph of best worth ...
    best = np.maximum.reduceat(worth, starts)[segment]
    end = np.maximum.reduceat(np.where(worth == best, index, -1), starts)
    # ... and starts at the latest paragraph up to its end with the smallest sum before it.
    candidate = np.where(index <= end[segment], before, np.inf)
    lowest = np.minimum.reduceat(candidate, starts)[segment]
    start = np.maximum.reduceat(np.where(candidate == lowest, index, -1), starts)
    first = np.full(n_docs, -1, dtype=np.int64)
    last = np.full(n_docs, -1, dtype=np.int64)
    first[doc[starts]], last[doc[starts]] = start, end
    return first, last


@dataclass(frozen=True)
class WordGroups:
    """Each word of a batch with the group of its equal words in the same document.

    Grouping sorts every word of the batch, the costliest step of the context features; it does
    not depend on any stage's scores, so it is done once per batch and shared by the stages.
    """

    rows: np.ndarray  # the paragraph of each word
    group: np.ndarray  # the group of each word: same document, same bucket
    others: np.ndarray  # how many other words of its group each word has, at least 1 (a divisor)
    n_words: np.ndarray  # words per paragraph, at least 1 (a divisor)
    recurring: np.ndarray  # per paragraph, the share of its words found elsewhere in its document

    @classmethod
    def of(cls, doc: np.ndarray, words: Words) -> WordGroups:
        n = len(doc)
        key = (doc[words.rows].astype(np.int64) << 32) | words.ids
        # Group equal keys by sorting; groups need no stable order, and numpy's default sort is
        # vectorised: about three times faster here than a stable sort.
        order = np.argsort(key)
        ordered = key[order]
        group = np.empty(len(key), dtype=np.int64)
        group[order] = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
        others = np.bincount(group)[group] - 1 if len(key) else np.zeros(0, dtype=np.int64)
        n_words = np.maximum(np.bincount(words.rows, minlength=n)[:n], 1)
        recurring = np.bincount(words.rows, weights=others > 0, minlength=n)[:n] / n_words
        return cls(words.rows, group, np.maximum(others, 1), n_words, recurring)


def _shared_words(body: np.ndarray, groups: WordGroups) -> np.ndarray:
    """How much each paragraph's words recur in the rest of its document, and where.

    A subheading or a list item shares words with the article around it; another story's
    headline, a menu item or a date does not. Three columns, each a mean over the paragraph's
    words: its other occurrences' body probability (capped at 2), whether it occurs elsewhere at
    all, and the mean body probability of those other occurrences.
    """
    n = len(body)
    if len(groups.rows) == 0:
        return np.zeros((n, 3))
    own = body[groups.rows]
    # A word alone in its group has nothing elsewhere: exactly 0, whatever the divisor.
    elsewhere = np.bincount(groups.group, weights=own)[groups.group] - own

    def mean(per_word: np.ndarray) -> np.ndarray:
        return np.bincount(groups.rows, weights=per_word, minlength=n)[:n] / groups.n_words

    return np.column_stack([mean(np.minimum(elsewhere, 2.0) / 2.0), groups.recurring, mean(elsewhere / groups.others)])


class PageContext:
    """The context of a batch of documents laid end to end, for every context stage.

    What does not depend on a stage's scores (layout, neighbours' lengths, position, repeats,
    shape, word groups) is computed once here; `features` adds what each stage's scores say.

    Args:
        shape: shape features, whose first two columns are scaled log length in characters and words;
        doc_sizes: paragraphs per document;
        repeats: how many times each paragraph's text occurs in its document;
        words: each paragraph's words (see `Featurizer.linear_scores`).
    """

    def __init__(self, shape: np.ndarray, doc_sizes: np.ndarray, repeats: np.ndarray, words: Words):
        n = len(shape)
        self.n, self.doc_sizes = n, doc_sizes
        self.doc = np.repeat(np.arange(len(doc_sizes)), doc_sizes)
        ends_of_doc = np.cumsum(doc_sizes)
        self.starts = (ends_of_doc - doc_sizes)[self.doc]
        self.ends = ends_of_doc[self.doc]
        self.size = doc_sizes[self.doc].astype(np.float64)
        self.log_chars = shape[:, 0]
        position = np.arange(n) - self.starts
        short = shape[:, 1] < np.log1p(5) / 4.0
        terminal = shape[:, SHAPE_NAMES.index("ends_terminal")]
        lengths = [_shift(self.log_chars, self.doc, offset) for offset in OFFSETS]
        self.exists = [exists for _, exists in lengths]
        # Where each neighbour is (a missing one points at the paragraph itself, then is zeroed).
        self.neighbour_index = [
            np.where(exists, np.arange(n) + offset, np.arange(n)) for offset, exists in zip(OFFSETS, self.exists)
        ]
        self.neighbours = _float32(
            [values for values, _ in lengths] + [_shift(terminal, self.doc, offset)[0] for offset in (-1, 1)]
        )
        self.position = _float32(
            [position / np.maximum(self.size - 1, 1), np.log1p(position) / 6,
             np.log1p(self.size - 1 - position) / 6, np.log1p(self.size) / 6]
        )
        self.runs = _float32([np.log1p(_run_length(short, self.doc)) / 3, np.log(np.minimum(repeats, 4.0)) / 2])
        self.shape = shape.astype(np.float32)
        self.words = WordGroups.of(self.doc, words)

    def features(self, probs: np.ndarray) -> np.ndarray:
        """A context stage's inputs (n, width) from the previous stage's probabilities (n, 3)."""
        n, doc, starts, ends, size, log_chars = self.n, self.doc, self.starts, self.ends, self.size, self.log_chars
        body = probs[:, 0]
        columns = [np.log(np.clip(probs, 1e-6, 1.0))]
        for index, exists in zip(self.neighbour_index, self.exists):
            columns.extend([probs[index] * exists[:, None], exists[:, None]])
        columns.append(self.neighbours)
        for radius in WINDOWS:
            columns.append(_window_mean(body, starts, ends, radius)[:, None])

        # Where the article is: paragraphs the previous stage is sure of and that are long.
        anchor = (body > 0.5) & (log_chars > np.log1p(80) / 5.0)
        anchors_before = np.concatenate([[0], np.cumsum(anchor)])
        doc_anchor_share = (anchors_before[ends] - anchors_before[starts]) / size
        main_start, main_end = _main_block(anchor, log_chars, self.doc_sizes)
        main_start, main_end = main_start[doc], main_end[doc]
        index = np.arange(n)
        last_anchor = np.maximum.accumulate(np.where(anchor, index, -1))  # latest anchor at or before i
        next_anchor = np.minimum.accumulate(np.where(anchor, index, n + FAR)[::-1])[::-1]
        since = np.where(last_anchor >= starts, index - last_anchor, FAR)
        until = np.where(next_anchor < ends, next_anchor - index, FAR)
        doc_body_mean = np.bincount(doc, weights=body, minlength=len(self.doc_sizes))[doc] / size
        # The article as one stretch: the run of paragraphs where body outweighs the rest most.
        log_odds = np.clip(np.log(np.clip(body, 1e-6, 1.0)) - np.log(np.clip(1.0 - body, 1e-6, 1.0)), -SPAN_CLIP, SPAN_CLIP)
        span_columns = []
        for cost in SPAN_COSTS:
            span_start, span_end = _best_span(log_odds - cost, doc, len(self.doc_sizes))
            span_start, span_end = span_start[doc], span_end[doc]
            span_columns += [
                (index >= span_start) & (index <= span_end),
                np.clip(span_start - index, 0, FAR) / FAR,
                np.clip(index - span_end, 0, FAR) / FAR,
                (span_end - span_start + 1) / size,
            ]
        columns += [
            self.position,
            _float32(
                [
                    main_start >= 0,
                    (index >= main_start) & (index <= main_end),
                    np.where(main_start >= 0, np.clip(main_start - index, 0, FAR), FAR) / FAR,
                    np.where(main_start >= 0, np.clip(index - main_end, 0, FAR), FAR) / FAR,
                    np.minimum(since, FAR) / FAR,
                    np.minimum(until, FAR) / FAR,
                    doc_anchor_share,
                    doc_body_mean,
                ]
            ),
            self.runs,
            _float32(span_columns),
            _shared_words(body, self.words),
            self.shape,
        ]
        return np.hstack([np.asarray(c, dtype=np.float32).reshape(n, -1) for c in columns])


def _float32(columns: list[np.ndarray]) -> np.ndarray:
    """Columns of one length as an (n, k) float32 block."""
    return np.column_stack([np.asarray(c, dtype=np.float32) for c in columns])
