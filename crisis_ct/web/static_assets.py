"""Fingerprinted static URLs and long caching, so a phone on a slow link downloads
Leaflet and our CSS/JS once and then never asks again until they change."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request, url_for

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_ENDPOINT = "web.static"
VERSION_ARG = "v"
ONE_YEAR = 31536000

# filename -> (mtime_ns, digest): recomputed only when the file changes on disk.
_digests: dict[str, tuple[int, str]] = {}


def content_digest(filename: str) -> str:
    """The first 12 hex digits of the file's SHA-256."""
    path = (STATIC_DIR / filename).resolve()
    if STATIC_DIR not in path.parents:
        raise ValueError(f"{filename!r} is not inside the static folder")
    mtime = path.stat().st_mtime_ns
    cached = _digests.get(filename)
    if cached and cached[0] == mtime:
        return cached[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _digests[filename] = (mtime, digest)
    return digest


def static_url(filename: str) -> str:
    """URL of a file under web/static/ carrying its content hash (?v=…)."""
    return url_for(STATIC_ENDPOINT, filename=filename, **{VERSION_ARG: content_digest(filename)})


def _cache_static(response: Response) -> Response:
    if request.endpoint != STATIC_ENDPOINT or response.status_code != 200:
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get(VERSION_ARG)
    try:
        current = content_digest(filename)
    except (OSError, ValueError):
        return response
    if response.is_streamed and not request.method == "HEAD":
        # Our files are small: read them into memory so every client, including
        # gzip-only ones, gets them compressed (Flask-Compress streams without gzip).
        response.direct_passthrough = False
        response.set_data(response.get_data())
    if version == current:
        # The URL changes whenever the content does, so the browser may keep it forever.
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        # Unversioned (e.g. Leaflet's own images/…): cache, but revalidate daily.
        response.cache_control.public = True
        response.cache_control.max_age = 86400
    return response


def init_static_assets(app: Flask) -> None:
    """Call after Flask-Compress: after_request hooks run last-registered first, and
    the file must be cached and buffered before it is compressed."""
    app.jinja_env.globals["static_url"] = static_url
    app.after_request(_cache_static)
