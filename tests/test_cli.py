"""The command line: same answers as the API, one-line errors, never a partial output file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import boilerclf

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
    assert "model format 1" in info and "favor thresholds" in info
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
        (lambda d: sparse_file(d / "huge.txt", 200 * 1024 * 1024), "MiB"),
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
