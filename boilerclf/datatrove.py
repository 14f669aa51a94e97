"""A datatrove pipeline step that cleans each document and drops those left (nearly) empty.

    >>> from boilerclf.datatrove import BoilerclfCleaner
    >>> pipeline = [JsonlReader("in/"), BoilerclfCleaner(min_chars=200), JsonlWriter("out/")]

Needs the `datatrove` extra. Documents are scored `batch_size` at a time (much faster than one
by one), and the model is loaded when a task starts, not when the pipeline is built, so the
step stays small to pickle for Slurm and Ray workers.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.utils.batching import batched
from datatrove.utils.typeshelper import StatHints

from .model import FAVORS, LABELS, Decision, Favor, load
from .segment import SplitMode, join_kept

REMOVED_REASON = "removed_paragraphs"


class BoilerclfCleaner(PipelineStep):
    """Replace each document's text by its kept paragraphs; drop documents with too little left.

    It both edits and filters, and writes edits as well as drops for audit, so it is a plain
    step (as datatrove's own dedup filters are) rather than a `BaseFilter`.

    Stats: `total`, `forwarded`, `dropped` with `dropped_empty` / `dropped_too_short`,
    `paragraphs`, and `removed_appeal` / `removed_debris` (paragraphs removed, per document).

    Args:
        min_chars: drop a document whose cleaned text, stripped, is shorter than this; one with
            nothing kept is always dropped.
        favor: `precision`, `balanced` or `recall` (how readily a paragraph is kept).
        split: how documents split into paragraphs (`auto`, `lines` or `blocks`).
        model: a model directory; by default `$BOILERCLF_MODEL`, else the packaged model.
        rules: a rules file (TOML or YAML) applied on top of the model (see `boilerclf.rules`);
            a rule limited to one language matches documents whose `language` metadata (set by
            datatrove's `LanguageFilter`) is that language.
        exclusion_writer: receives each dropped document whole, with `filter_reason` `empty` or
            `too_short` in its metadata, and for each kept document that lost paragraphs a
            document of the same id holding the removed text (`filter_reason`
            `removed_paragraphs`, their labels in `removed_labels`): together with the output,
            every character of the input.
        batch_size: documents scored together.
    """

    type = BaseFilter.type
    name = "🧹 boilerclf"

    def __init__(
        self,
        min_chars: int = 0,
        *,
        favor: Favor = "balanced",
        split: SplitMode = "auto",
        model: str | os.PathLike[str] | None = None,
        rules: str | os.PathLike[str] | None = None,
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 256,
    ):
        super().__init__()
        # Checked here so a typo fails when the pipeline is built, not in every worker.
        if favor not in FAVORS:
            raise ValueError(f"unknown favor {favor!r}: use precision, balanced or recall")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.min_chars = min_chars
        self.favor: Favor = favor
        self.split: SplitMode = split
        self.model = model
        self.rules = rules
        self.exclusion_writer = exclusion_writer
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        classifier = load(self.model, rules=self.rules)
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            for batch in batched(data, self.batch_size):
                with self.track_time("batch"):
                    texts, langs = [doc.text for doc in batch], [doc.metadata.get("language") for doc in batch]
                    decisions = classifier.annotate_batch(texts, favor=self.favor, split=self.split, langs=langs)
                for doc, doc_decisions in zip(batch, decisions):
                    if self._clean(doc, doc_decisions, writer, rank):
                        yield doc

    def _clean(self, doc: Document, decisions: list[Decision], writer: DiskWriter | None, rank: int) -> bool:
        """Clean `doc` in place and count what happened; False when it is dropped."""
        self.stat_update(StatHints.total)
        self.stat_update("paragraphs", value=len(decisions))
        removed = Counter(d.label for d in decisions if not d.kept)
        for label in LABELS[1:]:  # a removed paragraph is never labelled body
            self.stat_update(f"removed_{label}", value=removed[label])
        paragraphs, kept = [d.paragraph for d in decisions], [d.kept for d in decisions]
        cleaned = join_kept(doc.text, paragraphs, kept)
        left = len(cleaned.strip())
        reason = "empty" if left == 0 else "too_short" if left < self.min_chars else None
        if reason:
            self.stat_update(StatHints.dropped, f"dropped_{reason}")
            if writer:
                doc.metadata["filter_reason"] = reason
                writer.write(doc, rank)
            return False
        if writer and removed:
            metadata = {
                **doc.metadata,
                "filter_reason": REMOVED_REASON,
                "removed_labels": [d.label for d in decisions if not d.kept],
            }
            removed_text = join_kept(doc.text, paragraphs, [not k for k in kept])
            writer.write(Document(removed_text, doc.id, metadata=metadata), rank)
        doc.text = cleaned
        self.stat_update(StatHints.forwarded)
        self.update_doc_stats(doc)
        return True
