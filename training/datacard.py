"""Write the tables of the dataset card (`data/README.md`) from the data itself.

    python training/datacard.py

Replaces the part of `data/README.md` between the `<!-- tables -->` markers, so the card's
numbers are always the data's.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "data" / "README.md"
SPLITS = ("train", "validation", "test")
START, END = "<!-- tables -->", "<!-- /tables -->"


def load() -> dict[str, list[dict]]:
    out = {}
    for split in SPLITS:
        with gzip.open(ROOT / "data" / f"{split}.jsonl.gz", "rt", encoding="utf-8") as handle:
            out[split] = [json.loads(line) for line in handle]
    return out


def table(rows: list[tuple], header: tuple) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def by(docs: list[dict], field: str) -> list[tuple]:
    groups: dict[str, list[dict]] = {}
    for doc in docs:
        groups.setdefault(doc[field], []).append(doc)
    rows = []
    for key, group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        labels = Counter(p["label"] for d in group for p in d["paragraphs"])
        rows.append((key, len(group), sum(labels.values()), labels["body"], labels["appeal"], labels["debris"]))
    return rows


def main() -> None:
    data = load()
    everything = [d for s in SPLITS for d in data[s]]
    header = ("", "documents", "paragraphs", "body", "appeal", "debris")
    split_rows = []
    for split in SPLITS:
        labels = Counter(p["label"] for d in data[split] for p in d["paragraphs"])
        split_rows.append((split, len(data[split]), sum(labels.values()), labels["body"], labels["appeal"], labels["debris"]))
    labels = Counter(p["label"] for d in everything for p in d["paragraphs"])
    split_rows.append(("**all**", len(everything), sum(labels.values()), labels["body"], labels["appeal"], labels["debris"]))
    distinct = (
        f"Distinct written parts used: {len({d['article_id'] for d in everything})} article bodies, "
        f"{len({a for d in everything for a in d['appeal_ids']})} appeal texts, "
        f"{len({t for d in everything for t in d['thread_ids']})} comment threads, "
        f"{len({d['skeleton'] for d in everything if d['skeleton']})} page skeletons (for {sum(d['scenario'] == 'page' for d in everything)} pages)."
    )
    parts = [
        START,
        "### By split\n\n" + table(split_rows, header),
        distinct,
        "### By scenario\n\n" + table(by(everything, "scenario"), ("scenario",) + header[1:]),
        "### By language\n\n" + table(by(everything, "lang"), ("language",) + header[1:]),
        "### By site kind\n\n" + table(by(everything, "site_kind"), ("site kind",) + header[1:]),
        END,
    ]
    text = CARD.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    CARD.write_text(before + "\n\n".join(parts) + after, encoding="utf-8")
    print(f"{CARD}: tables for {len(everything)} documents")


if __name__ == "__main__":
    main()
