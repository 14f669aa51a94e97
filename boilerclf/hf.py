"""Clean a Hugging Face `datasets` corpus with `ds.map`, in parallel.

    >>> import boilerclf.hf
    >>> ds = ds.map(boilerclf.hf.cleaner("text"), batched=True, num_proc=8)
    >>> ds = boilerclf.hf.clean_dataset(ds, num_proc=8)          # the same, in one call

This module does not import `datasets`: it only hands `map` a function. The function carries
parameters and a fingerprint of the model, not the model, so `datasets` can pickle it to its
workers and hash it for its cache cheaply; each worker process loads the model on its first
batch (`boilerclf.load` caches it; a forked worker inherits the one `cleaner` checked).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .model import FAVORS, Classifier, Favor, load
from .segment import SplitMode, join_kept


@dataclass(frozen=True)
class _Cleaner:
    """The batched `map` function built by `cleaner`: plain fields, so it pickles small and hashes stably."""

    column: str
    favor: Favor
    split: SplitMode
    model: Path
    rules: Path | None
    lang_column: str | None
    keep_original: str | None
    removed_column: str | None
    # Part of the hash `datasets` keys its cache by: a retrained model or an edited rules file
    # at the same path must not bring back results cached from the old one.
    fingerprint: str

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        texts = batch[self.column]
        # Null texts (common in scraped datasets) pass through rather than failing the whole map.
        present = [i for i, text in enumerate(texts) if text is not None]
        langs = [batch[self.lang_column][i] for i in present] if self.lang_column else None
        decisions = load(self.model, rules=self.rules).annotate_batch(
            [texts[i] for i in present], favor=self.favor, split=self.split, langs=langs
        )
        cleaned: list[str | None] = list(texts)
        removed: list[str | None] = list(texts)
        for i, doc in zip(present, decisions):
            paragraphs, kept = [d.paragraph for d in doc], [d.kept for d in doc]
            cleaned[i] = join_kept(texts[i], paragraphs, kept)
            removed[i] = join_kept(texts[i], paragraphs, [not k for k in kept])
        out: dict[str, list[Any]] = {self.column: cleaned}
        if self.keep_original:
            out[self.keep_original] = list(texts)
        if self.removed_column:
            out[self.removed_column] = removed
        return out


def cleaner(
    column: str = "text",
    *,
    favor: Favor = "balanced",
    split: SplitMode = "auto",
    model: str | os.PathLike[str] | None = None,
    rules: str | os.PathLike[str] | None = None,
    lang_column: str | None = None,
    keep_original: str | None = None,
    removed_column: str | None = None,
) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
    """A function for `ds.map(..., batched=True)` that replaces `column` by its cleaned text.

    Args:
        column: the text column; it is replaced by the kept paragraphs, byte for byte.
        favor: `precision`, `balanced` or `recall` (how readily a paragraph is kept).
        split: how documents split into paragraphs (`auto`, `lines` or `blocks`).
        model: a model directory; by default `$BOILERCLF_MODEL`, else the packaged model.
        rules: a rules file (TOML or YAML) applied on top of the model (see `boilerclf.rules`).
        lang_column: a column holding each document's language, for rules limited to one.
        keep_original: if set, a column of that name gets the text before cleaning.
        removed_column: if set, a column of that name gets the removed paragraphs, each with
            its original separator, so that nothing cleaned away is lost for audit.
    """
    # Checked here so a typo or a bad model or rules file fails at once, not in every worker.
    if favor not in FAVORS:
        raise ValueError(f"unknown favor {favor!r}: use precision, balanced or recall")
    classifier = load(model, rules=rules)
    return _Cleaner(
        column=column,
        favor=favor,
        split=split,
        model=classifier.path,  # resolved here, so every worker uses the model fingerprinted
        rules=Path(rules).resolve() if rules is not None else None,
        lang_column=lang_column,
        keep_original=keep_original,
        removed_column=removed_column,
        fingerprint=_fingerprint(classifier),
    )


def _fingerprint(classifier: Classifier) -> str:
    """A digest of what decides the output: the model's config (with its weights' checksum) and rules."""
    rules = [(r.pattern.pattern, r.pattern.flags, r.action, r.label, r.lang) for r in classifier.rules]
    return hashlib.sha256(json.dumps([classifier.config, rules], sort_keys=True).encode()).hexdigest()


def clean_dataset(
    ds: Any,
    column: str = "text",
    *,
    num_proc: int | None = None,
    batch_size: int = 256,
    favor: Favor = "balanced",
    split: SplitMode = "auto",
    model: str | os.PathLike[str] | None = None,
    rules: str | os.PathLike[str] | None = None,
    lang_column: str | None = None,
    keep_original: str | None = None,
    removed_column: str | None = None,
    **kw: Any,
) -> Any:
    """Clean a `Dataset`, `DatasetDict` or `IterableDataset`: `ds.map` with `cleaner`.

    Batches of `batch_size` documents are scored together, which is what makes cleaning fast.
    Other keywords (`desc`, `load_from_cache_file`, ...) go to `ds.map`; `num_proc` is passed
    only when given, since streaming datasets do not take it.
    """
    if num_proc is not None:
        kw["num_proc"] = num_proc
    function = cleaner(
        column,
        favor=favor,
        split=split,
        model=model,
        rules=rules,
        lang_column=lang_column,
        keep_original=keep_original,
        removed_column=removed_column,
    )
    return ds.map(function, batched=True, batch_size=batch_size, **kw)
