"""``strengthmap data download`` against a local HTTP server (127.0.0.1) serving the data folder:
a full download, an interrupted file resumed with a Range request, and a wrong checksum."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from strengthmap.cli import main
from strengthmap.sources.download import build_manifest, read_manifest

pytestmark = pytest.mark.realdata


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single ``Range: bytes=N-`` requests (206)."""

    ranges: ClassVar[list[tuple[str, str]]] = []  # requests seen, shared by all handlers

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        header = self.headers.get("Range")
        if not header:
            return super().do_GET()
        RangeHandler.ranges.append((self.path, header))
        path = Path(self.translate_path(self.path))
        start = int(header.split("=")[1].rstrip("-"))
        data = path.read_bytes()
        self.send_response(206)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(data[start:])
        return None


@pytest.fixture
def serve() -> Iterator[object]:
    servers = []

    def start(root: Path) -> str:
        handler = functools.partial(RangeHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_matches_the_data_directory(data_dir: Path) -> None:
    assert build_manifest(data_dir) == read_manifest()


def test_download_resumes_an_interrupted_file(serve, data_dir: Path, tmp_path: Path) -> None:
    url = serve(data_dir)
    dest = tmp_path / "data"
    rel = "postcodes/ls_postcodes_nspl_may2025.csv"
    full = (data_dir / rel).read_bytes()
    (dest / "postcodes").mkdir(parents=True)
    (dest / (rel + ".part")).write_bytes(full[: len(full) // 2])  # an interrupted download
    RangeHandler.ranges.clear()
    assert main(["data", "download", "--base-url", url, "--dest", str(dest)]) == 0
    manifest = read_manifest()["files"]
    for path, meta in manifest.items():
        assert _sha(dest / path) == meta["sha256"], path
    assert RangeHandler.ranges == [("/" + rel, f"bytes={len(full) // 2}-")]
    assert not (dest / (rel + ".part")).exists()
    # a second run keeps what is there
    RangeHandler.ranges.clear()
    assert main(["data", "download", "--base-url", url, "--dest", str(dest)]) == 0


def test_wrong_checksum_is_a_clear_error(
    serve,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    mirror = tmp_path / "mirror"
    for rel in read_manifest()["files"]:
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(data_dir / rel, mirror / rel)
    bad = "lookups/leeds_lsoa2011_to_msoa2011.csv"
    (mirror / bad).unlink()
    (mirror / bad).write_bytes((data_dir / bad).read_bytes().replace(b"Leeds 011A", b"Leeds 011Z"))
    url = serve(mirror)
    code = main(["data", "download", "--base-url", url, "--dest", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 7
    assert bad in err and "wrong checksum" in err
    assert not (tmp_path / "data" / bad).exists()


def test_no_mirror_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRENGTHMAP_DATA_BASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "1000")
    assert main(["data", "download", "--dest", str(tmp_path)]) == 2
    assert "--base-url" in capsys.readouterr().err
