"""Vega-Lite spec -> SVG that can be inlined under our Content Security Policy and in WeasyPrint.

The policy (style-src 'self', scripts only with a nonce) forbids inline ``style`` attributes and
``<style>`` elements, so :func:`sanitise_svg` rewrites the renderer's output through an allowlist:
known SVG elements only (``<script>``, ``<style>``, ``<foreignObject>``, ``<a>``, ``<image>``,
animations... are dropped with everything inside them), known presentation and geometry attributes
only (no ``on*`` handlers), each ``style`` declaration turned into its presentation attribute (or
dropped when SVG has none), and references only to ids inside the same chart. Ids are prefixed so
two charts on one page never clash, and the root gets ``role="img"``, ``<title>`` and ``<desc>``.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import vl_convert

from kapstone.clinical.problems import Problem, Refused

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
VEGA_LITE_VERSION = "5.20"
CHART_CLASS = "kapstone-chart"

ALLOWED_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "clipPath",
        "linearGradient",
        "radialGradient",
        "stop",
    }
)

# SVG presentation attributes (SVG 1.1 + 2) that need no reference to another element we forbid.
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "alignment-baseline",
        "baseline-shift",
        "clip-path",
        "clip-rule",
        "color",
        "color-interpolation",
        "color-rendering",
        "direction",
        "display",
        "dominant-baseline",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-size-adjust",
        "font-stretch",
        "font-style",
        "font-variant",
        "font-weight",
        "letter-spacing",
        "opacity",
        "overflow",
        "paint-order",
        "pointer-events",
        "shape-rendering",
        "stop-color",
        "stop-opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
        "text-decoration",
        "text-rendering",
        "transform",
        "unicode-bidi",
        "vector-effect",
        "visibility",
        "word-spacing",
        "writing-mode",
    }
)

OTHER_ATTRIBUTES = frozenset(
    {
        "id",
        "class",
        "role",
        "focusable",
        "version",
        "viewBox",
        "preserveAspectRatio",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "dx",
        "dy",
        "d",
        "points",
        "offset",
        "textLength",
        "lengthAdjust",
        "clipPathUnits",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "href",  # only "#local-id", checked below
    }
)

ID_REFERENCE_ATTRIBUTES = frozenset({"aria-labelledby", "aria-describedby"})
ARIA_ATTRIBUTE = re.compile(r"^aria-[a-z]+$")
ID_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")
LOCAL_URL = re.compile(r"url\(\s*['\"]?#([^'\")\s]+)['\"]?\s*\)")
ANY_URL = re.compile(r"url\s*\(", re.IGNORECASE)
# Values we keep: colours, numbers, units, lists, font names, transforms and local url(#id).
SAFE_VALUE = re.compile(r"^[\w\s#%.,()'\"+\-/]*$")
DANGEROUS_VALUE = re.compile(r"javascript:|expression\s*\(|@import|\\", re.IGNORECASE)


class UnsafeSvgError(Refused):
    """The SVG cannot be made safe (not XML, not an <svg> root, a DOCTYPE, a bad id prefix)."""


def spec_fingerprint(spec: Mapping[str, Any], title: str) -> str:
    """A short, deterministic id prefix for a chart: different charts get different prefixes."""
    payload = json.dumps([spec, title], sort_keys=True, default=str).encode()
    return "chart-" + hashlib.sha256(payload).hexdigest()[:10]


def render_svg(
    spec: Mapping[str, Any], *, title: str, description: str, id_prefix: str | None = None
) -> str:
    """Render a Vega-Lite spec with vl-convert and return CSP-safe SVG markup.

    ``id_prefix`` defaults to a fingerprint of spec and title; pass one (e.g. "phq9-chart") when the
    same chart may appear twice on a page. vl-convert's first call in a process starts its
    JavaScript engine (about 0.3 s here); later calls take tens of milliseconds.
    """
    raw = vl_convert.vegalite_to_svg(
        dict(spec),
        vl_version=VEGA_LITE_VERSION,
        # The specs carry their data inline: the renderer may fetch nothing.
        allowed_base_urls=[],
    )
    return sanitise_svg(
        raw,
        title=title,
        description=description,
        id_prefix=id_prefix or spec_fingerprint(spec, title),
    )


def sanitise_svg(raw: str, *, title: str, description: str, id_prefix: str) -> str:
    """Rewrite any SVG string through the allowlist; the result parses as XML."""
    problems: list[Problem] = []
    if not ID_PREFIX.match(id_prefix):
        problems.append(
            Problem(
                "id_prefix",
                f"{id_prefix!r} is not accepted; accepts a letter then up to 40 letters, digits, "
                "'-' or '_'",
            )
        )
    # A DOCTYPE is where entity tricks (billion laughs, external entities) live; charts never
    # need one, so refusing it makes the standard-library parser safe for this input.
    if re.search(r"<!(DOCTYPE|ENTITY)", raw, re.IGNORECASE):
        problems.append(Problem("svg", "contains a DOCTYPE or ENTITY declaration"))
    UnsafeSvgError.refuse_if_any(problems)
    try:
        root = ET.fromstring(raw)  # noqa: S314 - no DOCTYPE possible (checked above)
    except ET.ParseError as error:
        raise UnsafeSvgError((Problem("svg", f"is not well-formed XML: {error}"),)) from None
    if _local_name(root.tag) != "svg" or _namespace(root.tag) != SVG_NS:
        raise UnsafeSvgError((Problem("svg", "root element is not an SVG <svg>"),))

    ids = {value for element in root.iter() if (value := element.get("id"))}
    clean = _clean_element(root, ids, id_prefix)
    if clean is None:  # unreachable: the root was checked to be an SVG <svg>
        raise UnsafeSvgError((Problem("svg", "root element was dropped"),))
    _label_root(clean, title=title, description=description, id_prefix=id_prefix)
    return _serialise(clean)


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _local_name(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def _prefixed(value: str, id_prefix: str) -> str:
    return f"{id_prefix}-{value}"


def _clean_value(value: str, ids: set[str], id_prefix: str) -> str | None:
    """The value with local url(#id) references prefixed, or None when it must go."""
    if DANGEROUS_VALUE.search(value) or not SAFE_VALUE.match(value):
        return None
    references = LOCAL_URL.findall(value)
    if len(ANY_URL.findall(value)) != len(references):
        return None  # some url(...) points outside the chart
    if any(reference not in ids for reference in references):
        return None
    return LOCAL_URL.sub(lambda match: f"url(#{_prefixed(match.group(1), id_prefix)})", value)


def _style_declarations(style: str) -> list[tuple[str, str]]:
    declarations = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if colon and name and value:
            value = re.sub(r"\s*!important\s*$", "", value, flags=re.IGNORECASE)
            declarations.append((name, value))
    return declarations


def _clean_attributes(element: ET.Element, ids: set[str], id_prefix: str) -> dict[str, str]:  # noqa: C901 (over the ceiling before it came in; to be split)
    kept: dict[str, str] = {}
    for qualified, value in element.attrib.items():
        namespace, name = _namespace(qualified), _local_name(qualified)
        if namespace == XLINK_NS and name == "href":
            namespace = ""  # SVG 2 reads plain href; WeasyPrint and browsers accept both
        if namespace:
            continue  # xml:space, foreign namespaces
        if name == "id":
            kept["id"] = _prefixed(value, id_prefix)
        elif name == "href":
            if value.startswith("#") and value[1:] in ids:
                kept["href"] = "#" + _prefixed(value[1:], id_prefix)
        elif name in ID_REFERENCE_ATTRIBUTES:
            known = [_prefixed(ref, id_prefix) for ref in value.split() if ref in ids]
            if known:
                kept[name] = " ".join(known)
        elif ARIA_ATTRIBUTE.match(name) or name in OTHER_ATTRIBUTES:
            if not DANGEROUS_VALUE.search(value) and not ANY_URL.search(value):
                kept[name] = value
        elif name in PRESENTATION_ATTRIBUTES:
            cleaned = _clean_value(value, ids, id_prefix)
            if cleaned is not None:
                kept[name] = cleaned
    # CSS in style= outranks presentation attributes, so its declarations overwrite them.
    for name, value in _style_declarations(element.get("style", "")):
        if name in PRESENTATION_ATTRIBUTES:
            cleaned = _clean_value(value, ids, id_prefix)
            if cleaned is not None:
                kept[name] = cleaned
    return kept


def _clean_element(element: ET.Element, ids: set[str], id_prefix: str) -> ET.Element | None:
    name = _local_name(element.tag)
    if _namespace(element.tag) != SVG_NS or name not in ALLOWED_ELEMENTS:
        return None
    clean = ET.Element(name, _clean_attributes(element, ids, id_prefix))
    clean.text = element.text
    for child in element:
        kept = _clean_element(child, ids, id_prefix)
        if kept is not None:
            kept.tail = child.tail
            clean.append(kept)
        elif child.tail and len(clean):
            # Keep text that followed a dropped element (inside <text>, it is visible content).
            clean[-1].tail = (clean[-1].tail or "") + child.tail
        elif child.tail:
            clean.text = (clean.text or "") + child.tail
    return clean


def _label_root(root: ET.Element, *, title: str, description: str, id_prefix: str) -> None:
    for old in [child for child in root if child.tag in {"title", "desc"}]:
        root.remove(old)
    title_element = ET.Element("title", {"id": f"{id_prefix}-title"})
    title_element.text = title
    desc_element = ET.Element("desc", {"id": f"{id_prefix}-desc"})
    desc_element.text = description
    desc_element.tail, title_element.tail = root.text, None
    root.text = None
    root.insert(0, desc_element)
    root.insert(0, title_element)
    root.set("role", "img")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    classes = root.get("class", "").split()
    if CHART_CLASS not in classes:
        classes.append(CHART_CLASS)
    root.set("class", " ".join(classes))


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _serialise(element: ET.Element, *, root: bool = True) -> str:
    """Plain SVG markup with the default namespace on the root only (no ns0: prefixes), written
    by hand so no process-wide namespace registration is needed."""
    attributes = [f'xmlns="{SVG_NS}"'] if root else []
    attributes += [f'{name}="{_escape(value, attribute=True)}"' for name, value in element.items()]
    opening = " ".join([element.tag, *attributes])
    inner = _escape(element.text or "") + "".join(
        _serialise(child, root=False) + _escape(child.tail or "") for child in element
    )
    return f"<{opening}>{inner}</{element.tag}>" if inner else f"<{opening}/>"
