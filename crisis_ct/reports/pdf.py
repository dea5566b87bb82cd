"""HTML to PDF with WeasyPrint (a well-kept Python renderer over Pango: no browser process
per request). It fetches nothing: the page's stylesheet is handed over as a file and the map
is inline SVG, so only data: URIs may load — a name or address inside free text can never
make the server reach out."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence


def html_to_pdf(html: str, stylesheets: Sequence[Path]) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(filename=str(path), url_fetcher=fetcher) for path in stylesheets])
