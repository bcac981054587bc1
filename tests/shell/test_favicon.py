"""Every page names the favicon: a static SVG with nothing the Content Security Policy refuses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from django.contrib.staticfiles import finders
from django.urls import reverse


def test_every_page_names_a_static_svg_favicon(client):
    page = client.get(reverse("accounts:login")).content.decode()
    links = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert len(links) == 1 and links[0].startswith("/static/kapstone/favicon")
    path = finders.find("kapstone/favicon.svg")
    assert path is not None
    root = ET.parse(path).getroot()  # noqa: S314 - our own static file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Served from our own origin (img-src 'self'), with no script, style or handler in it.
    for element in root.iter():
        assert element.tag.split("}")[1] not in ("script", "style", "foreignObject", "image")
        assert not [a for a in element.attrib if a.startswith("on") or a == "style"]
        assert not any("http" in v for k, v in element.attrib.items() if "href" in k)
