"""The command line: same answers as the API, one-line errors, never a partial output file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import boilerclf
from boilerclf.model import FORMAT_VERSION

PAGE = (
    "Home\nWorld\nPolitics\nSport\nLog in\n"
    "Harbour town votes to restore its old lighthouse\n"
    "Residents of the small fishing town voted on Sunday to spend part of the municipal reserve on restoring "
    "the lighthouse, which has stood dark since a storm damaged its lantern room twelve years ago.\n"
    "The mayor said work could begin next summer if the regional heritage office approves the plans.\n"
    "Share on Facebook\nShare on X\nCopy link\n"
    "Become a member today and help us keep local reporting free for everyone.\n"
    "Privacy policy\nTerms of use\n© 2025 The Harbour Gazette. All rights reserved.\n"
)


def run(*args: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "boilerclf", *args], input=stdin, capture_output=True,
        env={**os.environ, **(env or {})}, timeout=120,
    )


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err
    assert err.startswith("boilerclf: error:") and fragment in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.txt"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_clean_prints_what_the_api_returns(page: Path) -> None:
    result = run("clean", str(page))
    assert result.returncode == 0
    assert result.stdout.decode() == boilerclf.clean(PAGE)
    assert "lighthouse" in result.stdout.decode() and "Privacy policy" not in result.stdout.decode()


def test_clean_reads_standard_input(page: Path) -> None:
    assert run("clean", "-", stdin=PAGE.encode()).stdout == run("clean", str(page)).stdout


def test_clean_the_seed_example(seed_text: bytes, tmp_path: Path) -> None:
    from conftest import SEED

    result = run("clean", str(SEED))
    assert result.returncode == 0
    assert result.stdout.decode() == boilerclf.clean(seed_text.decode())


def test_crlf_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(PAGE.replace("\n", "\r\n").encode())
    out = run("clean", str(path)).stdout
    assert out == boilerclf.clean(PAGE).replace("\n", "\r\n").encode()


def test_jsonl_format_has_offsets_labels_and_probabilities(page: Path) -> None:
    records = [json.loads(line) for line in run("clean", "--format", "jsonl", str(page)).stdout.splitlines()]
    assert len(records) == len(boilerclf.segment(PAGE))
    for record in records:
        assert PAGE[record["start"] : record["end"]] == record["text"]
        assert set(record["probabilities"]) == {"body", "appeal", "debris"}
        assert record["kept"] == (record["label"] == "body")


def test_show_removed_goes_to_stderr(page: Path) -> None:
    result = run("clean", "--show-removed", str(page))
    assert "debris\tPrivacy policy" in result.stderr.decode()
    assert "Privacy policy" not in result.stdout.decode()


def test_output_file_and_directory(page: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    assert run("clean", str(page), "-o", str(out)).returncode == 0
    assert out.read_text() == boilerclf.clean(PAGE)
    assert out.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # not the temporary file's 0600
    tree = tmp_path / "in"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text(PAGE)
    (tree / "sub" / "b.txt").write_text(PAGE)
    assert run("clean", "-r", str(tree), "-o", str(tmp_path / "mirror")).returncode == 0
    assert (tmp_path / "mirror" / "sub" / "b.txt").read_text() == boilerclf.clean(PAGE)


def test_classify_plain_columns_when_piped(page: Path) -> None:
    lines = run("classify", str(page)).stdout.decode().splitlines()
    assert len(lines) == len(boilerclf.segment(PAGE))
    number, label, probability, text = lines[0].split("\t")
    assert number == "1" and label in boilerclf.LABELS and 0 <= float(probability) <= 1 and text == "Home"


def test_info_and_version() -> None:
    info = run("info").stdout.decode()
    assert f"model format {FORMAT_VERSION}," in info and "favor thresholds" in info
    assert run("--version").stdout.decode().strip() == f"boilerclf {boilerclf.__version__}"


def test_empty_file_gives_empty_output(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run("clean", str(path))
    assert result.returncode == 0 and result.stdout == b""


def test_undecodable_bytes_pass_through_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    body = "The mayor said work could begin next summer if the regional heritage office approves the plans, officials said."
    path.write_bytes(("Caf\xe9 news\n" + body + "\n").encode("latin-1"))
    result = run("clean", "--favor", "recall", str(path))
    assert result.returncode == 0
    assert body.encode() in result.stdout
    assert "not UTF-8" in result.stderr.decode()


def sparse_file(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize(
    "setup, fragment",
    [
        (lambda d: d / "missing.txt", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "bin.dat").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00") and d / "bin.dat", "binary"),
        (lambda d: sparse_file(d / "huge.txt", 200 * 1024 * 1024), "binary"),
    ],
    ids=["missing", "directory", "binary", "200MB"],
)
def test_bad_inputs_get_one_line_errors(tmp_path: Path, setup, fragment: str) -> None:
    path = setup(tmp_path)
    assert_one_line_error(run("clean", str(path)), fragment)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from boilerclf.cli import app

    path = tmp_path / "secret.txt"
    path.write_text("text")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    result = CliRunner().invoke(app, ["clean", str(path)])
    assert result.exit_code == 2
    assert "permission denied" in result.output and "Traceback" not in result.output


def test_model_path_that_is_not_a_model(tmp_path: Path, page: Path) -> None:
    assert_one_line_error(run("clean", "--model", str(tmp_path), str(page)), "not a boilerclf model")
    assert_one_line_error(run("info", env={"BOILERCLF_MODEL": str(tmp_path)}), "not a boilerclf model")


def test_a_bad_file_among_good_ones_does_not_stop_the_others(page: Path, tmp_path: Path) -> None:
    result = run("clean", str(page), str(tmp_path / "missing.txt"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert (tmp_path / "out" / "page.txt").read_text() == boilerclf.clean(PAGE)
    assert "missing.txt: no such file" in result.stderr.decode()


def test_failed_write_leaves_no_partial_file(page: Path, tmp_path: Path) -> None:
    from boilerclf.files import atomic_output

    target = tmp_path / "result.txt"
    target.write_text("previous content")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_text() == "previous content"
    assert list(tmp_path.iterdir()) == sorted([page, target]) or set(tmp_path.iterdir()) == {page, target}


def test_refuses_to_write_over_its_input(page: Path) -> None:
    result = run("clean", str(page), "-o", str(page))
    assert result.returncode == 2 and "refusing to write over an input" in result.stderr.decode()
    assert page.read_text() == PAGE


def test_large_text_is_streamed_in_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from boilerclf import cli

    monkeypatch.setattr(cli, "MAX_DOCUMENT_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_text(PAGE)
    out = tmp_path / "out.txt"
    result = CliRunner().invoke(cli.app, ["clean", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == boilerclf.clean(PAGE)  # one window: the same as the whole document


def write_corpus(path: Path, records: list, cut: bool = False) -> None:
    import gzip

    data = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data[: len(data) // 2] if cut else data)


def test_jsonl_corpus_keeps_order_and_fields(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl.gz"
    records = [{"id": i, "text": PAGE if i % 2 else "Only one line of text.", "lang": "en"} for i in range(7)]
    write_corpus(corpus, records)
    out, side = tmp_path / "out.jsonl.gz", tmp_path / "removed.jsonl"
    result = run("clean", "--jsonl", str(corpus), "-o", str(out), "--keep-original", "raw", "--removed-to", str(side), "--id-field", "id")
    assert result.returncode == 0, result.stderr
    import gzip

    cleaned = [json.loads(line) for line in gzip.decompress(out.read_bytes()).decode().splitlines()]
    assert [r["id"] for r in cleaned] == list(range(7))
    assert all(r["raw"] == records[r["id"]]["text"] and r["lang"] == "en" for r in cleaned)
    assert cleaned[1]["text"] == boilerclf.clean(PAGE)
    removed = [json.loads(line) for line in side.read_text().splitlines()]
    expected = [(i, d.paragraph.text) for i, r in enumerate(records) for d in boilerclf.load().annotate(r["text"]) if not d.kept]
    assert [(r["id"], r["text"]) for r in removed] == expected
    assert all(r["label"] in ("appeal", "debris") for r in removed)
    assert "7 records cleaned" in result.stderr.decode()


def test_jsonl_from_stdin_to_stdout() -> None:
    stdin = (json.dumps({"text": PAGE}) + "\n").encode()
    result = run("clean", "--jsonl", "-", stdin=stdin)
    assert json.loads(result.stdout)["text"] == boilerclf.clean(PAGE)


@pytest.mark.parametrize(
    "records, cut, fragment",
    [
        ([{"text": "a"}, "{not json", {"text": "b"}], None, "line 2: malformed JSON"),
        ([{"text": "a"}, {"body": "no text field"}], None, "line 2: no text field 'text'"),
        ([{"text": "a"}, ["a", "list"]], None, "line 2: a record must be a JSON object"),
        ([{"text": f"{i} {PAGE}"} for i in range(300)], True, "cut short"),
    ],
    ids=["malformed", "missing-field", "not-object", "truncated-gzip"],
)
def test_bad_corpus_records(tmp_path: Path, records: list, cut: bool, fragment: str) -> None:
    corpus = tmp_path / ("in.jsonl.gz" if cut else "in.jsonl")
    write_corpus(corpus, records, cut)
    out = tmp_path / "out.jsonl"
    result = run("clean", "--jsonl", str(corpus), "-o", str(out))
    assert_one_line_error(result, fragment)
    assert not out.exists()


def test_skip_bad_records_and_count_them(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    write_corpus(corpus, [{"text": "One."}, "{broken", {"x": 1}, {"text": "Two."}])
    out = tmp_path / "out.jsonl"
    result = run("clean", "--jsonl", "--on-error", "skip", str(corpus), "-o", str(out))
    assert result.returncode == 0
    assert len(out.read_text().splitlines()) == 2
    err = result.stderr.decode()
    assert "line 2" in err and "line 3" in err and "2 malformed records skipped" in err


def test_parallel_directory_matches_serial(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    tree.mkdir()
    for i in range(4):
        (tree / f"{i}.txt").write_text(PAGE if i % 2 else PAGE.upper())
    (tree / "bad.bin").write_bytes(b"\x00\x01")
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    first = run("clean", "-r", str(tree), "-o", str(serial))
    second = run("clean", "-r", "-j", "2", str(tree), "-o", str(parallel))
    assert first.returncode == second.returncode == 2
    assert "bad.bin: looks like a binary file" in second.stderr.decode()
    for i in range(4):
        assert (serial / f"{i}.txt").read_bytes() == (parallel / f"{i}.txt").read_bytes()


def test_a_reader_that_leaves_early_gets_no_error(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(PAGE * 400)  # far more output than a pipe buffers
    process = subprocess.Popen([sys.executable, "-m", "boilerclf", "classify", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(5)
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""


def test_the_readme_example_prints_the_article_alone() -> None:
    """The README's first command: the bundled page cleans to its article, line for line."""
    example = Path(__file__).resolve().parent.parent / "data" / "examples" / "page.txt"
    lines = example.read_text(encoding="utf-8").splitlines(keepends=True)
    article = [15, 16, 17, 18, 23, 24, 26, 27, 28, 30, 31, 32, 33]  # headline to the list's last item
    assert run("clean", str(example)).stdout.decode() == "".join(lines[i - 1] for i in article)
