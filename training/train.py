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
from boilerclf.model import CONFIG_FILE  # noqa: E402
from boilerclf.train import train_model  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"


def summarise(docs) -> dict:
    labels = Counter(label for d in docs for label in d.labels)
    return {"documents": len(docs), "paragraphs": sum(labels.values()), "labels": dict(sorted(labels.items())),
            "languages": len({d.meta.get("lang") for d in docs})}


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
    for name, report in metrics.items():
        o = report["overall"]
        print(f"{name}: body F1 {o['body']['f1']:.4f} retention {o['retention']:.4f} leakage {o['leakage']:.4f}"
              f" perfect {o['perfect']:.3f} macro-F1 {o.get('macro_f1', float('nan')):.4f}")
    print(f"done in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
