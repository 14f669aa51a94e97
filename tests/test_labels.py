"""Users' label files: every accepted format reads the same, and every bad file is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import boilerclf
from boilerclf.cli import app
from boilerclf.data import DataError, Document
from boilerclf.labels import prelabel, read_labelled, resolve_binary

datasets = pytest.importorskip("datasets")

DOCS = [
    {"doc_id": "a", "paragraphs": [{"text": "Headline of a", "label": "body"}, {"text": "Share", "label": "debris"}]},
    {"doc_id": "b", "paragraphs": [{"text": "Body of b.", "label": "body"}, {"text": "Donate now", "label": "boilerplate"},
                                   {"text": "Unclear", "label": "ambiguous"}]},
]
ROWS = [{"doc_id": d["doc_id"], **p} for d in DOCS for p in d["paragraphs"]]


def expected() -> list[tuple[str, list[str], list[str]]]:
    return [(d["doc_id"], [p["text"] for p in d["paragraphs"]], [p["label"] for p in d["paragraphs"]]) for d in DOCS]


def as_tuples(docs: list[Document]) -> list[tuple[str, list[str], list[str]]]:
    return [(d.doc_id, d.texts, d.labels) for d in docs]


def test_document_jsonl_plain_and_gzip(tmp_path: Path) -> None:
    import gzip

    text = "".join(json.dumps(d) + "\n" for d in DOCS)
    (tmp_path / "docs.jsonl").write_text(text)
    (tmp_path / "docs.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    assert as_tuples(read_labelled(tmp_path / "docs.jsonl")) == expected()
    assert as_tuples(read_labelled(tmp_path / "docs.jsonl.gz")) == expected()


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
def test_paragraph_tables(tmp_path: Path, kind: str) -> None:
    table = datasets.Dataset.from_list(ROWS)
    path = tmp_path / f"rows.{kind}"
    {"jsonl": table.to_json, "csv": table.to_csv, "parquet": table.to_parquet}[kind](str(path))
    assert as_tuples(read_labelled(path)) == expected()


def test_saved_datasets_of_documents_and_of_paragraphs(tmp_path: Path) -> None:
    datasets.Dataset.from_list(DOCS).save_to_disk(str(tmp_path / "docs"))
    datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "rows"))
    assert as_tuples(read_labelled(tmp_path / "docs")) == expected()
    assert as_tuples(read_labelled(tmp_path / "rows")) == expected()


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"doc_id": "x", "paragraphs": [{"text": "a", "label": "nav"}]}', "docs.jsonl:2: paragraph 0 has unknown label 'nav'"),
        ('{"doc_id": "x", "paragraphs": [{"text": "  ", "label": "body"}]}', "docs.jsonl:2: paragraph 0 has an empty text"),
        ('{"doc_id": "x", "paragraphs": [{"text": "a"}]}', "docs.jsonl:2: paragraph 0 needs 'text' and 'label'"),
        ('{"doc_id": "x", "paragraphs": [', "docs.jsonl:2: malformed JSON"),
        ('{"doc_id": "x"}', "docs.jsonl:2: a document needs a 'paragraphs' list"),
    ],
)
def test_bad_label_files_name_file_line_and_problem(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(DOCS[0]) + "\n" + line + "\n")
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("(", r"\(")):
        read_labelled(path)
    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "--data", str(path), "--out", str(out)])
    assert result.exit_code == 2 and message.split(": ", 1)[1].split(" (")[0] in result.output
    assert not out.exists()


def test_too_few_examples_to_train(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(DOCS[0]) + "\n")
    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "--data", str(path), "--out", str(out), "--no-base", "--holdout", "0"])
    assert result.exit_code == 2 and "at least 5 are needed to train" in result.output
    assert not out.exists()


def test_binary_labels_get_a_subtype_and_body_stays(classifier: boilerclf.Classifier) -> None:
    doc = Document("d", ["A long article paragraph about the harbour and its history.", "Donate now", "Share on X"],
                   ["body", "boilerplate", "boilerplate"])
    resolved = resolve_binary([doc], classifier)[0]
    assert resolved.labels[0] == "body" and set(resolved.labels[1:]) <= {"appeal", "debris"}


def test_prelabel_orders_by_uncertainty(classifier: boilerclf.Classifier) -> None:
    sure = "\n".join(["Home", "World", "Sport", "Privacy policy", "Terms of use", "Cookie settings"])
    unsure = "Monthly\nWhat it means\nOnce"
    records = prelabel(classifier, [("sure", sure), ("unsure", unsure)], uncertain_first=True)
    assert [r["doc_id"] for r in records] == ["unsure", "sure"]
    assert all(set(p["probabilities"]) == {"body", "appeal", "debris"} for r in records for p in r["paragraphs"])


def test_label_command_writes_prelabelled_jsonl(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("Home\nA headline\nThe article text goes on for a while, as articles do.\nShare\n")
    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(app, ["label", str(page), "-o", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["doc_id"] == "page.txt" and len(record["paragraphs"]) == 4
    assert as_tuples(read_labelled(out))[0][1] == ["Home", "A headline", "The article text goes on for a while, as articles do.", "Share"]
