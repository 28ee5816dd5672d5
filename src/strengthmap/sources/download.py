"""Fetch the data directory's files from a mirror: a manifest of paths, sizes and SHA-256 sums
(shipped as ``manifest.json``), resumable downloads (HTTP Range), every file's sum verified.

Example:
    >>> m = read_manifest()
    >>> sorted(m["files"])[0]
    'boundaries/leeds_lsoa2011_bgc.geojson'
    >>> download_data(Path("data"), base_url="http://127.0.0.1:8765/")   # doctest: +SKIP

The files are the snapshots described in ``shared/data/SOURCES.md``; each manifest entry records
its provenance (the public repository, commit and path it came from, and the official
publisher's page). The mirror is given by ``--base-url`` or ``STRENGTHMAP_DATA_BASE_URL``.
A partly downloaded file (``<name>.part``) is resumed with a Range request; a file whose size or
SHA-256 differs from the manifest raises ``DownloadError`` and is not kept.
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

from strengthmap.errors import ConfigError, DownloadError
from strengthmap.sources._common import sha256_file
from strengthmap.sources.catalog import CATALOG

MANIFEST = "manifest.json"
BASE_URL_ENV = "STRENGTHMAP_DATA_BASE_URL"


@dataclass
class Downloaded:
    path: str
    size: int
    status: str  # "downloaded" | "resumed" | "present"


def read_manifest() -> dict[str, Any]:
    """The packaged manifest: ``{"files": {path: {size, sha256, upstream, url, ...}}}``."""
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
                "url": e.url,
                "upstream": e.upstream,
                "scope": "England" if e.england_wide else "Leeds",
            }
    return {"version": 1, "files": files}


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
        raise DownloadError(f"{url}: {exc} (run the command again to resume)") from exc
    part.replace(target)
    return status


def download_data(
    dest: Path,
    *,
    base_url: str | None = None,
    place: str | None = "Leeds",
    progress: Callable[[str, int, int], None] | None = None,
    manifest: dict[str, Any] | None = None,
) -> list[Downloaded]:
    """Download every manifest file into ``dest`` (same layout); files already present with the
    right SHA-256 are kept. ``place`` selects Leeds-scope files (England-wide ones always come)."""
    base_url = base_url or os.environ.get(BASE_URL_ENV)
    if not base_url:
        raise ConfigError(
            f"no mirror to download from: pass --base-url URL or set {BASE_URL_ENV}. The "
            "publishers' originals are listed (url, upstream) in the manifest and in docs/data-sources.md"
        )
    base_url = base_url.rstrip("/") + "/"
    files = (manifest or read_manifest())["files"]
    chosen = {p: f for p, f in files.items() if place is None or f["scope"] in ("England", place)}
    out: list[Downloaded] = []
    with httpx.Client(timeout=60.0, follow_redirects=True) as client:
        for n, (rel, meta) in enumerate(sorted(chosen.items()), start=1):
            if progress:
                progress(rel, n - 1, len(chosen))
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_file() and sha256_file(target) == meta["sha256"]:
                out.append(Downloaded(rel, meta["size"], "present"))
                continue
            status = _fetch(client, base_url + quote(rel), target, meta["size"])
            got_size, got_sum = target.stat().st_size, sha256_file(target)
            if got_size != meta["size"] or got_sum != meta["sha256"]:
                target.unlink()
                raise DownloadError(
                    f"{rel}: wrong checksum: expected SHA-256 {meta['sha256']} ({meta['size']:,} "
                    f"bytes), got {got_sum} ({got_size:,} bytes); the file was removed"
                )
            out.append(Downloaded(rel, got_size, status))
    if progress:
        progress("done", len(chosen), len(chosen))
    return out


__all__ = ["BASE_URL_ENV", "Downloaded", "build_manifest", "download_data", "read_manifest"]
