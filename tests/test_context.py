"""Context features: the article span and the words a paragraph shares with its document."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.context import WordGroups, _best_span, _shared_words
from boilerclf.features import Words

gains = st.lists(st.integers(-5, 5), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(gains, min_size=1, max_size=5))
def test_best_span_is_the_maximum_sum_run_of_each_document(documents: list[list[int]]) -> None:
    gain = np.array([g for doc in documents for g in doc], dtype=np.float64)
    doc = np.repeat(np.arange(len(documents)), [len(d) for d in documents])
    first, last = _best_span(gain, doc, len(documents))
    start = 0
    for d, values in enumerate(documents):
        best = max(sum(values[a : b + 1]) for a in range(len(values)) for b in range(a, len(values)))
        assert start <= first[d] <= last[d] < start + len(values)
        assert gain[first[d] : last[d] + 1].sum() == best
        start += len(values)


def test_best_span_skips_a_long_run_of_furniture() -> None:
    gain = np.array([3, 3, -1, -1, -1, -1, -1, -1, -1, 2, 2, 2, 2, -1], dtype=np.float64)
    first, last = _best_span(gain, np.zeros(len(gain), dtype=np.int64), 1)
    assert (first[0], last[0]) == (9, 12)


def test_shared_words_tell_a_subhead_from_a_stray_headline() -> None:
    # Paragraphs 0-2 are a document's article; 3 is a subhead using its words; 4 is unrelated.
    words = {
        0: [1, 2, 3, 4],
        1: [2, 3, 5, 6],
        2: [1, 5, 7, 8],
        3: [2, 5],
        4: [90, 91, 92],
    }
    rows = np.array([p for p, ids in words.items() for _ in ids])
    ids = np.array([i for ids in words.values() for i in ids])
    body = np.array([0.9, 0.9, 0.9, 0.2, 0.2])
    shared = _shared_words(body, WordGroups.of(np.zeros(5, dtype=np.int64), Words(rows, ids)))
    assert shared.shape == (5, 3)
    assert shared[3, 1] == 1.0 and shared[4, 1] == 0.0  # every word recurs / none does
    assert shared[3, 0] > 0.8 and shared[4, 0] == 0.0


def test_shared_words_stay_inside_their_document() -> None:
    rows, ids = np.array([0, 1]), np.array([7, 7])
    shared = _shared_words(np.array([0.9, 0.9]), WordGroups.of(np.array([0, 1]), Words(rows, ids)))
    assert (shared == 0).all()
