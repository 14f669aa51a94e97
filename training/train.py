"""Retrain the shipped model from `data/` and write its model card.

    python training/compose.py && python training/train.py

Trains on `data/train.jsonl.gz`, sets the `favor` thresholds on `data/validation.jsonl.gz`,
scores `data/test.jsonl.gz`, and, when `../shared/data/dev/` is beside the clone, scores those
real pages too (reported only: never trained or tuned on). Writes `models/default/` (the model
the package ships) and `models/MODEL_CARD.md`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from boilerclf.data import read_documents  # noqa: E402
from boilerclf.evaluate import evaluate  # noqa: E402
from boilerclf.features import SHAPE_NAMES  # noqa: E402
from boilerclf.model import CONFIG_FILE  # noqa: E402
from boilerclf.train import train_model  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"


def summarise(docs) -> dict:
    labels = Counter(label for d in docs for label in d.labels)
    return {"documents": len(docs), "paragraphs": sum(labels.values()), "labels": dict(sorted(labels.items())),
            "languages": len({d.meta.get("lang") for d in docs})}


def row(name: str, o: dict) -> str:
    def f(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    b = o["body"]
    return (f"| {name} | {o['documents']} | {o['paragraphs']} | {f(b['precision'])} | {f(b['recall'])} | {f(b['f1'])} | "
            f"{f(o['retention'])} | {f(o['leakage'])} | {f(o['perfect'])} | {f(o.get('macro_f1'))} |")


HEADER = ("| | docs | paragraphs | body P | body R | body F1 | retention | leakage | perfect | macro-F1 |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def write_card(path: Path, config: dict, metrics: dict, seconds: float) -> None:
    """The model card: what the model is, what it was trained on, and how it scores."""
    test = metrics["test"]
    lines = [
        "# Model card: boilerclf default model",
        "",
        "Written by `python training/train.py` (do not edit by hand).",
        "",
        f"- Format {config['format_version']}; labels {', '.join(config['labels'])}; "
        f"stage one: hashed character {config['featurizer']['char_orders']}-grams and word 1-2-grams "
        f"in 2^{config['featurizer']['bits']} buckets + {len(SHAPE_NAMES)} shape features, linear; then "
        f"{len(config['context_stages'])} context stages, each a residual one-hidden-layer network "
        f"({' and '.join(str(h) for h in config['params']['hidden'])} hidden units) over context features of the "
        f"previous stage's probabilities, its weights averaged over the last "
        f"{1 - config['params']['average_from']:.0%} of its training steps.",
        "- `favor` thresholds on P(body), set on the validation split: "
        + ", ".join(f"{k} {v:.2f}" for k, v in config["thresholds"].items()) + ".",
        f"- Trained on `data/train.jsonl.gz` ({config['training']['train']['documents']} documents, "
        f"{config['training']['train']['paragraphs']} paragraphs) with seed {config['seed']} in {seconds:.0f} s; "
        f"hyper-parameters: `{json.dumps(config['params'])}`.",
        "",
        "Metrics at `favor=balanced`. body P/R/F1: paragraph-level precision, recall and F1 of keeping body;",
        "retention: share of body characters kept; leakage: share of non-body characters kept;",
        "perfect: share of documents with every paragraph kept or dropped correctly.",
        "",
        "## Our test split (`data/test.jsonl.gz`)",
        "",
        HEADER,
        row("overall", test["overall"]),
    ]
    for field in ("scenario", "lang", "site_kind"):
        for key, o in test.get(f"by_{field}", {}).items():
            lines.append(row(f"{field} = {key}", o))
    labels = test["overall"].get("labels", {})
    lines += ["", "Per label (three-way):", "", "| label | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} |" for k, v in labels.items()]
    confusion = test["overall"].get("confusion", {})
    lines += ["", "Confusion (rows: gold, columns: predicted):", "", "| | body | appeal | debris |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {g} | " + " | ".join(str(c) for c in row_.values()) + " |" for g, row_ in confusion.items()]
    dev = {k: v for k, v in metrics.items() if k.startswith("dev/")}
    if dev:
        lines += ["", "## Real pages (`../shared/data/dev/`, never trained or tuned on)", "", HEADER]
        for name, report in dev.items():
            lines.append(row(name.split("/", 1)[1], report["overall"]))
            for key, o in report.get("by_lang", {}).items():
                lines.append(row(f"{name.split('/', 1)[1]}, lang = {key}", o))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.time()
    data = {split: read_documents(ROOT / "data" / f"{split}.jsonl.gz") for split in ("train", "validation", "test")}
    summary = {split: summarise(docs) for split, docs in data.items()}
    classifier = train_model(data["train"], data["validation"], args.out, seed=args.seed, summary=summary)
    metrics = {"test": evaluate(classifier, data["test"], by=("lang", "scenario", "site_kind"))}
    for path in sorted(DEV.glob("*.jsonl")) if DEV.is_dir() else []:
        metrics[f"dev/{path.name}"] = evaluate(classifier, read_documents(path), by=("lang",))
    config_path = args.out / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["metrics"] = {name: {"overall": report["overall"]} for name, report in metrics.items()}
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (ROOT / "models" / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_card(ROOT / "models" / "MODEL_CARD.md", config, metrics, time.time() - start)
    for name, report in metrics.items():
        o = report["overall"]
        print(f"{name}: body F1 {o['body']['f1']:.4f} retention {o['retention']:.4f} leakage {o['leakage']:.4f}"
              f" perfect {o['perfect']:.3f} macro-F1 {o.get('macro_f1', float('nan')):.4f}")
    print(f"done in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
