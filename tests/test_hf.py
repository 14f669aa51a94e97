"""The `datasets` integration: parallel `map` agrees with `clean`, side columns, one load per worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import boilerclf
import boilerclf.hf
import boilerclf.model

datasets = pytest.importorskip("datasets")

MENU = ["Home", "News", "Sport", "Culture", "Opinion", "Weather"]
SHARE = ["Share on Facebook", "Share on Twitter", "Email this story"]
APPEALS = [
    "Our journalism is funded by readers like you. If you value independent local reporting, please consider "
    "making a contribution today.",
    "Support our newsroom: a gift of any size keeps this reporting free for everyone. Become a member now.",
]
WIDGET = ["Once", "Monthly", "Annual", "Donate now"]
FOOTER = ["Related stories", "Privacy policy", "Contact us"]
TOPICS = [("riverside park", "the waterfront"), ("school library", "the old town hall"), ("bus network", "the suburbs")]


def article(i: int) -> list[str]:
    topic, place = TOPICS[i % len(TOPICS)]
    return [
        f"Council approves {3 + i % 9}.{i % 10} million plan for the {topic}",
        f"The council voted {5 + i % 4} to {i % 3} on Tuesday evening to approve the plan for the {topic}, ending a "
        f"debate that had stretched over most of the year and drawn {40 + i} speakers to public hearings.",
        f"Supporters said the project would bring families back to {place}, while opponents argued that the money "
        f"should have gone to road repairs and that residents of {place} had not been consulted.",
        f"Work is expected to begin in {['March', 'April', 'May'][i % 3]} and the first phase should be finished by "
        f"the end of {2026 + i % 4}, according to the planning office.",
    ][: 2 + i % 3]


def page(i: int) -> str:
    """Page `i` of a small varied corpus: full pages, bare articles, pure debris, blank-line layouts."""
    kind = i % 4
    if kind == 0:
        lines = MENU[: 2 + i % 5] + SHARE + article(i) + [APPEALS[i % 2]] + WIDGET + FOOTER
    elif kind == 1:
        lines = article(i)
    elif kind == 2:
        lines = MENU[: 1 + i % 6] + SHARE[: 1 + i % 3] + WIDGET + FOOTER
    else:
        return "\n\n".join(SHARE + article(i) + [APPEALS[i % 2]] + WIDGET) + "\n"
    return "\n".join(lines) + "\n"


def line_counts(text: str) -> Counter[str]:
    return Counter(line for line in text.splitlines() if line.strip())


@pytest.fixture(scope="module")
def pages() -> list[str]:
    return [page(i) for i in range(200)]


def test_parallel_map_equals_clean(pages: list[str]) -> None:
    ds = datasets.Dataset.from_dict({"id": list(range(len(pages))), "text": pages})
    fn = boilerclf.hf.cleaner("text", keep_original="raw", removed_column="removed")
    out = ds.map(fn, batched=True, batch_size=32, num_proc=2)
    assert out.column_names == ["id", "text", "raw", "removed"]
    assert out["id"] == list(range(len(pages)))
    expected = [boilerclf.clean(text) for text in pages]
    assert out["text"] == expected
    assert out["raw"] == pages
    for original, cleaned, removed in zip(pages, out["text"], out["removed"]):
        # Every non-blank line of the page is either kept or removed, never both, never lost.
        assert line_counts(cleaned) + line_counts(removed) == line_counts(original)
    assert sum(not t.strip() for t in expected) >= 40  # the pure-debris pages came out empty
    for i in range(0, len(pages), 4):  # full pages: the donation widget is removed
        assert "Monthly" in out["removed"][i] and "Monthly" not in out["text"][i]


def test_clean_dataset_one_liner_and_options(pages: list[str]) -> None:
    ds = datasets.Dataset.from_dict({"body": pages})
    out = boilerclf.hf.clean_dataset(ds, "body", num_proc=2, batch_size=50, favor="recall")
    assert out.column_names == ["body"]
    assert out["body"] == [boilerclf.load().clean(t, favor="recall") for t in pages]
    with pytest.raises(ValueError, match="unknown favor"):
        boilerclf.hf.clean_dataset(ds, "body", favor="strict")  # type: ignore[arg-type]


def test_rules_and_languages(pages: list[str], tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nregex = "^Monthly$"\naction = "keep"\nlang = "en"\n\n'
        '[[rule]]\nphrase = "Supporters said"\naction = "drop"\nlabel = "appeal"\n',
        encoding="utf-8",
    )
    langs = ["en" if i % 8 == 0 else "de" for i in range(len(pages))]
    ds = datasets.Dataset.from_dict({"text": pages, "lang": langs})
    out = boilerclf.hf.clean_dataset(ds, rules=rules, lang_column="lang", num_proc=2, batch_size=64)
    with_rules = boilerclf.load(rules=rules)
    expected = [with_rules.clean(text, lang=lang) for text, lang in zip(pages, langs)]
    assert out["text"] == expected and out["lang"] == langs
    assert "Monthly" in expected[0] and "Monthly" not in expected[4]  # full pages; the rule is for English
    assert not any("Supporters said" in text for text in expected)


def test_cache_key_follows_model_and_rules_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datasets.fingerprint import Hasher

    rules = tmp_path / "rules.toml"

    def key(rule: str) -> str:
        monkeypatch.setattr(boilerclf.model, "_cache", {})  # as in a new session
        rules.write_text(f'[[rule]]\nregex = "{rule}"\naction = "keep"\n', encoding="utf-8")
        return Hasher.hash(boilerclf.hf.cleaner(rules=rules))

    # An edited rules file at the same path changes the key, so `map` does not reuse stale results;
    # the same content gives the same key, so it does reuse good ones.
    assert key("^Monthly$") != key("^Annual$") == key("^Annual$")


def test_streaming_dataset_and_null_texts(pages: list[str]) -> None:
    texts: list[str | None] = [*pages[:20], None]
    streamed = boilerclf.hf.clean_dataset(datasets.Dataset.from_dict({"text": texts}).to_iterable_dataset())
    assert [row["text"] for row in streamed] == [boilerclf.clean(t) for t in pages[:20]] + [None]


# Constructions of a Classifier, by process id. Worker processes are forked by `datasets`, so they
# inherit the patched constructor below and count into their own copy of this module.
LOADS: Counter[int] = Counter()
_CLEAN = boilerclf.hf.cleaner("text")
_REAL_INIT = boilerclf.Classifier.__init__


def _counting_init(self: boilerclf.Classifier, *args: object, **kwargs: object) -> None:
    LOADS[os.getpid()] += 1
    _REAL_INIT(self, *args, **kwargs)


def _observed(batch: dict[str, list]) -> dict[str, list]:
    out = _CLEAN(batch)
    n = len(batch["text"])
    out["pid"], out["loads"] = [os.getpid()] * n, [LOADS[os.getpid()]] * n
    return out


def test_model_loaded_once_per_worker(pages: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boilerclf.Classifier, "__init__", _counting_init)
    monkeypatch.setattr(boilerclf.model, "_cache", {})  # workers must load for themselves
    ds = datasets.Dataset.from_dict({"text": pages})
    out = ds.map(_observed, batched=True, batch_size=10, num_proc=2)
    assert out["text"] == [boilerclf.clean(t) for t in pages]
    batches_per_pid = Counter(pid for i, pid in enumerate(out["pid"]) if i % 10 == 0)
    assert os.getpid() not in batches_per_pid, "map ran in the parent process"
    assert sum(batches_per_pid.values()) == 20
    # Each worker had the model after its first batch and never loaded it again.
    for pid in batches_per_pid:
        assert {n for p, n in zip(out["pid"], out["loads"]) if p == pid} == {1}


def test_imports_stay_light() -> None:
    code = (
        "import sys, boilerclf; assert 'boilerclf.hf' not in sys.modules; "
        "import boilerclf.hf; assert 'datasets' not in sys.modules, 'datasets imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
