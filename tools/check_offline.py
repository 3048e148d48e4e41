#!/usr/bin/env python
"""Fail if a built HTML site would request anything from another host.

    python tools/check_offline.py docs/_build/html
    python tools/check_offline.py --allow tools/check_offline_allow.txt docs/_build/html

The documentation must work from a folder on a machine without a network: every script, stylesheet, font,
image and frame a page needs has to be in the site itself. This tool reads every page (``.html``, ``.htm``,
``.xhtml``, ``.svg``), stylesheet (``.css``) and script (``.js``, ``.mjs``) under the site folder and reports
each reference that a browser would fetch from a host, one line each, ``FILE:LINE: WHAT requests URL``:

- in pages: ``<script src>``, ``<link href>`` (stylesheets, icons, preload, prefetch, preconnect, manifest:
  every ``rel`` except the navigational ones such as ``canonical``, ``next`` or ``alternate``), ``<img>`` and
  ``<source>`` ``src``/``srcset``, ``<iframe>``/``<frame>``/``<embed>`` ``src``, ``<object data>``,
  ``<video>``/``<audio>``/``<track>`` ``src`` and ``poster``, ``<input type=image src>``, SVG ``<image>``,
  ``<use>`` and ``<feImage>`` ``href``, ``<base href>`` (it would move every relative request to that host),
  and the CSS and JavaScript inside ``<style>``, ``style=""`` and inline ``<script>``;
- in stylesheets (and CSS inside pages and scripts): ``@import`` and ``url(...)``, which is how web fonts,
  background images and imported stylesheets are fetched;
- in scripts: a string literal that starts with an absolute URL (``"https://..."``, ``'//host/...'``), which
  is how loaders and ``fetch`` calls are configured (MathJax's ``loader.paths``, a font URL, a CDN
  fallback), and a ``sourceMappingURL`` on another host.

A URL "requests another host" when it names a host (``https://…``, ``http://…``, ``//host/…``, any scheme
with an authority); relative paths, ``data:``, ``blob:``, ``#fragment`` and ``mailto:`` do not. Ordinary
hyperlinks (``<a href>``, ``<area href>``, including ``<a href="https://…">`` written inside a script's
string) are not requests, nor are XML namespace names (``"http://www.w3.org/2000/svg"``), which scripts pass
to ``createElementNS`` and which are never fetched.

The script rule reads minified code without parsing it, so it can flag a URL that a script only holds as a
default it never uses in this site. Such a URL may be listed in an allow file (``--allow``), one entry a line
with its reason::

    # file glob (relative to the site)   URL (exactly as found)                        reason (required)
    _static/mathjax/*.js                  https://cdn.example.org/npm/lib@/mathmaps     # overridden by ...

An entry applies to script strings only: a ``<script src>``, ``<link>``, ``<img>``, ``@import`` or
``url(...)`` on another host is always a failure. An entry that matches nothing is reported as stale, so the
list cannot outlive the code it excuses.

Exit status 0 when nothing requests another host, 1 when something does (each finding printed on stderr),
2 for a usage error.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

PAGE_SUFFIXES = {".html", ".htm", ".xhtml", ".svg"}
CSS_SUFFIXES = {".css"}
JS_SUFFIXES = {".js", ".mjs"}

#: ``<link rel>`` values that name a related document instead of loading something into the page.
NAVIGATIONAL_RELS = frozenset(
    {
        "alternate", "appendix", "author", "bookmark", "canonical", "chapter", "contents", "copyright", "edit",
        "external", "first", "glossary", "help", "index", "last", "license", "me", "next", "nofollow", "noopener",
        "noreferrer", "prev", "previous", "search", "section", "start", "subsection", "tag", "top", "up",
    }
)  # fmt: skip

#: Elements and the attributes through which they load a resource (tag names as html.parser gives them).
RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
    "base": ("href",),
}

#: XML namespace names: identifiers that scripts pass to createElementNS or compare with, never fetched.
XML_NAMESPACES = frozenset(
    {
        "http://www.w3.org/1999/xhtml",
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
        "http://www.w3.org/1998/Math/MathML",
        "http://www.w3.org/XML/1998/namespace",
        "http://www.w3.org/2000/xmlns/",
        "http://www.w3.org/2001/10/synthesis",
    }
)

# A string literal in a script that begins with an absolute URL: a scheme with an authority, or protocol-relative
# ``//host``; the host must look like one (a dotted name, an IP address or localhost), so that ``"//"`` and
# ``"http://"`` alone, which scripts use to build or test URLs, do not count.
_HOST = r"(?:localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+)"
JS_URL_STRING = re.compile(
    r"""(?P<quote>["'`])(?P<url>(?:[A-Za-z][A-Za-z0-9+.-]*:)?//""" + _HOST + r"""[^\s"'`<>\\]*)"""
)
JS_SOURCE_MAP = re.compile(r"""[#@]\s*sourceMappingURL\s*=\s*(?P<url>\S+)""")
# ``<a ... href="`` (or ``<area``) just before a URL in a script string: a hyperlink the script writes.
JS_ANCHOR_BEFORE = re.compile(r"""<(?:a|area)\b[^<>]*\bhref\s*=\s*\\?["']?$""", re.IGNORECASE)

CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL = re.compile(r"""\burl\(\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^)\s"']*))\s*\)""", re.IGNORECASE)
CSS_IMPORT_STRING = re.compile(r"""@import\s+(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.IGNORECASE)
CSS_IMPORT_BEFORE = re.compile(r"@import\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Finding:
    """One reference to another host: where it is, what makes the request, and the URL."""

    path: str
    line: int
    what: str
    url: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} requests {self.url}"


@dataclass
class Allowance:
    """An allow-file entry: script strings ``url`` in files matching ``glob`` are known not to be requested."""

    glob: str
    url: str
    reason: str
    source: str  # "allow-file:line", for the stale report
    used: bool = False

    def covers(self, rel_path: str, finding: Finding) -> bool:
        return finding.what == "script string" and finding.url == self.url and fnmatch.fnmatchcase(rel_path, self.glob)


def is_remote(url: str) -> bool:
    """Whether a browser resolving ``url`` in a local page would contact a host: it has an authority part."""
    url = url.strip()
    if not url or url.startswith("#"):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in a host: not a URL a browser could load either
        return False
    return bool(parts.netloc) and parts.scheme.lower() != "file"


def _line_at(text: str, offset: int, first_line: int = 1) -> int:
    return first_line + text.count("\n", 0, offset)


# ------------------------------------------------------------------------------------------------------ CSS
def css_findings(text: str, path: str, first_line: int = 1, where: str = "") -> Iterator[Finding]:
    """``@import`` and ``url(...)`` on another host in a stylesheet (``where`` prefixes the kind for CSS
    inside a page or script, e.g. ``<style>``)."""
    # blank out comments but keep their newlines, so line numbers stay right
    text = CSS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    prefix = f"{where} " if where else ""
    for m in CSS_IMPORT_STRING.finditer(text):
        url = m.group("dq") if m.group("dq") is not None else m.group("sq")
        if is_remote(url):
            yield Finding(path, _line_at(text, m.start(), first_line), f"{prefix}CSS @import", url.strip())
    for m in CSS_URL.finditer(text):
        url = next(g for g in (m.group("dq"), m.group("sq"), m.group("bare")) if g is not None)
        if is_remote(url):
            imported = CSS_IMPORT_BEFORE.search(text, max(0, m.start() - 64), m.start())
            kind = "CSS @import url()" if imported else "CSS url()"
            yield Finding(path, _line_at(text, m.start(), first_line), f"{prefix}{kind}", url.strip())


# --------------------------------------------------------------------------------------------------- scripts
def js_findings(text: str, path: str, first_line: int = 1, where: str = "") -> Iterator[Finding]:
    """Absolute URLs that start a string literal in a script, remote source maps, and CSS written in strings."""
    prefix = f"{where} " if where else ""
    # JSON-style escaped slashes ("https:\/\/host") are the same string to the script
    text = text.replace("\\/", "/")
    seen: set[tuple[int, str]] = set()
    for m in JS_URL_STRING.finditer(text):
        url = m.group("url")
        if url in XML_NAMESPACES or url.rstrip("/") in XML_NAMESPACES:
            continue
        if JS_ANCHOR_BEFORE.search(text, max(0, m.start() - 300), m.start() + 1):
            continue  # <a href="https://..."> written by the script: a hyperlink
        line = _line_at(text, m.start(), first_line)
        seen.add((line, url))
        yield Finding(path, line, f"{prefix}script string", url)
    for m in JS_SOURCE_MAP.finditer(text):
        if is_remote(m.group("url")):
            yield Finding(path, _line_at(text, m.start(), first_line), f"{prefix}sourceMappingURL", m.group("url"))
    # CSS that a script injects (a style element's text, a font-face rule): its url() fetches too; an
    # @import "https://..." string is already reported above as a script string
    for finding in css_findings(text, path, first_line):
        if (finding.line, finding.url) not in seen:
            yield Finding(finding.path, finding.line, f"{prefix}script {finding.what}", finding.url)


# ------------------------------------------------------------------------------------------------------ pages
class _PageScanner(HTMLParser):
    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.findings: list[Finding] = []
        self._raw: str | None = None  # "script" or "style" while inside one
        self._raw_line = 0
        self._raw_text: list[str] = []

    def _add(self, line: int, what: str, url: str) -> None:
        self.findings.append(Finding(self.path, line, what, url.strip()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = {name: value or "" for name, value in attrs}
        if tag == "link":
            rels = values.get("rel", "").lower().split()
            href = values.get("href", "")
            if href and is_remote(href) and not (rels and all(r in NAVIGATIONAL_RELS for r in rels)):
                self._add(line, f'<link rel="{" ".join(rels)}" href>', href)
        elif tag == "input" and values.get("type", "").lower() == "image" and is_remote(values.get("src", "")):
            self._add(line, "<input type=image src>", values["src"])
        for attr in RESOURCE_ATTRIBUTES.get(tag, ()):
            value = values.get(attr, "")
            urls = _srcset_urls(value) if attr == "srcset" else [value]
            for url in urls:
                if is_remote(url):
                    self._add(line, f"<{tag} {attr}>", url)
        if tag == "iframe" and values.get("srcdoc"):
            inner = _PageScanner(self.path)
            inner.feed(values["srcdoc"])
            inner.close()
            self.findings += [Finding(f.path, line, f"<iframe srcdoc> {f.what}", f.url) for f in inner.findings]
        if values.get("style"):
            self.findings += css_findings(values["style"], self.path, line, 'style=""')
        if tag in ("script", "style"):
            self._raw, self._raw_line, self._raw_text = tag, line, []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._raw:
            if not self._raw_text:
                self._raw_line = self.getpos()[0]
            self._raw_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._raw and tag == self._raw:
            text = "".join(self._raw_text)
            if tag == "style":
                self.findings += css_findings(text, self.path, self._raw_line, "<style>")
            else:
                # every type: code, modules, and data blocks (type="application/json") that scripts configure
                # themselves from
                self.findings += js_findings(text, self.path, self._raw_line, "<script>")
            self._raw, self._raw_text = None, []


def _srcset_urls(srcset: str) -> list[str]:
    """The image URLs of a ``srcset``: comma-separated candidates, each a URL and an optional descriptor."""
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.split()]


def page_findings(text: str, path: str) -> list[Finding]:
    scanner = _PageScanner(path)
    scanner.feed(text)
    scanner.close()
    return scanner.findings


# -------------------------------------------------------------------------------------------------- the site
def file_findings(file: Path, shown: str) -> list[Finding]:
    """Every reference to another host in one file (by its suffix); ``shown`` is the path printed."""
    suffix = file.suffix.lower()
    text = file.read_text(encoding="utf-8", errors="replace")
    if suffix in PAGE_SUFFIXES:
        found = page_findings(text, shown)
    elif suffix in CSS_SUFFIXES:
        found = list(css_findings(text, shown))
    elif suffix in JS_SUFFIXES:
        found = list(js_findings(text, shown))
    else:
        return []
    return sorted(set(found))


def read_allow_file(path: Path) -> list[Allowance]:
    """Parse an allow file: ``GLOB URL # REASON`` a line (the ``#`` after a space, so a URL may hold one);
    blank lines and lines starting with ``#`` are comments."""
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        body, reason = [*re.split(r"\s#", line, maxsplit=1), ""][:2]
        fields = body.split()
        if len(fields) != 2 or not reason.strip():
            raise ValueError(f"{path}:{number}: expected 'GLOB URL # reason', got {raw!r}")
        entries.append(Allowance(fields[0], fields[1], reason.strip(), f"{path}:{number}"))
    return entries


def check_site(site: Path, allow: list[Allowance] | None = None) -> tuple[int, list[Finding], list[Allowance]]:
    """Scan ``site``: the number of files read, the findings not allowed, and the allow entries never used."""
    allow = allow or []
    checked, findings = 0, []
    suffixes = PAGE_SUFFIXES | CSS_SUFFIXES | JS_SUFFIXES
    for file in sorted(p for p in site.rglob("*") if p.is_file() and p.suffix.lower() in suffixes):
        checked += 1
        rel = file.relative_to(site).as_posix()
        for finding in file_findings(file, str(site / rel)):
            entry = next((a for a in allow if a.covers(rel, finding)), None)
            if entry is None:
                findings.append(finding)
            else:
                entry.used = True
    return checked, findings, [a for a in allow if not a.used]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[2], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("site", type=Path, help="the built site, e.g. docs/_build/html")
    parser.add_argument(
        "--allow", type=Path, metavar="FILE", help="script strings known not to be requested (GLOB URL # reason)"
    )
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        parser.error(f"{args.site} is not a folder")
    try:
        allow = read_allow_file(args.allow) if args.allow else []
    except (OSError, ValueError) as error:
        parser.error(str(error))
    checked, findings, stale = check_site(args.site, allow)
    for finding in findings:
        print(finding, file=sys.stderr)
    for entry in stale:
        print(f"{entry.source}: stale allow entry: no script in {entry.glob} holds {entry.url}", file=sys.stderr)
    if not checked:
        print(f"{args.site}: no page, stylesheet or script found: is it a built site?", file=sys.stderr)
        return 1
    if findings or stale:
        print(
            f"{len(findings)} request(s) to another host in {args.site} ({checked} files checked)"
            + (f"; {len(stale)} stale allow entr{'y' if len(stale) == 1 else 'ies'}" if stale else ""),
            file=sys.stderr,
        )
        return 1
    allowed = sum(1 for a in allow if a.used)
    print(
        f"{args.site}: {checked} pages, stylesheets and scripts checked, nothing requested from another host"
        + (f" ({allowed} allowed script default(s), see {args.allow})" if allowed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
