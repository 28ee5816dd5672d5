"""``strengthmap data download`` against a local HTTP server (127.0.0.1) serving the data folder:
a full download, an interrupted file resumed with a Range request, and a wrong checksum."""

from __future__ import annotations

import copy
import functools
import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from strengthmap.cli import main
from strengthmap.sources import download
from strengthmap.sources.download import build_manifest, read_manifest

pytestmark = pytest.mark.realdata


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single ``Range: bytes=N-`` requests (206)."""

    ranges: ClassVar[list[tuple[str, str]]] = []  # Range requests seen, shared by all handlers
    requests: ClassVar[list[str]] = []  # every path requested

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        RangeHandler.requests.append(self.path)
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


RAW = "https://raw.githubusercontent.com/"


def _raw_of(upstream: str) -> str:
    """github.com/<owner>/<repo>/blob/<commit>/<path> -> raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>."""
    owner, repo, kind, commit, path = upstream.removeprefix("https://github.com/").split("/", 4)
    assert kind == "blob" and len(commit) == 40, upstream
    return f"{RAW}{owner}/{repo}/{commit}/{path}"


def test_pinned_urls_only_for_byte_for_byte_upstream_copies(data_dir: Path) -> None:
    """A default ``url`` only where the upstream file is this very file: same name at a commit
    pinned in SOURCES.md, and (gzip) the upstream's own compressed stream, named in its header.
    Every other file is an extract made for this project and has no ``url``."""
    sources = (data_dir / "SOURCES.md").read_text(encoding="utf-8")
    pinned = {p: m for p, m in read_manifest()["files"].items() if m["url"]}
    assert sorted(pinned) == [
        "imd/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "imd/File_6_-_IoD2019_Population_Denominators.csv.gz",
    ]
    for rel, meta in read_manifest()["files"].items():
        same_name = meta["upstream"].rsplit("/", 1)[-1] == rel.rsplit("/", 1)[-1]
        assert bool(meta["url"]) == same_name, rel
    for rel, meta in pinned.items():
        assert meta["url"] == _raw_of(meta["upstream"])
        commit = meta["url"].split("/")[5]
        assert commit in sources and "anetobradley/energy_flex" in sources
        head = (data_dir / rel).read_bytes()[:200]
        assert head[:2] == b"\x1f\x8b" and head[3] & 0x08  # gzip with its original file name
        name = head[10 : head.index(b"\0", 10)].decode()
        assert name == rel.rsplit("/", 1)[-1].removesuffix(".gz")


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve a host other than loopback fails the test (no internet in tests)."""
    real = socket.getaddrinfo

    def loopback_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"the test tried to reach {host}")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]  # passed through as given

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def test_without_a_mirror_fetches_the_pinned_files_and_says_how_to_get_the_rest(
    serve,
    no_internet: None,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRENGTHMAP_DATA_BASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "1000")
    # the packaged manifest, its pinned upstream URLs redirected to a local server of the files
    local = serve(data_dir)
    manifest = copy.deepcopy(read_manifest())
    for rel, meta in manifest["files"].items():
        if meta["url"]:
            meta["url"] = local + rel
    monkeypatch.setattr(download, "read_manifest", lambda: manifest)
    RangeHandler.requests.clear()
    dest = tmp_path / "data"
    capsys.readouterr()
    assert main(["data", "download", "--dest", str(dest)]) == 0
    out, err = capsys.readouterr()
    pinned = sorted(p for p, m in manifest["files"].items() if m["url"])
    rest = sorted(p for p, m in manifest["files"].items() if not m["url"])
    assert sorted(RangeHandler.requests) == ["/" + p for p in pinned]
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == pinned
    for rel in pinned:
        assert _sha(dest / rel) == manifest["files"][rel]["sha256"]
    assert f"{len(rest)} of {len(manifest['files'])} files were not downloaded" in err
    assert all(f"  {rel}\n" in err for rel in rest)
    assert "made for this project" in err and "--base-url" in err and "STRENGTHMAP_DATA_DIR" in err
    assert out.count("needs-mirror") == len(rest)


def test_packaged_urls_are_the_ones_requested(
    no_internet: None, data_dir: Path, tmp_path: Path
) -> None:
    """``download_data`` with no mirror asks for exactly the packaged pinned URLs (answered here
    in-process by an httpx mock transport from the data directory: nothing leaves the machine)."""
    asked: list[str] = []
    by_url = {m["url"]: p for p, m in read_manifest()["files"].items() if m["url"]}

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=(data_dir / by_url[str(request.url)]).read_bytes())

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        results = download.download_data(tmp_path, base_url=None, client=client, place="Leeds")
    assert sorted(asked) == sorted(by_url)
    assert {r.path: r.status for r in results if r.status != download.NEEDS_MIRROR} == {
        p: "downloaded" for p in by_url.values()
    }
