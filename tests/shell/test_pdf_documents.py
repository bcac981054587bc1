"""Our PDFs are drawn from their own HTML only: a ``data:`` picture is drawn, nothing else is
fetched (kapstone.web.pdf)."""

from __future__ import annotations

import base64
import http.server
import io
import threading
import zlib
from pathlib import Path

from pypdf import PdfReader

from kapstone.web.pdf import html_to_pdf


def _png() -> bytes:
    """A 2x2 red PNG, written by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = (2).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _images(pdf: bytes) -> int:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return len(page.images)


def test_a_data_picture_is_drawn():
    uri = "data:image/png;base64," + base64.b64encode(_png()).decode()
    assert _images(html_to_pdf(f"<p>Chart</p><img src='{uri}' width=20>")) == 1


def test_a_file_or_web_address_is_never_fetched(tmp_path: Path):
    picture = tmp_path / "red.png"
    picture.write_bytes(_png())
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(_png())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        web = f"http://127.0.0.1:{server.server_port}/red.png"
        html = (
            f"<p>Chart</p><img src='{picture.as_uri()}' width=20><img src='{web}' width=20>"
            f"<link rel=stylesheet href='{web}'>"
        )
        pdf = html_to_pdf(html)
    finally:
        server.shutdown()
        thread.join()
    assert asked == []
    assert _images(pdf) == 0
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text().strip() == "Chart"
