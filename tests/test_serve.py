"""The labelling server: every change on disk at once, atomically; bad requests refused; the page in a real browser."""

from __future__ import annotations

import http.client
import json
import os
import stat
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from boilerclf import serve as serve_module
from boilerclf.serve import LabelServer, make_server, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def probs(body: float, appeal: float, debris: float) -> dict:
    return {"body": body, "appeal": appeal, "debris": debris}


DOCS = [
    {"doc_id": "news-1", "lang": "en", "url": "https://example.org/1", "paragraphs": [
        {"text": "Harbour town votes to restore its lighthouse", "label": "body", "probabilities": probs(0.9, 0.05, 0.05)},
        {"text": "Share on Facebook", "label": "body", "probabilities": probs(0.55, 0.05, 0.4)},
        {"text": "The mayor said work could begin next summer.", "label": "body", "probabilities": probs(0.95, 0.03, 0.02)},
    ]},
    {"doc_id": "news-2", "lang": "de", "paragraphs": [
        {"text": "Der Stadtrat hat am Montag beschlossen, die Brücke zu sanieren.", "label": "appeal", "probabilities": probs(0.4, 0.5, 0.1)},
        {"text": "Jetzt Mitglied werden und unabhängigen Journalismus unterstützen!", "label": "body", "probabilities": probs(0.6, 0.35, 0.05)},
        {"text": "Impressum", "label": "body", "probabilities": probs(0.5, 0.1, 0.4)},
    ]},
    {"doc_id": "news-3", "paragraphs": [
        {"text": "<b>Not markup</b> & \"quotes\"", "label": "debris"},
        {"text": "Cookies help us deliver our services.", "label": "debris", "probabilities": probs(0.1, 0.2, 0.7)},
    ]},
]


def write_labels(path: Path, docs: list[dict] = DOCS) -> bytes:
    """A label file with the quirks a real one may have: compact and spaced JSON, a blank line, CRLF."""
    lines = [json.dumps(docs[0], ensure_ascii=False) + "\n", "\n"]
    lines.append(json.dumps(docs[1], ensure_ascii=False, separators=(",", ":")) + "\r\n")
    lines += [json.dumps(d) + "\n" for d in docs[2:]]
    data = "".join(lines).encode("utf-8")
    path.write_bytes(data)
    return data


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def running(path: Path) -> Iterator[LabelServer]:
    server = make_server(path)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def call(server: LabelServer, method: str, path: str, body: Any = None, headers: dict | None = None,
         raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload)


def label(server: LabelServer, doc: Any, paragraph: Any, value: Any) -> tuple[int, Any]:
    return call(server, "POST", "/api/label", {"doc": doc, "paragraph": paragraph, "label": value})


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    write_labels(path)
    return path


def test_a_change_is_saved_at_once_and_other_lines_stay_byte_for_byte(labels: Path) -> None:
    original = labels.read_bytes().splitlines(keepends=True)
    os.chmod(labels, 0o640)
    snapshot = labels.parent / "snapshot"
    os.link(labels, snapshot)  # a write in place would change it too; a rename of a new file does not
    with running(labels) as server:
        status, answer = label(server, 2, 1, "appeal")
        assert status == 200 and answer["changed"] and answer["undo"] == 1
        assert answer["document"]["paragraphs"][1] == {**DOCS[2]["paragraphs"][1], "label": "appeal", "corrected": True}
        now = labels.read_bytes().splitlines(keepends=True)
        assert now[:3] == original[:3] and len(now) == len(original)
        changed = json.loads(now[3])
        assert changed == {**DOCS[2], "paragraphs": [DOCS[2]["paragraphs"][0], answer["document"]["paragraphs"][1]]}
        status, answer = label(server, 1, 0, "body")  # the CRLF line, written compactly: keeps its CRLF
        assert status == 200
        assert labels.read_bytes().splitlines(keepends=True)[2].endswith(b"\r\n")
    assert snapshot.read_bytes().splitlines(keepends=True) == original, "written in place, not replaced by a rename"
    assert stat.S_IMODE(labels.stat().st_mode) == 0o640
    assert sorted(p.name for p in labels.parent.iterdir()) == ["labels.jsonl", "snapshot"], "a temporary file was left"


def test_a_failed_write_leaves_file_and_server_as_they_were(labels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = labels.read_bytes()
    with running(labels) as server:
        def full_disk(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(serve_module.os, "fsync", full_disk)
        status, answer = label(server, 0, 1, "debris")
        assert status == 500 and answer == {"error": f"cannot save {labels} (No space left on device)"}
        monkeypatch.undo()
        assert labels.read_bytes() == before
        assert call(server, "GET", "/api/doc/0")[1]["paragraphs"][1]["label"] == "body"
        assert call(server, "POST", "/api/undo", {})[1] == {"undone": None, "undo": 0}
    assert sorted(p.name for p in labels.parent.iterdir()) == ["labels.jsonl"]


def test_undo_goes_back_across_documents_to_the_original_bytes(labels: Path) -> None:
    before = labels.read_bytes()
    with running(labels) as server:
        label(server, 0, 1, "debris")
        label(server, 1, 0, "body")
        label(server, 1, 0, "debris")
        label(server, 2, 0, "debris")  # the label it has: no change, nothing to undo
        status, answer = call(server, "POST", "/api/undo", {})
        assert status == 200 and answer["undone"] == {"doc": 1, "paragraph": 0, "label": "body"} and answer["undo"] == 2
        assert records(labels)[1]["paragraphs"][0] == {**DOCS[1]["paragraphs"][0], "label": "body", "corrected": True}
        assert call(server, "POST", "/api/undo", {})[1]["undone"] == {"doc": 1, "paragraph": 0, "label": "appeal"}
        status, answer = call(server, "POST", "/api/undo", {})
        assert answer["undone"] == {"doc": 0, "paragraph": 1, "label": "body"} and answer["undo"] == 0
        assert answer["document"]["index"] == 0 and "corrected" not in answer["document"]["paragraphs"][1]
        assert labels.read_bytes() == before
        assert call(server, "POST", "/api/undo", {}) == (200, {"undone": None, "undo": 0})


def test_setting_the_same_label_writes_nothing(labels: Path) -> None:
    stamp = labels.stat().st_mtime_ns, labels.stat().st_ino
    with running(labels) as server:
        status, answer = label(server, 0, 0, "body")
        assert status == 200 and not answer["changed"] and answer["undo"] == 0
    assert (labels.stat().st_mtime_ns, labels.stat().st_ino) == stamp


def test_a_restarted_server_shows_the_saved_labels(labels: Path) -> None:
    with running(labels) as server:
        label(server, 2, 1, "body")
    with running(labels) as server:
        status, info = call(server, "GET", "/api/info")
        assert status == 200 and info["count"] == 3 and info["undo"] == 0
        assert info["labels"] == ["body", "appeal", "debris"]
        doc = call(server, "GET", "/api/doc/2")[1]
        assert doc["doc_id"] == "news-3" and doc["index"] == 2 and doc["count"] == 3
        assert doc["paragraphs"][1] == {**DOCS[2]["paragraphs"][1], "label": "body", "corrected": True}


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "fragment"),
    [
        ("POST", "/api/label", {"doc": 3, "paragraph": 0, "label": "body"}, {}, 400, "document 3 is out of range"),
        ("POST", "/api/label", {"doc": -1, "paragraph": 0, "label": "body"}, {}, 400, "out of range"),
        ("POST", "/api/label", {"doc": "0", "paragraph": 0, "label": "body"}, {}, 400, "'doc' must be"),
        ("POST", "/api/label", {"doc": True, "paragraph": 0, "label": "body"}, {}, 400, "'doc' must be"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 3, "label": "body"}, {}, 400, "paragraph 3 is out of range"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 1.0, "label": "body"}, {}, 400, "'paragraph' must be"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 0, "label": "boilerplate"}, {}, 400, "'label' must be one of"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 0}, {}, 400, "'label' must be one of"),
        ("POST", "/api/label", [0, 0, "body"], {}, 400, "a JSON object"),
        ("POST", "/api/label", b"{not json", {}, 400, "not valid JSON"),
        ("POST", "/api/label", b"\xff\xfe", {}, 400, "not valid JSON"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 0, "label": "debris"}, {"Content-Type": "text/plain"}, 415, "JSON"),
        ("POST", "/api/label", b"x" * 70000, {}, 413, "larger than"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 0, "label": "debris"}, {"Origin": "https://evil.example"}, 403,
         "not accepted"),
        ("POST", "/api/label", {"doc": 0, "paragraph": 0, "label": "debris"}, {"Host": "evil.example"}, 403, "127.0.0.1"),
        ("POST", "/api/nothing", {}, {}, 404, "no such endpoint"),
        ("GET", "/api/doc/3", None, {}, 400, "out of range"),
        ("GET", "/api/doc/x", None, {}, 400, "must be an integer"),
        ("GET", "/api/doc/", None, {}, 400, "must be an integer"),
        ("GET", "/etc/passwd", None, {}, 404, "no such page"),
    ],
)
def test_bad_requests_get_a_json_error_and_change_nothing(
    labels: Path, method: str, path: str, body: Any, headers: dict, status: int, fragment: str
) -> None:
    before = labels.read_bytes()
    raw = body if isinstance(body, bytes) else None
    with running(labels) as server:
        got, answer = call(server, method, path, None if raw is not None else body, headers, raw)
        assert got == status and set(answer) == {"error"}
        assert fragment in answer["error"] and "\n" not in answer["error"] and "Traceback" not in answer["error"]
        assert call(server, "GET", "/api/info")[1]["undo"] == 0
    assert labels.read_bytes() == before


def test_a_post_without_length_and_a_bug_get_one_line_errors(labels: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with running(labels) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        connection.putrequest("POST", "/api/undo")
        connection.putheader("Content-Type", "application/json")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 411 and json.loads(response.read()) == {"error": "the request needs a Content-Length"}
        connection.close()

        def broken(index: Any) -> dict:
            raise KeyError("paragraphs")

        monkeypatch.setattr(server.store, "document", broken)
        status, answer = call(server, "GET", "/api/doc/0")
        assert status == 500 and answer == {"error": "internal error (KeyError); see the server's output"}
    assert "GET /api/doc/0: KeyError" in capsys.readouterr().err


def test_a_file_changed_behind_the_server_is_not_overwritten(labels: Path) -> None:
    with running(labels) as server:
        edited = write_labels(labels, [*DOCS, {"doc_id": "added", "paragraphs": [{"text": "x", "label": "body"}]}])
        status, answer = label(server, 0, 1, "debris")
        assert status == 409 and "changed on disk" in answer["error"]
    assert labels.read_bytes() == edited


def test_concurrent_changes_all_land(labels: Path) -> None:
    changes = [(d, p, "appeal") for d, doc in enumerate(DOCS) for p in range(len(doc["paragraphs"]))]
    with running(labels) as server:
        results: list[int] = []
        threads = [threading.Thread(target=lambda c=c: results.append(label(server, *c)[0])) for c in changes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert results == [200] * len(changes)
        expected_undo = sum(1 for d, p, _ in changes if DOCS[d]["paragraphs"][p]["label"] != "appeal")
        assert call(server, "GET", "/api/info")[1]["undo"] == expected_undo
    assert [p["label"] for doc in records(labels) for p in doc["paragraphs"]] == ["appeal"] * len(changes)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"doc_id": "a", "paragraphs": []}\n{"doc_id": "b", "paragraphs": [\n', ":2: malformed JSON"),
        (b'{"doc_id": "a", "paragraphs": [{"text": "x", "label": "junk"}]}\n', ":1: paragraph 0 has unknown label 'junk'"),
        (b'\n{"doc_id": "a"}\n', ":2: a document needs a 'paragraphs' list"),
        (b'{"doc_id": "a", "paragraphs": [{"text": "caf\xe9", "label": "body"}]}\n', ":1: not UTF-8"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed"),
        (b"\n\n", "no documents to label"),
    ],
)
def test_a_malformed_label_file_fails_in_one_line_before_listening(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        make_server(path)
    message = str(error.value)
    assert message.startswith(str(path)) and fragment in message and "\n" not in message


def test_missing_file_and_foreign_host_are_refused(tmp_path: Path, labels: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        make_server(tmp_path / "absent.jsonl")
    with pytest.raises(ValueError, match="127.0.0.1"):
        make_server(labels, host="0.0.0.0")


def test_serve_reports_its_url_serves_the_page_and_stops(labels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    servers: list[LabelServer] = []
    monkeypatch.setattr(serve_module, "make_server", lambda *a: servers.append(make_server(*a)) or servers[-1])
    urls: list[str] = []
    ready = threading.Event()
    thread = threading.Thread(target=serve, args=(labels,), kwargs={"ready": lambda url: (urls.append(url), ready.set())})
    thread.start()
    assert ready.wait(5)
    assert urls[0].startswith("http://127.0.0.1:") and urls[0] == servers[0].url and servers[0].server_address[1] != 0
    with urllib.request.urlopen(urls[0], timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"<title>boilerclf label</title>" in response.read()
    servers[0].shutdown()
    thread.join(5)
    assert not thread.is_alive()


# A real browser: the keys, the clicks, a reload.


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def settle(page: Any) -> None:
    """Wait until every queued key press has been answered by the server."""
    page.wait_for_function("document.body.dataset.busy === '0'")
    assert page.locator("#status.error").count() == 0, page.locator("#status").text_content()


def shown(page: Any) -> list[str]:
    return page.eval_on_selector_all(".para", "rows => rows.map(r => r.dataset.label)")


def test_the_page_in_a_browser(labels: Path, browser: Any) -> None:
    with running(labels) as server:
        page = browser.new_page()
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url)
        settle(page)
        assert page.text_content("#position") == "1 / 3" and page.text_content("#doc-id") == "news-1"
        assert shown(page) == ["body", "body", "body"]
        assert page.get_attribute(".para:nth-child(1)", "class") == "para body selected"
        assert page.text_content(".para:nth-child(2) .prob") == "p 0.55"

        page.keyboard.press("j")
        page.keyboard.press("d")  # "Share on Facebook" is debris
        settle(page)
        assert records(labels)[0]["paragraphs"][1] == {**DOCS[0]["paragraphs"][1], "label": "debris", "corrected": True}
        assert shown(page) == ["body", "debris", "body"] and page.text_content("#selection") == "paragraph 2 / 3"

        for key in "nbjau":  # next document; first paragraph body; second appeal, then undo that
            page.keyboard.press(key)
        settle(page)
        assert page.text_content("#position") == "2 / 3"
        assert [p["label"] for p in records(labels)[1]["paragraphs"]] == ["body", "body", "body"]
        assert shown(page) == ["body", "body", "body"]

        page.click(".para:nth-child(3) .text")  # select "Impressum" by clicking it
        settle(page)
        assert "selected" in page.get_attribute(".para:nth-child(3)", "class")
        page.click('.para:nth-child(3) button[data-label="debris"]')
        settle(page)
        assert records(labels)[1]["paragraphs"][2]["label"] == "debris"

        page.reload()  # nothing is lost, and the page reopens where it was
        settle(page)
        assert page.text_content("#position") == "2 / 3" and page.text_content("#doc-id") == "news-2"
        assert shown(page) == ["body", "body", "debris"]
        assert page.locator(".para:nth-child(3) .corrected").count() == 1
        assert page.text_content("#selection") == "paragraph 3 / 3"

        page.keyboard.press("p")
        settle(page)
        assert page.text_content("#position") == "1 / 3" and shown(page) == ["body", "debris", "body"]
        page.keyboard.press("u")  # undoes the click on document 2, and shows it
        settle(page)
        assert page.text_content("#position") == "2 / 3" and shown(page) == ["body", "body", "body"]
        assert "selected" in page.get_attribute(".para:nth-child(3)", "class")
        on_disk = records(labels)
        assert [p["label"] for p in on_disk[1]["paragraphs"]] == ["body", "body", "body"]
        assert on_disk[0]["paragraphs"][1]["label"] == "debris" and on_disk[2] == DOCS[2]

        page.goto("about:blank")
        page.goto(server.url + "#doc=3&para=2")  # the hash picks the document
        settle(page)
        assert page.text_content("#position") == "3 / 3" and page.text_content("#selection") == "paragraph 2 / 2"
        assert page.text_content(".para:nth-child(1) .text") == DOCS[2]["paragraphs"][0]["text"]  # text, not markup
        assert errors == []
        page.close()
