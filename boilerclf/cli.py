"""The `boilerclf` command: a thin layer over the public API.

Every failure a user can cause (a missing file, a binary file, a model directory that is not a
model, a malformed label file) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Optional, TypeVar

import typer

from . import __version__
from .data import DataError
from .corpus import CorpusStats, clean_jsonl, clean_large_text, open_input
from .files import MAX_DOCUMENT_BYTES, InputError, atomic_output, encode, read_document
from .model import Classifier, Decision, ModelError, load
from .segment import join_kept

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Keep the article, drop appeals and page debris from text dumped from web pages.",
)

F = TypeVar("F", bound=Callable)
COLOURS = {"body": typer.colors.GREEN, "appeal": typer.colors.YELLOW, "debris": typer.colors.RED}


class FavorChoice(str, Enum):
    precision = "precision"
    balanced = "balanced"
    recall = "recall"


class SplitChoice(str, Enum):
    auto = "auto"
    lines = "lines"
    blocks = "blocks"


class ErrorChoice(str, Enum):
    stop = "stop"
    skip = "skip"


class Format(str, Enum):
    text = "text"
    jsonl = "jsonl"


def fail(message: str) -> None:
    typer.echo(f"boilerclf: error: {message}", err=True)


def friendly(command: F) -> F:
    """Turn the errors a user can cause into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:  # `boilerclf ... | head`: the reader left; leave quietly, like cat
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        except (InputError, ModelError, DataError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        raise typer.Exit(2)

    return wrapper  # type: ignore[return-value]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"boilerclf {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="Print the version."),
) -> None:
    """Keep the article, drop appeals and page debris from text dumped from web pages."""


ModelOption = typer.Option(None, "--model", help="Model directory (default: $BOILERCLF_MODEL, else the packaged model).")
FavorOption = typer.Option(FavorChoice.balanced, "--favor", help="precision: least boilerplate left; recall: least body lost.")
SplitOption = typer.Option(SplitChoice.auto, "--split", help="Paragraphs are lines, blank-line separated blocks, or auto.")
RulesOption = typer.Option(None, "--rules", help="A rules file (TOML or YAML) applied on top of the model.")
LangOption = typer.Option(None, "--lang", help="The documents' language, for rules limited to one language.")


def expand_inputs(files: list[str], recursive: bool) -> tuple[list[tuple[str, Path]], list[str]]:
    """(path, output name) pairs for the inputs, and the errors of inputs that cannot be used."""
    inputs, errors = [], []
    for name in files:
        path = Path(name)
        if name == "-":
            inputs.append((name, Path("stdin.txt")))
        elif path.is_dir():
            if not recursive:
                errors.append(f"{name}: is a directory (use --recursive to clean the files in it)")
                continue
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                    inputs.append((str(child), relative))
        elif not path.exists():
            errors.append(f"{name}: no such file")
        else:
            inputs.append((name, Path(path.name)))
    return inputs, errors


def decision_record(decision: Decision, labels: Iterable[str], source: str | None) -> dict:
    record = {"start": decision.paragraph.start, "end": decision.paragraph.end, "label": decision.label, "kept": decision.kept}
    if decision.rule:
        record["rule"] = decision.rule
    record["probabilities"] = {label: round(p, 5) for label, p in zip(labels, decision.probabilities)}
    record["text"] = decision.paragraph.text
    return {"file": source, **record} if source is not None else record


def render(text: str, decisions: list[Decision], fmt: Format, labels: tuple[str, ...], source: str | None) -> bytes:
    if fmt is Format.jsonl:
        lines = [json.dumps(decision_record(d, labels, source), ensure_ascii=False) + "\n" for d in decisions]
        return encode("".join(lines))
    return encode(join_kept(text, [d.paragraph for d in decisions], [d.kept for d in decisions]))


@dataclass(frozen=True)
class CleanJob:
    """Options of one `clean` run, shared by every input (and sent to worker processes)."""

    model: Optional[str]
    rules: Optional[str]
    lang: Optional[str]
    favor: str
    split: str
    fmt: str
    show_removed: bool
    several: bool


@dataclass
class FileResult:
    data: Optional[bytes] = None  # the output, when it goes to standard output
    notes: list[str] = field(default_factory=list)  # warnings and removed lines, for stderr
    error: Optional[str] = None


def clean_file(job: CleanJob, path: str, target: Optional[Path]) -> FileResult:
    """Clean one text file into `target` (or into the result, for standard output)."""
    result = FileResult()
    try:
        classifier = load(job.model, rules=job.rules)
        if path != "-" and Path(path).is_file() and Path(path).stat().st_size > MAX_DOCUMENT_BYTES and job.fmt == "text":
            with open_input(path, sys.stdin.buffer) as handle, output_handle(target) as out:
                undecodable = clean_large_text(classifier, handle, out.write, name=path, favor=job.favor)
        else:
            text, undecodable = read_document(path)
            decisions = classifier.annotate(text, favor=job.favor, split=job.split, lang=job.lang)
            data = render(text, decisions, Format(job.fmt), classifier.labels, path if job.several and job.fmt == "jsonl" else None)
            if job.show_removed:
                result.notes.extend(f"{d.label}\t{d.paragraph.text}" + (f"\t[rule: {d.rule}]" if d.rule else "") for d in decisions if not d.kept)
            if target is None:
                result.data = data
            else:
                with output_handle(target) as out:
                    out.write(data)
        if undecodable:
            result.notes.insert(0, f"boilerclf: warning: {path}: {undecodable} bytes are not UTF-8; passed through unchanged")
    except (InputError, ModelError) as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{path}: {exc.strerror or exc}"
    return result


@contextmanager
def output_handle(target: Optional[Path]) -> Iterator[IO[bytes]]:
    """Standard output, or an atomically written file (gzip-compressed when it ends in .gz)."""
    if target is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_output(target) as handle:
        if target.suffix == ".gz":
            with gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) as compressed:
                yield compressed  # type: ignore[misc]
        else:
            yield handle


def targets_for(inputs: list[tuple[str, Path]], output: Optional[Path], several: bool, fmt: Format) -> list[Optional[Path]]:
    """Where each input's output goes: standard output, the `-o` file, or a file under `-o`."""
    if output is None:
        return [None] * len(inputs)
    if not (several or output.is_dir()):
        return [output]
    suffix = ".jsonl" if fmt is Format.jsonl else ""
    return [output / name.with_name(name.name + suffix) for _, name in inputs]


@app.command()
@friendly
def clean(
    files: list[str] = typer.Argument(..., help="Text files; `-` reads standard input; directories need --recursive."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file, or directory for several inputs (.gz compresses)."),
    favor: FavorChoice = FavorOption,
    model: Optional[Path] = ModelOption,
    rules: Optional[Path] = RulesOption,
    lang: Optional[str] = LangOption,
    split: SplitChoice = SplitOption,
    recursive: bool = typer.Option(False, "-r", "--recursive", help="Clean every file under directory inputs."),
    jobs: int = typer.Option(1, "-j", "--jobs", min=1, help="Clean this many files at once (processes)."),
    show_removed: bool = typer.Option(False, "--show-removed", help="Print what was dropped, with its label, to stderr."),
    fmt: Format = typer.Option(Format.text, "--format", help="text: the cleaned text; jsonl: one record per paragraph."),
    jsonl: bool = typer.Option(False, "--jsonl", help="Inputs are JSONL corpora (plain or gzip): clean a field of each record."),
    text_field: str = typer.Option("text", "--text-field", help="With --jsonl: the field holding the text."),
    keep_original: Optional[str] = typer.Option(None, "--keep-original", help="With --jsonl: keep the old text in this field."),
    id_field: Optional[str] = typer.Option(None, "--id-field", help="With --jsonl: the record id written to --removed-to."),
    removed_to: Optional[Path] = typer.Option(None, "--removed-to", help="With --jsonl: write removed paragraphs here, for audit."),
    on_error: ErrorChoice = typer.Option(ErrorChoice.stop, "--on-error", help="With --jsonl: stop at a malformed record, or skip it."),
) -> None:
    """Print the document(s) with appeals and debris removed, kept text byte for byte."""
    load(model, rules=rules)  # a bad --model or --rules fails here, once, before any input is read
    if jsonl:
        clean_corpora(files, output, load(model, rules=rules), favor.value, split.value, text_field, keep_original, id_field, removed_to, on_error)
        return
    inputs, errors = expand_inputs(files, recursive)
    several = len(inputs) + len(errors) > 1 or any(Path(f).is_dir() for f in files if f != "-")
    if output is not None and several and output.exists() and not output.is_dir():
        raise InputError(f"{output}: several inputs need an output directory, and this is a file")
    targets = targets_for(inputs, output, several, fmt)
    input_paths = {Path(p).resolve() for p, _ in inputs if p != "-"}
    job = CleanJob(
        str(model) if model else None, str(rules) if rules else None, lang, favor.value, split.value, fmt.value, show_removed, several
    )
    todo = []
    for (path, _), target in zip(inputs, targets):
        if target is not None and target.resolve() in input_paths:
            errors.append(f"{target}: refusing to write over an input file")
        else:
            todo.append((path, target))
    for result in run_jobs(job, todo, jobs, show_progress=output is not None and len(todo) > 1 and sys.stderr.isatty()):
        for note in result.notes:
            typer.echo(note, err=True)
        if result.error:
            errors.append(result.error)
        elif result.data is not None:
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
    for message in errors:
        fail(message)
    if errors:
        raise typer.Exit(2)


def run_jobs(job: CleanJob, todo: list[tuple[str, Optional[Path]]], jobs: int, show_progress: bool) -> Iterator[FileResult]:
    """Results of `clean_file` in input order: in this process, or in `jobs` worker processes."""
    if jobs > 1 and len(todo) > 1 and not any(path == "-" for path, _ in todo):
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs, return_as="generator")(delayed(clean_file)(job, p, t) for p, t in todo)
    else:
        results = (clean_file(job, p, t) for p, t in todo)
    if not show_progress:
        yield from results
        return
    with typer.progressbar(results, length=len(todo), label="cleaning", file=sys.stderr) as bar:
        yield from bar


def clean_corpora(
    files: list[str], output: Optional[Path], classifier: Classifier, favor: str, split: str, text_field: str,
    keep_original: Optional[str], id_field: Optional[str], removed_to: Optional[Path], on_error: ErrorChoice,
) -> None:
    """`clean --jsonl`: stream every corpus into one output (standard output, or `-o`)."""
    for path in files:
        if path != "-" and not Path(path).is_file():
            raise InputError(f"{path}: no such file" if not Path(path).exists() else f"{path}: not a file")
        if output is not None and path != "-" and Path(path).resolve() == output.resolve():
            raise InputError(f"{output}: refusing to write over an input file")
    total = CorpusStats()
    with output_handle(output) as out, (output_handle(removed_to) if removed_to else nullcontext()) as side:
        for path in files:
            with open_input(path, sys.stdin.buffer) as handle:
                stats = clean_jsonl(
                    classifier, handle, out.write, name="<stdin>" if path == "-" else path, text_field=text_field,
                    keep_original=keep_original, id_field=id_field, removed=side.write if side else None,
                    on_error=on_error.value, favor=favor, split=split, warn=lambda m: typer.echo(f"boilerclf: warning: {m}", err=True),
                )
            total.records += stats.records
            total.skipped += stats.skipped
            total.paragraphs += stats.paragraphs
            for label, count in stats.removed.items():
                total.removed[label] = total.removed.get(label, 0) + count
    removed = ", ".join(f"{count} {label}" for label, count in sorted(total.removed.items())) or "nothing"
    skipped = f"; {total.skipped} malformed records skipped" if total.skipped else ""
    typer.echo(f"boilerclf: {total.records} records cleaned, {total.paragraphs} paragraphs, removed {removed}{skipped}", err=True)


@app.command()
@friendly
def classify(
    files: list[str] = typer.Argument(..., help="Text files; `-` reads standard input."),
    favor: FavorChoice = FavorOption,
    model: Optional[Path] = ModelOption,
    rules: Optional[Path] = RulesOption,
    lang: Optional[str] = LangOption,
    split: SplitChoice = SplitOption,
    fmt: Format = typer.Option(Format.text, "--format", help="text: a table; jsonl: one record per paragraph."),
) -> None:
    """Show each paragraph with its label and probability (and the rule that decided, if any)."""
    classifier = load(model, rules=rules)
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    for path in files:
        text, _ = read_document(path)
        decisions = classifier.annotate(text, favor=favor.value, split=split.value, lang=lang)
        if fmt is Format.jsonl:
            sys.stdout.buffer.write(render(text, decisions, fmt, classifier.labels, path if len(files) > 1 else None))
            continue
        for i, d in enumerate(decisions, 1):
            p = max(d.probabilities) if not d.kept else d.probabilities[0]
            snippet = " ".join(d.paragraph.text.split())
            rule = f"[rule: {d.rule}] " if d.rule else ""
            if colour:
                width = max(20, shutil.get_terminal_size((120, 24)).columns - 24)
                snippet = snippet if len(snippet) <= width else snippet[: width - 1] + "…"
                label = typer.style(f"{d.label:<7}", fg=COLOURS[d.label], bold=d.kept)
                typer.echo(f"{i:>5}  {label} {p:5.3f}  {rule}{snippet}")
            else:
                sys.stdout.buffer.write(encode(f"{i}\t{d.label}\t{p:.3f}\t{rule}{snippet}\n"))


@app.command()
@friendly
def info(model: Optional[Path] = ModelOption) -> None:
    """Describe the model: version, format, training data and measured metrics."""
    classifier = load(model)
    config = classifier.config
    typer.echo(f"model: {classifier.path}")
    typer.echo(f"boilerclf {__version__}, model format {config['format_version']}, labels {', '.join(classifier.labels)}")
    typer.echo("favor thresholds on P(body): " + ", ".join(f"{k} {v:.2f}" for k, v in classifier.thresholds.items()))
    for split, summary in config.get("training", {}).items():
        labels = ", ".join(f"{k} {v}" for k, v in summary.get("labels", {}).items())
        typer.echo(f"data {split}: {summary.get('documents')} documents, {summary.get('paragraphs')} paragraphs ({labels})")
    for name, report in config.get("metrics", {}).items():
        typer.echo(f"metrics {name}: {summary_line(report['overall'])}")


def summary_line(o: dict) -> str:
    parts = [
        f"body P {o['body']['precision']:.3f} R {o['body']['recall']:.3f} F1 {o['body']['f1']:.3f}",
        f"retention {o['retention']:.3f}" if o.get("retention") is not None else "",
        f"leakage {o['leakage']:.3f}" if o.get("leakage") is not None else "",
        f"perfect {o['perfect']:.3f}" if o.get("perfect") is not None else "",
        f"macro-F1 {o['macro_f1']:.3f}" if "macro_f1" in o else "",
    ]
    return ", ".join(p for p in parts if p)


@app.command()
@friendly
def evaluate(
    files: list[Path] = typer.Argument(..., help="Labelled JSONL documents (plain or gzip)."),
    favor: FavorChoice = FavorOption,
    model: Optional[Path] = ModelOption,
    rules: Optional[Path] = RulesOption,
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the full report as JSON here."),
) -> None:
    """Score the model on labelled documents: per label, keep/drop, retention, leakage."""
    from .data import iter_documents
    from .evaluate import evaluate as run

    classifier = load(model, rules=rules)
    report = {}
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        report[str(path)] = run(classifier, list(iter_documents(path)), favor=favor.value)
    for name, result in report.items():
        print_report(name, result)
    if json_out is not None:
        with atomic_output(json_out) as handle:
            handle.write(json.dumps(report, indent=1, ensure_ascii=False).encode() + b"\n")


def print_report(name: str, report: dict) -> None:
    header = (
        f"{'':<22}{'docs':>6}{'paras':>8}{'body P':>8}{'body R':>8}{'body F1':>8}{'drop F1':>8}"
        f"{'retain':>8}{'leak':>7}{'perfect':>8}{'macroF1':>8}"
    )
    typer.echo(f"{name}  (favor={report['favor']})")
    typer.echo(header)

    def row(label: str, o: dict) -> None:
        def f(value: float | None, width: int) -> str:
            return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"

        b = o["body"]
        typer.echo(
            f"{label[:21]:<22}{o['documents']:>6}{o['paragraphs']:>8}{f(b['precision'], 8)}{f(b['recall'], 8)}{f(b['f1'], 8)}"
            f"{f(o['drop']['f1'], 8)}{f(o['retention'], 8)}{f(o['leakage'], 7)}{f(o['perfect'], 8)}{f(o.get('macro_f1'), 8)}"
        )

    row("overall", report["overall"])
    for key, groups in report.items():
        if key.startswith("by_") and len(groups) > 1:
            for value, o in groups.items():
                row(f"{key[3:]}={value}", o)
    for label_name, m in report["overall"].get("labels", {}).items():
        typer.echo(f"{label_name:<8} precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}")
    if "confusion" in report["overall"]:
        typer.echo("confusion (rows gold, columns predicted): " + json.dumps(report["overall"]["confusion"]))


@app.command()
@friendly
def label(
    files: list[str] = typer.Argument(None, help="Text files to pre-label; with --serve, the label file to correct."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Where to write the pre-labelled JSONL."),
    serve_file: bool = typer.Option(False, "--serve", help="Open the labelling page for a label file."),
    port: int = typer.Option(0, "--port", help="With --serve: the port (default: a free one)."),
    uncertain_first: bool = typer.Option(False, "--uncertain-first", help="Put the documents the model is least sure of first."),
    recursive: bool = typer.Option(False, "-r", "--recursive", help="Pre-label every file under directory inputs."),
    favor: FavorChoice = FavorOption,
    model: Optional[Path] = ModelOption,
    split: SplitChoice = SplitOption,
) -> None:
    """Pre-label pages with the model (so a person only corrects), or correct them in a browser."""
    if serve_file:
        if not files or len(files) != 1:
            raise InputError("--serve takes exactly one label file")
        from .serve import serve

        serve(Path(files[0]), port=port, ready=lambda url: typer.echo(f"boilerclf: labelling {files[0]} at {url} (Ctrl-C to stop)", err=True))
        return
    if not files or output is None:
        raise InputError("give the pages to pre-label and -o labels.jsonl (or --serve labels.jsonl)")
    inputs, errors = expand_inputs(files, recursive)
    if errors:
        raise InputError(errors[0])
    if output.exists() and output.resolve() in {Path(p).resolve() for p, _ in inputs if p != "-"}:
        raise InputError(f"{output}: refusing to write over an input file")
    from .labels import prelabel

    named = []
    for path, name in inputs:
        text, _ = read_document(path)
        named.append((str(name) if path != "-" else "stdin", text))
    records = prelabel(load(model), named, favor=favor.value, split=split.value, uncertain_first=uncertain_first)
    with output_handle(output) as out:
        for record in records:
            out.write(encode(json.dumps(record, ensure_ascii=False) + "\n"))
    typer.echo(f"boilerclf: {len(records)} documents pre-labelled into {output}", err=True)


@app.command()
@friendly
def train(
    data: list[str] = typer.Option(..., "--data", help="Your labelled documents: JSONL, CSV, Parquet, a saved dataset or a Hub id."),
    out: Path = typer.Option(..., "--out", help="The new model directory."),
    base: bool = typer.Option(True, "--base/--no-base", help="Train together with boilerclf's own data (default)."),
    base_share: float = typer.Option(
        1.0, "--base-share", min=0.05, max=1.0, help="Use only this share of boilerclf's own data: quicker, a little less accurate."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same data and seed give the same model."),
    holdout: float = typer.Option(0.2, "--holdout", min=0.0, max=0.9, help="Share of your documents held out to score the model."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model directory."),
    model: Optional[Path] = typer.Option(None, "--model", help="The model to compare with (default: the packaged one)."),
) -> None:
    """Train a model on your labels (with boilerclf's data by default), and score it before/after."""
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError(f"{out}: exists and is not empty; choose another --out or add --force")
    try:
        import sklearn  # noqa: F401
        from .train import train_with_user_data
    except ImportError:
        raise InputError("training needs scikit-learn and datasets: pip install 'boilerclf[train]'") from None
    from .labels import read_labelled

    docs = []
    for source in data:
        loaded = read_labelled(source)
        typer.echo(f"boilerclf: {source}: {len(loaded)} documents, {sum(len(d.texts) for d in loaded)} paragraphs", err=True)
        docs.extend(loaded)
    if not docs:
        raise InputError("no labelled documents in --data")
    staging = out.with_name(f".{out.name}.training")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _, report = train_with_user_data(
            docs, staging, base=base, base_share=base_share, seed=seed, holdout_share=holdout, reference=load(model),
            log=lambda message: typer.echo(f"boilerclf: {message}", err=True),
        )
        (staging / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for when in ("before", "after"):
        for name, metrics in report[when].items():
            typer.echo(f"{when:>6} {name}: {summary_line(metrics)}")
    typer.echo(f"boilerclf: model written to {out}; use it with --model {out} or BOILERCLF_MODEL={out}", err=True)
