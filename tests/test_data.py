"""The dataset in `data/`: loadable, split by part, large and varied enough, reproducible."""

from __future__ import annotations

import gzip
import json
import random
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPLITS = ("train", "validation", "test")
NON_LATIN = {"ru", "uk", "ar", "zh", "ja", "hi", "ko"}
REQUIRED_LANGUAGES = {"de", "fr", "es", "it", "pt", "pl", "nl", "ru", "uk", "tr", "ar", "zh", "ja", "hi", "id"}


@pytest.fixture(scope="module")
def docs() -> dict[str, list[dict]]:
    out = {}
    for split in SPLITS:
        with gzip.open(ROOT / "data" / f"{split}.jsonl.gz", "rt", encoding="utf-8") as handle:
            out[split] = [json.loads(line) for line in handle]
    return out


@pytest.fixture(scope="module")
def compose() -> ModuleType:
    """training/compose.py, the script that writes `data/` from its parts."""
    sys.path.insert(0, str(ROOT / "training"))
    import compose

    return compose


def test_loads_with_datasets() -> None:
    datasets = pytest.importorskip("datasets")
    files = {split: str(ROOT / "data" / f"{split}.jsonl.gz") for split in SPLITS}
    ds = datasets.load_dataset("json", data_files=files)
    assert set(ds) == set(SPLITS)
    assert {"doc_id", "lang", "site_kind", "scenario", "paragraphs"} <= set(ds["train"].column_names)


def test_schema_and_labels(docs: dict[str, list[dict]]) -> None:
    for split_docs in docs.values():
        for doc in split_docs:
            assert doc["scenario"] in ("page", "extracted")
            assert doc["paragraphs"]
            for p in doc["paragraphs"]:
                assert p["label"] in ("body", "appeal", "debris") and p["text"].strip() == p["text"] and p["text"]


def test_splits_share_no_document_article_appeal_thread_or_skeleton(docs: dict[str, list[dict]]) -> None:
    for field in ("doc_id", "article_id", "skeleton"):
        seen = [{d[field] for d in docs[s]} - {None} for s in SPLITS]
        assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2]), field
    for field in ("appeal_ids", "thread_ids"):
        seen = [{a for d in docs[s] for a in d[field]} for s in SPLITS]
        assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2]), field


def test_scale_and_variety(docs: dict[str, list[dict]]) -> None:
    everything = [d for s in SPLITS for d in docs[s]]
    labels = Counter(p["label"] for d in everything for p in d["paragraphs"])
    assert len(everything) >= 3000
    assert sum(labels.values()) >= 80000
    assert labels["appeal"] >= 10000 and labels["debris"] >= 20000
    assert len({a for d in everything for a in d["appeal_ids"]}) >= 1500
    assert len({d["article_id"] for d in everything}) >= 1000
    scenarios = Counter(d["scenario"] for d in everything)
    assert min(scenarios.values()) >= 0.25 * len(everything)


def test_languages(docs: dict[str, list[dict]]) -> None:
    everything = [d for s in SPLITS for d in docs[s]]
    langs = Counter(d["lang"] for d in everything)
    assert len(langs) >= 16 and REQUIRED_LANGUAGES <= set(langs)
    assert 0.35 <= langs["en"] / len(everything) <= 0.65
    assert sum(langs[l] for l in NON_LATIN) >= 0.15 * len(everything)
    for lang in REQUIRED_LANGUAGES:
        with_furniture = [d for d in everything if d["lang"] == lang and any(p["label"] != "body" for p in d["paragraphs"])]
        assert len(with_furniture) >= 5, lang
        assert any(p["label"] == "appeal" for d in with_furniture for p in d["paragraphs"]), lang


def test_no_skeleton_appeal_or_thread_in_more_than_one_percent(docs: dict[str, list[dict]]) -> None:
    everything = [d for s in SPLITS for d in docs[s]]
    limit = 0.01 * len(everything)
    pages = [d for d in everything if d["scenario"] == "page"]
    assert all(d["skeleton"] for d in pages)
    assert max(Counter(d["skeleton"] for d in pages).values()) <= limit
    assert max(Counter(a for d in everything for a in set(d["appeal_ids"])).values()) <= limit
    assert max(Counter(t for d in everything for t in set(d["thread_ids"])).values()) <= limit


def test_composition_is_reproducible(compose: ModuleType, tmp_path: Path) -> None:
    compose.write(compose.compose(), tmp_path)
    for split in SPLITS:
        assert (tmp_path / f"{split}.jsonl.gz").read_bytes() == (ROOT / "data" / f"{split}.jsonl.gz").read_bytes(), split


def test_a_comment_under_a_bare_name_shows_its_time_or_a_control(compose: ModuleType) -> None:
    """A bare name over paragraphs is also a panel interview's layout (body), so a comment in that
    layout always carries a line only comments have: its time, or a control such as "Reply"."""
    thread = {
        "id": "xx-ct-0001", "lang": "xx",
        "comments": [
            {"author": f"reader{i}", "when": None, "paragraphs": [f"Opinion number {i}.", "More of it."], "votes": None}
            for i in range(6)
        ],
    }
    ui = {"comment_meta": ["Reply", "12 Likes"], "site_names": ["Site"]}
    composer = compose.Composer("train", [], [], [thread], {"xx": ui}, {}, seed=1)
    for seed in range(20):
        page = compose.Page(random.Random(seed), ui, "Site")
        composer.thread_uses.clear()
        assert composer.thread(page, "xx")
        texts = [p["text"] for p in page.paragraphs]
        for i, text in enumerate(texts):
            if text.startswith("reader"):
                assert texts[i + 1] in ("Reply", "12 Likes"), texts[i : i + 3]


def test_teaser_clipping_cuts_only_long_text_and_marks_the_cut(compose: ModuleType) -> None:
    """Card templates cut long headlines at a fixed width and mark the cut; short ones stay whole.
    Wide scripts (CJK) are cut at half the character count, as they take twice the width."""
    for seed in range(30):
        clip = compose.clip_text(random.Random(seed), "en")
        assert clip("Short") == "Short"
        long_text = "A headline that runs on far past any card's width, as long stories do " * 2
        cut = clip(long_text)
        assert cut.endswith(compose.CLIP_MARKS) and len(cut) < len(long_text)
        assert long_text.startswith(cut.rstrip(".…[] ").rstrip())
        wide = compose.clip_text(random.Random(seed), "ja")("長い見出しが続きます" * 10)
        assert len(wide) <= 70 // 2 + max(map(len, compose.CLIP_MARKS))


def test_a_press_release_ends_with_its_issuer_block_as_debris(compose: ModuleType) -> None:
    """The issuer's closing block ("About ...", media contact) repeats on every release: it follows
    the body as debris, and the release's own lines stay body."""
    article = {
        "id": "xx-pr-0001", "lang": "xx", "site_kind": "press_release",
        "body": ["OSLO — Norvik opens a plant.", "[1] Hale M., A study, 2021"],
        "issuer_boilerplate": ["About Norvik", "Norvik makes sensors.", "Media contact: press@norvik.example"],
    }
    composer = compose.Composer("train", [article], [], [], {"xx": {"site_names": ["Site"]}}, {}, seed=1)
    page = compose.Page(random.Random(0), {"site_names": ["Site"]}, "Site")
    composer.body(page, article, extracted=True, paywalled=False)
    labels = {p["text"]: p["label"] for p in page.paragraphs}
    assert [labels[t] for t in article["body"]] == ["body", "body"]
    assert [labels[t] for t in article["issuer_boilerplate"]] == ["debris"] * 3
    assert [p["text"] for p in page.paragraphs][-3:] == article["issuer_boilerplate"]


def test_extractor_outputs_mark_list_items_alike_whatever_their_label(compose: ModuleType) -> None:
    """An extractor writes every list item "- ": the article's own lists (body) and, where the
    residue is a list, its menus and buttons (debris). The mark must not tell the labels apart."""
    ui = {"nav": ["Home", "World"], "site_names": ["Site"]}
    article = {"id": "xx-news-0001", "lang": "xx", "site_kind": "news", "body": ["Intro.", "• one item", "* another item"]}
    composer = compose.Composer("train", [article], [], [], {"xx": ui}, {}, seed=1)
    page = compose.Page(random.Random(0), ui, "Site", marker="- ")
    composer.body(page, article, extracted=True, paywalled=False)
    page.ui_lines("nav", 2)
    texts = {p["text"]: p["label"] for p in page.paragraphs}
    assert texts["- one item"] == texts["- another item"] == "body"
    assert texts["- Home"] == texts["- World"] == "debris"
    bare = compose.Page(random.Random(0), ui, "Site")
    bare.ui_lines("nav", 2)
    assert {p["text"] for p in bare.paragraphs} == {"Home", "World"}
