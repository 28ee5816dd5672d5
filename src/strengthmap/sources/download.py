"""Fetch the data directory's files: a manifest of paths, sizes and SHA-256 sums (shipped as
``manifest.json``), resumable downloads (HTTP Range), every file's sum verified.

Example:
    >>> m = read_manifest()
    >>> sorted(m["files"])[0]
    'boundaries/leeds_lsoa2011_bgc.geojson'
    >>> download_data(Path("data"), place="Leeds")   # doctest: +SKIP
    >>> download_data(Path("data"), place="Leeds", base_url="http://127.0.0.1:8765/")   # doctest: +SKIP

The files are the snapshots described in ``shared/data/SOURCES.md``; each manifest entry records
its provenance (``upstream``: the public repository, commit and path its content came from;
``publisher_url``: the official publisher's page). Where a file is a byte-for-byte copy of one at
a pinned upstream URL, the entry's ``url`` is that URL and is the default source (today the three
IoD2019 files, stored gzipped at a fixed commit of anetobradley/energy_flex). The others are Leeds
extracts made for this project (filtered, merged or converted from their upstream), so no
publisher serves those bytes: they come from a mirror of the data directory, given by
``--base-url`` or ``STRENGTHMAP_DATA_BASE_URL`` (a mirror serves every file). Without a mirror
they are reported with status ``needs-mirror`` and ``MIRROR_HELP`` says how to get them.
A partly downloaded file (``<name>.part``) is resumed with a Range request; a file whose size or
SHA-256 differs from the manifest raises ``DownloadError`` and is not kept.

Rebuild the manifest from a data directory with ``write_manifest(Path("../shared/data"))``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from strengthmap.errors import DownloadError
from strengthmap.sources._common import sha256_file
from strengthmap.sources.catalog import CATALOG

MANIFEST = "manifest.json"
BASE_URL_ENV = "STRENGTHMAP_DATA_BASE_URL"
NEEDS_MIRROR = "needs-mirror"
MIRROR_HELP = (
    "These files were made for this project from their upstream sources (filtered to Leeds, "
    "merged, or converted to CSV / GeoJSON from R .rda and Excel files; docs/data-sources.md says "
    "how each was made), so no publisher serves them byte for byte. "
    "Get them from a mirror of the Strengthmap data directory (any HTTP server over a copy of the "
    "project's shared/data folder, for example `python -m http.server 8765` run inside it):\n"
    "  strengthmap data download --place Leeds --base-url http://HOST:PORT/\n"
    f"(or set {BASE_URL_ENV}=http://HOST:PORT/), or copy that folder and point "
    "STRENGTHMAP_DATA_DIR (or --data) at it."
)


@dataclass
class Downloaded:
    path: str
    size: int
    status: str  # "downloaded" | "resumed" | "present" | "needs-mirror" (not fetched)
    source: str | None = None  # the URL fetched from (None when present or not fetched)


def read_manifest() -> dict[str, Any]:
    """The packaged manifest: ``{"files": {path: {size, sha256, url, upstream, ...}}}``."""
    text = resources.files("strengthmap.sources").joinpath(MANIFEST).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def build_manifest(data_dir: Path) -> dict[str, Any]:
    """A manifest of the catalogued files present in ``data_dir`` (used to write manifest.json)."""
    files: dict[str, Any] = {}
    for e in CATALOG:
        path = data_dir / e.path
        if path.is_file():
            files[e.path] = {
                "size": path.stat().st_size,
                "sha256": sha256_file(path),
                "dataset": e.id,
                "publisher": e.publisher,
                "licence": e.licence,
                "url": e.download_url,  # None: only a mirror of the data directory serves it
                "publisher_url": e.url,
                "upstream": e.upstream,
                "scope": "England" if e.england_wide else "Leeds",
            }
    return {"version": 1, "files": files}


def write_manifest(data_dir: Path) -> Path:
    """Rewrite the packaged ``manifest.json`` from the files in ``data_dir``; returns its path."""
    path = Path(__file__).with_name(MANIFEST)
    text = json.dumps(build_manifest(data_dir), indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _fetch(client: httpx.Client, url: str, target: Path, size: int) -> str:
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    status = "resumed" if have else "downloaded"
    try:
        with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 200 and have:
                have, status = 0, "downloaded"  # the server ignored the Range: start again
            elif resp.status_code not in (200, 206):
                raise DownloadError(f"{url}: HTTP {resp.status_code}")
            with part.open("ab" if have else "wb") as fh:
                for chunk in resp.iter_bytes(1 << 16):
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"{url}: {exc} (run the command again to resume, or fetch every file from a mirror "
            f"of the data directory: --base-url URL or {BASE_URL_ENV})"
        ) from exc
    part.replace(target)
    return status


def download_data(
    dest: Path,
    *,
    base_url: str | None = None,
    place: str | None,
    progress: Callable[[str, int, int], None] | None = None,
    manifest: dict[str, Any] | None = None,
    client: httpx.Client | None = None,
) -> list[Downloaded]:
    """Download the manifest's files into ``dest`` (same layout); files already present with the
        right SHA-256 are kept. ``place`` (``Settings.place``) selects the files made for that place
    (England-wide ones always come); ``None`` takes every file.

        With a mirror (``base_url`` or ``STRENGTHMAP_DATA_BASE_URL``) every file comes from it. Without
        one, files with a pinned upstream ``url`` come from there and the rest are returned with
        status ``needs-mirror`` (see ``MIRROR_HELP``), nothing fetched for them."""
    base_url = base_url or os.environ.get(BASE_URL_ENV)
    if base_url:
        base_url = base_url.rstrip("/") + "/"
    files = (manifest or read_manifest())["files"]
    chosen = {p: f for p, f in files.items() if place is None or f["scope"] in ("England", place)}
    out: list[Downloaded] = []
    own_client = client is None
    http = client or httpx.Client(timeout=60.0, follow_redirects=True)
    try:
        for n, (rel, meta) in enumerate(sorted(chosen.items()), start=1):
            if progress:
                progress(rel, n - 1, len(chosen))
            target = dest / rel
            if target.is_file() and sha256_file(target) == meta["sha256"]:
                out.append(Downloaded(rel, meta["size"], "present"))
                continue
            url = base_url + quote(rel) if base_url else meta.get("url")
            if not url:
                out.append(Downloaded(rel, meta["size"], NEEDS_MIRROR))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            status = _fetch(http, url, target, meta["size"])
            got_size, got_sum = target.stat().st_size, sha256_file(target)
            if got_size != meta["size"] or got_sum != meta["sha256"]:
                target.unlink()
                raise DownloadError(
                    f"{rel}: wrong checksum: expected SHA-256 {meta['sha256']} ({meta['size']:,} "
                    f"bytes), got {got_sum} ({got_size:,} bytes) from {url}; the file was removed"
                )
            out.append(Downloaded(rel, got_size, status, url))
    finally:
        if own_client:
            http.close()
    if progress:
        progress("done", len(chosen), len(chosen))
    return out


__all__ = [
    "BASE_URL_ENV",
    "MIRROR_HELP",
    "NEEDS_MIRROR",
    "Downloaded",
    "build_manifest",
    "download_data",
    "read_manifest",
    "write_manifest",
]
