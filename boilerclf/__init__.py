"""boilerclf: keep the article, drop the appeals and page debris from web text.

    >>> import boilerclf
    >>> cleaned = boilerclf.clean(page_text)            # the packaged model, favor="balanced"
    >>> boilerclf.classify(["Once", "Monthly", "Annual"])
    ['debris', 'debris', 'debris']

`load()` gives a `Classifier` for any model directory; the module-level shortcuts use the
packaged model (or `$BOILERCLF_MODEL`), loaded once on first use.
"""

from __future__ import annotations

from typing import Sequence

from .model import FAVORS, LABELS, Classifier, Decision, Favor, ModelError, load
from .segment import Paragraph, SplitMode, segment

__version__ = "0.1.0"
__all__ = [
    "FAVORS",
    "LABELS",
    "Classifier",
    "Decision",
    "Favor",
    "ModelError",
    "Paragraph",
    "SplitMode",
    "classify",
    "clean",
    "load",
    "segment",
    "__version__",
]


def classify(paragraphs: Sequence[str], *, favor: Favor = "balanced") -> list[str]:
    """Label the paragraphs of one document with the default model."""
    return load().predict(paragraphs, favor=favor)


def clean(text: str, *, favor: Favor = "balanced", split: SplitMode = "auto") -> str:
    """Clean one document with the default model: kept paragraphs, byte for byte."""
    return load().clean(text, favor=favor, split=split)
