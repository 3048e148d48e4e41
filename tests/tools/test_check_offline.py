"""tools/check_offline.py: a built site must not request anything from another host."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_offline.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("check_offline", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_offline", module)  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return sys.modules["check_offline"]


check_offline = _load_tool()

PAGE = """\
<!DOCTYPE html>
<html>
<head>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
<link rel="canonical" href="https://bpframe.example.org/index.html">
<link rel="next" title="Next" href="https://bpframe.example.org/next.html">
<link rel="preconnect" href="https://fonts.gstatic.com">
<link rel="icon" href="//static.example.org/favicon.ico">
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
<script src="_static/local.js"></script>
<script>window.MathJax = {loader: {paths: {mathjax: "https://cdn.jsdelivr.net/npm/mathjax@3/es5"}}};</script>
<style>
@import url("https://fonts.googleapis.com/css?family=Roboto");
body { background: url(_static/local.png); }
</style>
</head>
<body>
<a href="https://numba.pydata.org">numba</a>
<img src="//img.example.org/a.png" srcset="a.png 1x, https://img.example.org/a@2x.png 2x">
<iframe src="https://www.youtube.com/embed/xyz"></iframe>
<div style="background-image: url('https://example.org/bg.png')"></div>
<svg xmlns="http://www.w3.org/2000/svg"><use href="https://example.org/sprite.svg#icon"/></svg>
<video src="clip.mp4" poster="https://example.org/poster.jpg"></video>
</body>
</html>
"""

STYLESHEET = """\
/* a web font: url(https://example.org/commented-out.woff2) is inside a comment */
@import url("https://fonts.googleapis.com/css2?family=Lato");
@import 'https://example.org/more.css';
@font-face {
  font-family: Lato;
  src: url(https://fonts.gstatic.com/s/lato/v24/lato.woff2) format("woff2"), url(fonts/lato.woff2);
}
.icon { background: url(data:image/svg+xml;base64,PHN2Zy8+) no-repeat; }
"""

SCRIPT = """\
// see https://example.org/docs for the API (a comment, not a request)
const NS = "http://www.w3.org/2000/svg";
const svg = document.createElementNS(NS, "svg");
fetch("https://api.example.org/data.json").then((r) => r.json());
const about = '<a href="https://www.mathjax.org">MathJax</a>';
const style = '<style>@font-face{src:url(https://fonts.example.org/f.woff2)}</style>';
const prefix = "https://";
//# sourceMappingURL=https://maps.example.org/app.js.map
"""


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    site = tmp_path / "html"
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    return site


def _report(findings) -> list[str]:
    return [f"{Path(f.path).name}:{f.line}: {f.what} requests {f.url}" for f in findings]


def test_a_page_loading_a_cdn_script_fonts_and_frames(tmp_path):
    site = _site(tmp_path, {"index.html": PAGE})
    checked, findings, stale = check_offline.check_site(site)
    assert (checked, stale) == (1, [])
    assert _report(findings) == [
        'index.html:4: <link rel="stylesheet" href> requests https://fonts.googleapis.com/css2?family=Inter',
        'index.html:7: <link rel="preconnect" href> requests https://fonts.gstatic.com',
        'index.html:8: <link rel="icon" href> requests //static.example.org/favicon.ico',
        "index.html:9: <script src> requests https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
        "index.html:11: <script> script string requests https://cdn.jsdelivr.net/npm/mathjax@3/es5",
        "index.html:13: <style> CSS @import url() requests https://fonts.googleapis.com/css?family=Roboto",
        "index.html:19: <img src> requests //img.example.org/a.png",
        "index.html:19: <img srcset> requests https://img.example.org/a@2x.png",
        "index.html:20: <iframe src> requests https://www.youtube.com/embed/xyz",
        'index.html:21: style="" CSS url() requests https://example.org/bg.png',
        "index.html:22: <use href> requests https://example.org/sprite.svg#icon",
        "index.html:23: <video poster> requests https://example.org/poster.jpg",
    ]


def test_a_stylesheet_importing_web_fonts(tmp_path):
    site = _site(tmp_path, {"_static/fonts.css": STYLESHEET})
    _, findings, _ = check_offline.check_site(site)
    assert _report(findings) == [
        "fonts.css:2: CSS @import url() requests https://fonts.googleapis.com/css2?family=Lato",
        "fonts.css:3: CSS @import requests https://example.org/more.css",
        "fonts.css:6: CSS url() requests https://fonts.gstatic.com/s/lato/v24/lato.woff2",
    ]


def test_a_script_fetching_and_injecting_fonts(tmp_path):
    site = _site(tmp_path, {"_static/app.js": SCRIPT})
    _, findings, _ = check_offline.check_site(site)
    assert _report(findings) == [
        "app.js:4: script string requests https://api.example.org/data.json",
        "app.js:6: script CSS url() requests https://fonts.example.org/f.woff2",
        "app.js:8: sourceMappingURL requests https://maps.example.org/app.js.map",
    ]


def test_escaped_slashes_and_protocol_relative_urls_in_scripts(tmp_path):
    script = 'var c = {"fonts": "https:\\/\\/fonts.example.org\\/x", "cdn": \'//cdn.example.org/lib.js\'};\n'
    site = _site(tmp_path, {"config.js": script})
    _, findings, _ = check_offline.check_site(site)
    assert _report(findings) == [  # in order of line, then kind, then URL
        "config.js:1: script string requests //cdn.example.org/lib.js",
        "config.js:1: script string requests https://fonts.example.org/x",
    ]


CLEAN_PAGE = """\
<!DOCTYPE html>
<html>
<head>
<link rel="canonical" href="https://bpframe.example.org/">
<link rel="stylesheet" href="_static/styles/furo.css?v=1">
<link rel="search" title="Search" href="search.html">
<script defer src="_static/mathjax/tex-svg.js"></script>
<script>window.MathJax = {loader: {paths: {mathjax: "_static/mathjax"}}};</script>
<style>body { background: url(_static/bg.png); }</style>
</head>
<body>
<a href="https://numba.pydata.org">numba</a> <a href="mailto:someone@example.org">mail</a>
<img src="_images/figure.png" srcset="_images/figure.png 1x, _images/figure@2x.png 2x" alt="">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use href="#icon"/></svg>
<form action="https://www.example.org/search"><input name="q"></form>
</body>
</html>
"""


def test_a_clean_site_passes(tmp_path, capsys):
    site = _site(
        tmp_path,
        {
            "index.html": CLEAN_PAGE,
            "_static/styles/furo.css": "@import 'fonts.css';\n.a { background: url(data:image/png;base64,AA==); }\n",
            "_static/styles/fonts.css": "@font-face { src: url(../fonts/lato.woff2) format('woff2'); }\n",
            "_static/mathjax/tex-svg.js": 'var ns = "http://www.w3.org/1998/Math/MathML", u = "https://";\n',
        },
    )
    assert check_offline.main([str(site)]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out == f"{site}: 4 pages, stylesheets and scripts checked, nothing requested from another host\n"


def test_main_names_file_line_and_url_and_fails(tmp_path, capsys):
    site = _site(tmp_path, {"index.html": '<p>math</p>\n<script src="https://cdn.example.org/mathjax.js"></script>\n'})
    assert check_offline.main([str(site)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{site / 'index.html'}:2: <script src> requests https://cdn.example.org/mathjax.js",
        f"1 request(s) to another host in {site} (1 files checked)",
    ]


def test_allow_file_excuses_script_strings_only_and_reports_stale_entries(tmp_path, capsys):
    site = _site(
        tmp_path,
        {
            "_static/lib/bundle.js": 'var fallback = "https://cdn.example.org/rules";\n',
            "index.html": '<script src="https://cdn.example.org/rules"></script>\n',
        },
    )
    allow = tmp_path / "allow.txt"
    allow.write_text(
        "# comment\n\n"
        "_static/lib/*.js  https://cdn.example.org/rules  # a default the library overrides\n"
        "_static/*.js  https://gone.example.org/x#frag  # no longer in the library\n"
    )
    assert check_offline.main(["--allow", str(allow), str(site)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{site / 'index.html'}:1: <script src> requests https://cdn.example.org/rules",
        f"{allow}:4: stale allow entry: no script in _static/*.js holds https://gone.example.org/x#frag",
        f"1 request(s) to another host in {site} (2 files checked); 1 stale allow entry",
    ]


def test_allow_file_entries_need_a_reason(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("_static/*.js  https://cdn.example.org/rules\n")
    with pytest.raises(SystemExit) as exit_info:
        check_offline.main(["--allow", str(allow), str(tmp_path)])
    assert exit_info.value.code == 2


def test_an_empty_folder_is_not_a_site(tmp_path, capsys):
    assert check_offline.main([str(tmp_path)]) == 1
    assert "no page, stylesheet or script found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "remote"),
    [
        ("https://example.org/x.js", True),
        ("//example.org/x.js", True),
        ("HTTP://EXAMPLE.ORG", True),
        ("_static/x.js", False),
        ("/abs/x.js", False),
        ("data:font/woff2;base64,AAAA", False),
        ("#section", False),
        ("mailto:a@example.org", False),
        ("file:///tmp/x.js", False),
        ("", False),
    ],
)
def test_is_remote(url, remote):
    assert check_offline.is_remote(url) is remote
