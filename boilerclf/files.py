"""Read input documents and write outputs safely: what the CLI needs around the API.

Input is UTF-8. Bytes that are not valid UTF-8 are carried through unchanged (as surrogate
escapes), so cleaning stays byte for byte lossless; the caller is told how many there were.
Outputs are written to a temporary file beside the target and renamed over it, so a failed
run never leaves a partial file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class InputError(ValueError):
    """An input that cannot be cleaned: the message is the one line a user sees."""


def decode(data: bytes, name: str) -> tuple[str, int]:
    """The text of `data` and how many of its bytes are not valid UTF-8."""
    if b"\x00" in data:
        raise InputError(f"{name}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
        return text, sum(1 for ch in text if "\udc80" <= ch <= "\udcff")


def encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def read_document(path: str) -> tuple[str, int]:
    """Read one input (`-` is standard input); see `decode` for what comes back."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise InputError(f"{path}: is a directory (use --recursive to clean the files in it)")
            if p.stat().st_size > MAX_DOCUMENT_BYTES:
                raise InputError(
                    f"{path}: larger than {MAX_DOCUMENT_BYTES >> 20} MiB for one document; "
                    "split it, or put one document per record in JSONL"
                )
            data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory (use --recursive to clean the files in it)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{name}: larger than {MAX_DOCUMENT_BYTES >> 20} MiB for one document")
    return decode(data, name)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def atomic_output(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary handle whose content replaces `path` only if the block finishes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        # mkstemp makes the file private (0600); give it the mode a plain open() would have.
        os.chmod(tmp, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
