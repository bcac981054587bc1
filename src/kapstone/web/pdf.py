"""HTML to PDF with WeasyPrint, for every PDF the project draws from a template.

Our PDF templates carry their styles inline and their pictures as ``data:`` URIs, so a document
needs nothing from outside itself: WeasyPrint's default fetcher, which follows http, https, ftp and
file URLs, is replaced by one that reads ``data:`` URIs only. Nothing in a document can then reach
the network or the server's files, and no PDF pays for the default fetcher's TLS set-up (about
30 ms a document: it loads the system's certificate store each time).
"""

from __future__ import annotations

from typing import Any
from urllib import request


def _data_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
        def __init__(self) -> None:
            # Not URLFetcher.__init__, which installs every handler (HTTPS with a TLS context).
            request.OpenerDirector.__init__(self)
            self.add_handler(request.DataHandler())
            self._timeout = 10
            self._http_headers: dict[str, str] = {}
            self._allowed_protocols = ("data",)
            self._fail_on_errors = False
            self._request = None

    return DataOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import, only for PDFs

    return bytes(HTML(string=html, url_fetcher=_data_only_fetcher()).write_pdf())
