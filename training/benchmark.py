"""Speed and memory of boilerclf, each printed beside a reference measured in the same run.

    python training/benchmark.py                # cold start and batch throughput
    python training/benchmark.py --memory       # also peak memory of `clean` on a 200 MB corpus

- cold start: `boilerclf clean` of one page vs `python -c "import numpy"` (target: <= 4x);
- throughput: paragraphs per second of `Classifier.predict_documents` on one core, vs a
  scikit-learn `HashingVectorizer(char_wb, 3-5)` + `LogisticRegression` pipeline and jusText
  on the same paragraphs;
- memory: peak resident size of `boilerclf clean --jsonl` on a generated 200 MB corpus.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "examples" / "page.txt"
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def wall(command: list[str], runs: int) -> float:
    """Median wall time of `command` over `runs` runs (after one warm-up for the disk cache)."""
    env = {**os.environ, **ONE_CORE}
    subprocess.run(command, capture_output=True, check=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_start(runs: int) -> None:
    numpy_time = wall([sys.executable, "-c", "import numpy"], runs)
    clean_time = wall([sys.executable, "-m", "boilerclf", "clean", str(EXAMPLE)], runs)
    print("cold start (median of %d runs)" % runs)
    print(f"  python -c 'import numpy'        {numpy_time * 1000:8.0f} ms")
    print(f"  boilerclf clean page.txt        {clean_time * 1000:8.0f} ms   ratio {clean_time / numpy_time:.2f}x (target <= 4x)")


def about_100_chars(texts: list[str]) -> list[str]:
    """Paragraphs of about 100 characters: short lines run on into the next, long ones are cut."""
    out, current = [], ""
    for text in texts:
        current = f"{current} {text}".strip()
        if len(current) >= 90:
            cut = current.rfind(" ", 0, 110)
            out.append(current[: cut if cut > 60 else 110])
            current = ""
    return out or [current]


def test_paragraphs(limit: int, reshape: bool = True) -> tuple[list[list[str]], list[str]]:
    """Documents from our test split (paragraphs of ~100 characters) and the split's labels."""
    docs, labels = [], []
    with gzip.open(ROOT / "data" / "test.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            texts = [p["text"] for p in doc["paragraphs"]]
            docs.append(about_100_chars(texts) if reshape else texts)
            labels.extend(p["label"] for p in doc["paragraphs"])
    out, total = [], 0
    while total < limit:  # repeat the split until the batch is large enough
        for doc in docs:
            out.append(doc)
            total += len(doc)
    return out, labels


def best_of(runs: int, work) -> float:
    """The fastest of `runs` timings of `work()`, in seconds: the least disturbed by other load."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput(n_paragraphs: int) -> None:
    os.environ.update(ONE_CORE)
    import boilerclf

    classifier = boilerclf.load()
    docs, _ = test_paragraphs(n_paragraphs)
    flat = [t for d in docs for t in d]
    chars = sum(len(t) for t in flat) / len(flat)
    classifier.predict_documents(docs[:50])
    ours = len(flat) / best_of(3, lambda: classifier.predict_documents(docs))
    print(f"batch throughput, one core, {len(flat)} paragraphs of {chars:.0f} characters on average (best of 3)")
    print(f"  boilerclf predict_documents     {ours:12,.0f} paragraphs/s (target >= 100,000)")

    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_docs, labels = test_paragraphs(1, reshape=False)
    train = [t for d in train_docs for t in d]
    pipeline = make_pipeline(HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=1 << 18), LogisticRegression(max_iter=200))
    pipeline.fit(train, labels[: len(train)])
    sk = len(flat) / best_of(3, lambda: pipeline.predict(flat))
    print(f"  scikit-learn char_wb 3-5 + LR   {sk:12,.0f} paragraphs/s   ours/theirs {ours / sk:.1f}x (target >= 8x)")

    try:
        import justext
    except ImportError:
        print("  jusText                         not installed (pip install jusText)")
        return
    stoplist = justext.get_stoplist("English")
    sample = docs[: max(1, len(docs) // 20)]
    n = sum(len(d) for d in sample)
    start = time.perf_counter()
    for doc in sample:
        html = "<html><body>" + "".join(f"<p>{t}</p>" for t in doc) + "</body></html>"
        justext.justext(html, stoplist)
    jt = n / (time.perf_counter() - start)
    print(f"  jusText (on a 1/20 sample)      {jt:12,.0f} paragraphs/s   ours/theirs {ours / jt:.1f}x")


def memory(size_mb: int) -> None:
    """Peak RSS of `boilerclf clean --jsonl` on a generated corpus of about `size_mb` MB."""
    docs, _ = test_paragraphs(1, reshape=False)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "big.jsonl.gz"
        written = 0
        with gzip.open(corpus, "wt", encoding="utf-8", compresslevel=1) as out:
            i = 0
            while written < size_mb * 1_000_000:
                text = "\n".join(rng.choice(docs))
                line = json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n"
                out.write(line)
                written += len(line.encode())
                i += 1
        command = ["/usr/bin/time", "-v", sys.executable, "-m", "boilerclf", "clean", "--jsonl", str(corpus), "-o", str(Path(tmp) / "out.jsonl.gz")]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak = next((line.split(":")[1].strip() for line in result.stderr.splitlines() if "Maximum resident" in line), "?")
        print(f"memory: clean --jsonl on {written / 1e6:.0f} MB ({i} documents) in {seconds:.0f} s")
        print(f"  maximum resident size           {int(peak) / 1024 if peak != '?' else float('nan'):8.0f} MB (target < 300 MB)")
        if result.returncode:
            print("  failed:", result.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--paragraphs", type=int, default=200_000)
    parser.add_argument("--memory", action="store_true", help="also measure peak memory on a 200 MB corpus")
    parser.add_argument("--memory-mb", type=int, default=200)
    args = parser.parse_args()
    cold_start(args.runs)
    throughput(args.paragraphs)
    if args.memory:
        memory(args.memory_mb)


if __name__ == "__main__":
    main()
