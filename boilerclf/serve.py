"""The labelling page of `boilerclf label --serve FILE`: correct a pre-labelled JSONL in a browser.

A standard-library HTTP server on 127.0.0.1 serves one page (`static/label.html`) and a small JSON
API. Every change is written to the label file at once and atomically (a temporary file beside it,
then `os.replace`), so a reload, a crash or a restart loses nothing; the lines that did not change
are kept byte for byte, and a changed line keeps all its other fields.

API (JSON in and out; document and paragraph indices count from 0):

    GET  /                  the labelling page
    GET  /api/info          {"file", "path", "count", "labels", "undo"}
    GET  /api/doc/<i>       {"index", "count", "doc_id", "lang", "paragraphs": [{"text", "label",
                             "probabilities"?, "corrected"?}, ...], "undo"}
    POST /api/label         {"doc": i, "paragraph": j, "label": "body" | "appeal" | "debris"}
                            -> {"doc", "paragraph", "label", "changed", "document": <GET /api/doc/i>, "undo"}
    POST /api/undo          {} -> {"undone": {"doc", "paragraph", "label"} | null, "document"?, "undo"}

A change sets the paragraph's "label" and adds "corrected": true; setting the label it already has
changes nothing. Undo puts the last changed paragraph back exactly as it was, across documents;
its history lives as long as the server ("undo" is how many steps are left). An error is
`{"error": "one line"}` with status 400 (bad request), 403 (foreign host or origin), 404, 409
(the file changed on disk behind the server), 411/413/415 (body missing, too large, not JSON) or
500. POSTs need `Content-Type: application/json` and every request a Host of 127.0.0.1 or
localhost, so that another web page open in the same browser cannot write labels.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from .data import DataError, parse_line
from .files import InputError, atomic_output

LABELS = ("body", "appeal", "debris")
MAX_REQUEST_BYTES = 64 * 1024
MAX_DRAIN_BYTES = 1024 * 1024
LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}


class RequestError(ValueError):
    """A request the server refuses: the message is the one line the page shows."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _ending(line: bytes) -> bytes:
    for end in (b"\r\n", b"\n", b"\r"):
        if line.endswith(end):
            return end
    return b""


class LabelFile:
    """The documents of one label file, and the changes made to it, saved as they happen."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()  # write through a symlink, not over it
        self.name = str(path)
        self._lock = threading.Lock()
        self._undo: list[tuple[int, int, dict, bytes]] = []  # (doc, paragraph, record and line before)
        self._ids: list[str] = []
        self._lines, self._where, self._records = self._read()
        self._stamp = self._signature()

    def _read(self) -> tuple[list[bytes], list[int], list[dict]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"{self.name}: no such file") from None
        except IsADirectoryError:
            raise DataError(f"{self.name}: is a directory, not a label file") from None
        except OSError as exc:
            raise DataError(f"{self.name}: cannot read ({exc.strerror or exc})") from None
        if data[:2] == b"\x1f\x8b":
            raise DataError(f"{self.name}: is gzip-compressed; decompress it to label it (gunzip -k {self.name})")
        lines = data.splitlines(keepends=True)
        where, records = [], []
        for number, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{self.name}:{number}: not UTF-8") from None
            if not line.strip():
                continue
            document = parse_line(line, Path(self.name), number)  # the checks every labelled file gets
            self._ids.append(document.doc_id)
            where.append(number - 1)
            records.append(json.loads(line))
        if not records:
            raise DataError(f"{self.name}: no documents to label")
        return lines, where, records

    def _signature(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return st.st_mtime_ns, st.st_size, st.st_ino

    @property
    def count(self) -> int:
        return len(self._records)

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    def info(self) -> dict:
        return {"file": self.name, "path": str(self.path), "count": self.count, "labels": list(LABELS),
                "undo": self.undo_depth}

    def document(self, index: Any) -> dict:
        """What the page shows of document `index`."""
        with self._lock:
            return self._view(self._doc_index(index))

    def _view(self, index: int) -> dict:
        record = self._records[index]
        paragraphs = []
        for p in record["paragraphs"]:
            shown = {"text": p["text"], "label": p["label"]}
            if isinstance(p.get("probabilities"), dict):
                shown["probabilities"] = p["probabilities"]
            if p.get("corrected") is True:
                shown["corrected"] = True
            paragraphs.append(shown)
        return {
            "index": index, "count": self.count, "doc_id": self._ids[index], "lang": record.get("lang"),
            "paragraphs": paragraphs, "undo": self.undo_depth,
        }

    def _doc_index(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestError("'doc' must be a document index (an integer)")
        if not 0 <= value < self.count:
            raise RequestError(f"document {value} is out of range (0 to {self.count - 1})")
        return value

    def set_label(self, doc: Any, paragraph: Any, label: Any) -> dict:
        """Give one paragraph a new label and save the file; the change can be undone."""
        with self._lock:
            doc = self._doc_index(doc)
            paragraphs = self._records[doc]["paragraphs"]
            if isinstance(paragraph, bool) or not isinstance(paragraph, int):
                raise RequestError("'paragraph' must be a paragraph index (an integer)")
            if not 0 <= paragraph < len(paragraphs):
                last = len(paragraphs) - 1
                raise RequestError(f"paragraph {paragraph} is out of range for document {doc} (0 to {last})")
            if label not in LABELS:
                raise RequestError(f"'label' must be one of {', '.join(LABELS)}")
            changed = paragraphs[paragraph]["label"] != label
            if changed:
                before = (doc, paragraph, self._records[doc], self._lines[self._where[doc]])
                record = {**self._records[doc], "paragraphs": list(paragraphs)}
                record["paragraphs"][paragraph] = {**paragraphs[paragraph], "label": label, "corrected": True}
                self._save(doc, record, json.dumps(record, ensure_ascii=False).encode("utf-8"))
                self._undo.append(before)
            return {"doc": doc, "paragraph": paragraph, "label": label, "changed": changed,
                    "document": self._view(doc), "undo": self.undo_depth}

    def undo(self) -> dict:
        """Put back the paragraph changed last: its line as it was before, byte for byte.

        Changes are undone newest first, so the line is exactly as that change left it.
        """
        with self._lock:
            if not self._undo:
                return {"undone": None, "undo": 0}
            doc, paragraph, record, line = self._undo[-1]
            self._save(doc, record, line.rstrip(b"\r\n"))
            self._undo.pop()
            return {"undone": {"doc": doc, "paragraph": paragraph, "label": record["paragraphs"][paragraph]["label"]},
                    "document": self._view(doc), "undo": self.undo_depth}

    def _save(self, doc: int, record: dict, line: bytes) -> None:
        """Write the file with one document's line replaced; memory changes only once it is on disk."""
        number = self._where[doc]
        lines = list(self._lines)
        lines[number] = line + _ending(lines[number])
        try:
            if self._signature() != self._stamp:
                message = f"{self.name} changed on disk since the server read it; restart the server to reload it"
                raise RequestError(message, 409)
            mode = os.stat(self.path).st_mode & 0o7777
            with atomic_output(self.path) as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), mode)  # the new file keeps the old one's permissions
                handle.write(b"".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            self._stamp = self._signature()
        except FileNotFoundError:
            raise RequestError(f"{self.name} was removed since the server read it; restart the server", 409) from None
        except OSError as exc:
            raise RequestError(f"cannot save {self.name} ({exc.strerror or exc})", 500) from None
        self._lines, self._records[doc] = lines, record


class LabelServer(ThreadingHTTPServer):
    """The HTTP server, holding the label file and the page it serves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: LabelFile, page: bytes):
        super().__init__(address, Handler)
        self.store = store
        self.page = page
        port = self.server_address[1]
        self.allowed_hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(BaseHTTPRequestHandler):
    server: LabelServer
    server_version = "boilerclf"
    body_read = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the CLI prints the URL, and every key press is a request."""

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _answer(self, route: Callable[[], tuple[int, Any]]) -> None:
        try:
            if self.headers.get("Host", "") not in self.server.allowed_hosts:
                raise RequestError("this server answers requests for 127.0.0.1 or localhost only", 403)
            status, payload = route()
        except RequestError as exc:
            status, payload = exc.status, {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a bug must reach the page as one line, not a traceback
            print(f"boilerclf: error: {self.command} {self.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status, payload = 500, {"error": f"internal error ({type(exc).__name__}); see the server's output"}
        self._drain()
        if isinstance(payload, bytes):
            body, kind = payload, "text/html; charset=utf-8"
        else:
            body, kind = json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _get(self) -> tuple[int, Any]:
        path = urlsplit(self.path).path
        store = self.server.store
        if path in ("/", "/index.html"):
            return 200, self.server.page
        if path == "/api/info":
            return 200, store.info()
        if path.startswith("/api/doc/"):
            text = path[len("/api/doc/"):]
            try:
                index = int(text)
            except ValueError:
                raise RequestError(f"document index must be an integer, not {text!r}") from None
            return 200, store.document(index)
        raise RequestError(f"no such page: {path}", 404)

    def _post(self) -> tuple[int, Any]:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.server.allowed_hosts}:
            raise RequestError(f"requests from {origin} are not accepted", 403)
        path = urlsplit(self.path).path
        if path not in ("/api/label", "/api/undo"):
            raise RequestError(f"no such endpoint: POST {path}", 404)
        request = self._json_body()
        if path == "/api/undo":
            return 200, self.server.store.undo()
        return 200, self.server.store.set_label(request.get("doc"), request.get("paragraph"), request.get("label"))

    def _length(self) -> int | None:
        length = self.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else None

    def _drain(self) -> None:
        """Read a body no one wanted: closing on unread data can reset the connection before the answer is read."""
        length = self._length()
        if self.command == "POST" and not self.body_read and length is not None and length <= MAX_DRAIN_BYTES:
            self.rfile.read(length)
            self.body_read = True

    def _json_body(self) -> dict:
        length = self._length()
        if length is None:
            raise RequestError("the request needs a Content-Length", 411)
        if length > MAX_REQUEST_BYTES:
            raise RequestError(f"the request is larger than {MAX_REQUEST_BYTES} bytes", 413)
        data = self.rfile.read(length)
        self.body_read = True
        if self.headers.get_content_type() != "application/json":
            raise RequestError("send the request as JSON (Content-Type: application/json)", 415)
        try:
            request = json.loads(data or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestError("the request is not valid JSON") from None
        if not isinstance(request, dict):
            raise RequestError("the request must be a JSON object")
        return request


def page() -> bytes:
    return resources.files(__package__).joinpath("static").joinpath("label.html").read_bytes()


def make_server(path: str | Path, host: str = "127.0.0.1", port: int = 0) -> LabelServer:
    """Read and check the label file, then listen (port 0: a free one); call serve_forever() on it."""
    if host not in LOOPBACK:
        raise InputError(f"{host}: the labelling server listens on 127.0.0.1 (or localhost) only")
    store = LabelFile(path)  # a malformed file fails here, before anything listens
    try:
        return LabelServer((LOOPBACK[host], port), store, page())
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def serve(
    path: Path, *, host: str = "127.0.0.1", port: int = 0, open_browser: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the labelling page for `path` until Ctrl+C (or `shutdown()` from another thread)."""
    server = make_server(path, host, port)
    try:
        if ready is not None:
            ready(server.url)
        if open_browser:
            webbrowser.open(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
