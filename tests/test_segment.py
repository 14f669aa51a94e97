"""Segmentation keeps offsets exact, so cleaning with everything kept gives back the input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.segment import join_kept, segment

# Text made of the pieces that trouble segmenters: every kind of line break, blank lines,
# tabs and trailing spaces, and letters from several scripts.
pieces = st.sampled_from(["\n", "\r\n", "\r", "\n\n", " ", "\t", "a", "Word.", "Ж", "東京", "ال", "👍", "\u2028", "\x0c"])
texts = st.lists(pieces, max_size=40).map("".join) | st.text(max_size=200)


@given(texts, st.sampled_from(["auto", "lines", "blocks"]))
def test_keeping_everything_returns_the_input(text: str, mode: str) -> None:
    paragraphs = segment(text, mode)
    assert join_kept(text, paragraphs, [True] * len(paragraphs)) == text


@given(texts, st.sampled_from(["auto", "lines", "blocks"]))
def test_offsets_point_at_the_paragraph_text(text: str, mode: str) -> None:
    for p in segment(text, mode):
        assert text[p.start : p.end] == p.text
        assert p.text.strip()
        assert "\n" not in p.text or mode != "lines"


@settings(max_examples=50, deadline=None)
@given(texts)
def test_classifier_with_keep_all_threshold_returns_the_input(keep_all_model, text: str) -> None:
    assert keep_all_model.clean(text) == text


def test_one_paragraph_per_line() -> None:
    text = "Title\r\nFirst paragraph.\n\tIndented line \nlast line without newline"
    assert [p.text for p in segment(text)] == ["Title", "First paragraph.", "\tIndented line ", "last line without newline"]


def test_blank_lines_separate_blocks_with_inner_breaks_kept() -> None:
    text = "First block,\nwrapped.\n\nSecond block\r\nalso wrapped.\n\n\nThird.\n"
    paragraphs = segment(text)
    assert [p.text for p in paragraphs] == ["First block,\nwrapped.", "Second block\r\nalso wrapped.", "Third."]
    assert join_kept(text, paragraphs, [False, True, True]) == "Second block\r\nalso wrapped.\n\n\nThird.\n"


def test_a_stray_blank_line_in_a_line_dump_does_not_merge_lines() -> None:
    lines = [f"Menu item {i}" for i in range(30)]
    text = "\n".join(lines[:15]) + "\n\n" + "\n".join(lines[15:])
    assert len(segment(text)) == 30
    assert len(segment(text, "blocks")) == 2


def test_dropped_paragraphs_take_their_separator_with_them() -> None:
    text = "keep one\r\ndrop\r\nkeep two"
    assert join_kept(text, segment(text), [True, False, True]) == "keep one\r\nkeep two"
    assert join_kept(text, segment(text), [True, True, False]) == "keep one\r\ndrop\r\n"
