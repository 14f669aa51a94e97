"""Context features: what a paragraph's neighbours, position and repeats say about it.

"Monthly" alone is ambiguous; between "Once" and "Annual", right after a donation appeal, it is
debris. A short line between two body paragraphs is likely a subheading. These features feed
stage two, which re-labels each paragraph from its own stage-one scores and its surroundings.
"""

from __future__ import annotations

import numpy as np

OFFSETS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (2, 5, 10)


def _shift(values: np.ndarray, doc: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """`values` of the paragraph `offset` places away in the same document, and whether it exists."""
    n = len(values)
    idx = np.arange(n) + offset
    exists = (idx >= 0) & (idx < n)
    idx = np.clip(idx, 0, n - 1)
    exists &= doc[idx] == doc
    shifted = np.where(exists[:, None], values[idx], 0.0) if values.ndim == 2 else np.where(exists, values[idx], 0.0)
    return shifted, exists


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


def context_features(probs: np.ndarray, shape: np.ndarray, doc_sizes: np.ndarray, repeats: np.ndarray) -> np.ndarray:
    """Stage-two inputs for a batch of documents laid end to end.

    `probs`: stage-one probabilities (n, 3) in label order; `shape`: shape features, whose first
    two columns are scaled log length in characters and words; `doc_sizes`: paragraphs per
    document; `repeats`: how many times each paragraph's text occurs in its document.
    """
    n = len(probs)
    doc = np.repeat(np.arange(len(doc_sizes)), doc_sizes)
    ends_of_doc = np.cumsum(doc_sizes)
    starts = (ends_of_doc - doc_sizes)[doc]
    ends = ends_of_doc[doc]
    position = np.arange(n) - starts
    size = doc_sizes[doc].astype(np.float64)
    body = probs[:, 0]
    log_chars = shape[:, 0]
    short = shape[:, 1] < np.log1p(5) / 4.0

    columns = [np.log(np.clip(probs, 1e-6, 1.0))]
    for offset in OFFSETS:
        shifted, exists = _shift(probs, doc, offset)
        columns.extend([shifted, exists[:, None]])
    for offset in (-1, 1):
        columns.append(_shift(log_chars, doc, offset)[0][:, None])
    for radius in WINDOWS:
        columns.append(_window_mean(body, starts, ends, radius)[:, None])

    # Where the article is: paragraphs stage one is sure of and that are long.
    anchor = (body > 0.5) & (log_chars > np.log1p(80) / 5.0)
    anchors_before = np.concatenate([[0], np.cumsum(anchor)])
    seen_before = anchors_before[np.arange(n)] - anchors_before[starts]
    seen_after = anchors_before[ends] - anchors_before[np.arange(n) + 1]
    doc_anchor_share = (anchors_before[ends] - anchors_before[starts]) / size
    doc_body_mean = np.bincount(doc, weights=body, minlength=len(doc_sizes))[doc] / size
    columns.append(
        np.column_stack(
            [
                position / np.maximum(size - 1, 1),
                np.log1p(position) / 6,
                np.log1p(size - 1 - position) / 6,
                np.log1p(size) / 6,
                (seen_before > 0) & (seen_after > 0),
                np.log1p(seen_before) / 4,
                np.log1p(seen_after) / 4,
                doc_anchor_share,
                doc_body_mean,
                np.log1p(_run_length(short, doc)) / 3,
                np.log(repeats) / 2,
            ]
        )
    )
    columns.append(shape)
    return np.hstack([np.asarray(c, dtype=np.float32).reshape(n, -1) for c in columns])
