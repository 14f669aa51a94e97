"""The datatrove step in a real multi-process pipeline: outputs agree with `clean`, drops, audit, stats."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import boilerclf

pytest.importorskip("datatrove")

from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from boilerclf.datatrove import REMOVED_REASON, BoilerclfCleaner  # noqa: E402

MIN_CHARS = 200
FILES, PER_FILE = 8, 150
MENU = ["Home", "World", "Business", "Science", "Travel", "Podcasts"]
SHARE = ["Share", "Tweet", "Copy link"]
APPEALS = [
    "We rely on readers, not advertisers. Please support our work with a donation: it takes a minute and keeps "
    "our reporting open to all.",
    "Become a member today and help us keep independent science journalism free to read for everyone.",
]
WIDGET = ["Once", "Monthly", "Annual", "Other amount"]
FOOTER = ["Terms of use", "Cookie settings", "About us"]


def story(i: int) -> list[str]:
    return [
        f"Researchers count {120 + i} nesting pairs of rare terns on island {i % 17}",
        f"A survey team spent {3 + i % 5} weeks on the island this spring and counted {120 + i} nesting pairs, the "
        f"highest number since records began in {1950 + i % 40}, the wildlife trust said on Monday.",
        f"The trust credits the removal of rats in {2015 + i % 8} and a ban on landing boats during the breeding "
        "season, which lets the birds raise their chicks without disturbance.",
        f"Volunteers will return in {['June', 'July', 'August'][i % 3]} to ring chicks and fit {i % 12 + 2} adults "
        "with small trackers that show where they feed at sea.",
    ]


def page(i: int) -> str:
    """Document `i`: full pages, bare stories, pure debris (dropped) and one-liners (too short)."""
    kind = i % 5
    if kind == 0:
        lines = MENU[: 2 + i % 5] + SHARE + story(i) + [APPEALS[i % 2]] + WIDGET + FOOTER
    elif kind == 1:
        lines = story(i)[: 2 + i % 3]
    elif kind == 2:
        lines = MENU[: 1 + i % 6] + SHARE[: 1 + i % 3] + WIDGET + FOOTER
    elif kind == 3:
        notice = [
            f"Ferry to island {i % 17} cancelled until {1 + i % 28} June",
            "The operator blamed a broken engine part and said refunds would be paid within a week.",
        ]
        lines = MENU[:4] + notice + WIDGET + FOOTER
    else:
        return "\n\n".join(SHARE + story(i)[1:] + [APPEALS[i % 2]] + WIDGET) + "\n"
    return "\n".join(lines) + "\n"


def read_jsonl(folder: Path) -> list[dict]:
    paths = sorted(folder.glob("*.jsonl"))
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


def line_counts(text: str) -> Counter[str]:
    return Counter(line for line in text.splitlines() if line.strip())


def test_pipeline_cleans_drops_and_audits(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    texts = {f"doc-{i:05d}": page(i) for i in range(FILES * PER_FILE)}
    ids = list(texts)
    for f in range(FILES):
        records = [{"id": doc_id, "text": texts[doc_id]} for doc_id in ids[f * PER_FILE : (f + 1) * PER_FILE]]
        (source / f"part-{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    pipeline = [
        JsonlReader(str(source)),
        BoilerclfCleaner(
            MIN_CHARS, exclusion_writer=JsonlWriter(str(tmp_path / "excluded"), compression=None), batch_size=64
        ),
        JsonlWriter(str(tmp_path / "out"), compression=None),
    ]
    LocalPipelineExecutor(pipeline, tasks=4, workers=2, logging_dir=str(tmp_path / "logs")).run()

    classifier = boilerclf.load()
    decisions = dict(zip(ids, classifier.annotate_batch([texts[i] for i in ids])))
    expected = {doc_id: boilerclf.clean(text) for doc_id, text in texts.items()}
    reasons = {
        doc_id: "empty" if not text.strip() else "too_short"
        for doc_id, text in expected.items()
        if len(text.strip()) < MIN_CHARS
    }
    drops = Counter(reasons.values())
    assert drops["empty"] >= 200 and drops["too_short"] >= 200  # both kinds of drop are exercised

    written = read_jsonl(tmp_path / "out")
    out = {doc["id"]: doc["text"] for doc in written}
    assert len(written) == len(out) and sorted(out) == sorted(set(ids) - set(reasons))
    for doc_id, text in out.items():
        assert text == expected[doc_id], doc_id

    # The exclusion writer holds each dropped document whole, and what was cut from the others.
    excluded = read_jsonl(tmp_path / "excluded")
    dropped = {d["id"]: d for d in excluded if d["metadata"]["filter_reason"] != REMOVED_REASON}
    assert {doc_id: d["metadata"]["filter_reason"] for doc_id, d in dropped.items()} == reasons
    assert all(d["text"] == texts[doc_id] for doc_id, d in dropped.items())
    cut = {d["id"]: d for d in excluded if d["metadata"]["filter_reason"] == REMOVED_REASON}
    assert sorted(cut) == sorted(i for i in out if out[i] != texts[i])
    for doc_id, d in cut.items():
        assert line_counts(out[doc_id]) + line_counts(d["text"]) == line_counts(texts[doc_id])
        assert d["metadata"]["removed_labels"] == [x.label for x in decisions[doc_id] if not x.kept]

    # The merged stats of all tasks (a metric is saved as its bare total or as a dict with one).
    step = json.loads((tmp_path / "logs" / "stats.json").read_text(encoding="utf-8"))[1]
    assert step["name"] == str(pipeline[1])
    stats = {name: v if isinstance(v, (int, float)) else v["total"] for name, v in step["stats"].items()}
    removed = Counter(x.label for doc in decisions.values() for x in doc if not x.kept)
    assert stats["total"] == len(ids) and stats["forwarded"] == len(out) and stats["dropped"] == len(reasons)
    assert stats["dropped_empty"] == drops["empty"] and stats["dropped_too_short"] == drops["too_short"]
    assert stats["removed_appeal"] == removed["appeal"] > 0 and stats["removed_debris"] == removed["debris"] > 0
    assert stats["paragraphs"] == sum(len(doc) for doc in decisions.values())


def test_bad_favor_fails_when_the_pipeline_is_built() -> None:
    with pytest.raises(ValueError, match="unknown favor"):
        BoilerclfCleaner(favor="strict")  # type: ignore[arg-type]


def test_rules_see_the_language_metadata(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nregex = "^Monthly$"\naction = "keep"\nlang = "en"\n', encoding="utf-8")
    docs = [Document(page(i), f"d{i}", metadata={"language": lang}) for i in (0, 5) for lang in ("en", "fr")]
    out = list(BoilerclfCleaner(rules=rules, batch_size=3).run(iter(docs)))
    with_rules = boilerclf.load(rules=rules)
    assert [d.text for d in out] == [with_rules.clean(page(i), lang=lang) for i in (0, 5) for lang in ("en", "fr")]
    assert ["Monthly" in d.text for d in out] == [True, False, True, False]
