"""The course's book: it builds with no Sphinx warning, works offline in headless Chromium, holds no reference.

The build is made once per session (``python -m mlcourse.book``, what ``make book`` runs) into
``build/book``; the screenshots of a front page, a notebook with a plot and a drill page land in
``build/book/screenshots/``. Chromium runs with every host name unresolvable and a proxy on a
closed loopback port, so a page that needed the network would show it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mlcourse.book import build
from mlcourse.paths import BUILD_DIR, REPO_ROOT

BOOK = BUILD_DIR / "book"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
RESOURCE_ATTRIBUTES = {"script": "src", "img": "src", "link": "href", "iframe": "src", "source": "src", "video": "src"}
SCREENSHOTS = {  # name: (page, window height in pixels: tall enough to reach the plot)
    "front-page": ("index.html", 1600),
    "notebook-with-plot": ("notebooks/11_genetic_algorithm.html", 4400),
    "drill-page": ("drills/d2_jit_matmul/README.html", 1600),
}


@pytest.fixture(scope="session")
def book() -> Path:
    return build(BOOK)


class Resources(HTMLParser):
    """The URLs a page loads by itself (scripts, styles, images, frames), not the links a reader follows."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = RESOURCE_ATTRIBUTES.get(tag)
        url = dict(attrs).get(wanted) if wanted else None
        if url and not url.startswith(("data:", "#")):
            self.urls.append(url)


def chromium(*args: str, tmp: Path, height: int = 1600) -> str:
    """Headless Chromium with no way out: host names do not resolve, every request goes to a closed port."""
    assert CHROMIUM is not None, "the checks that call this skip where Chromium is missing"
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        f"--user-data-dir={tmp}",
        f"--window-size=1280,{height}",
        "--virtual-time-budget=5000",
        *(["--no-sandbox"] if os.geteuid() == 0 else []),
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def page_url(book: Path, page: str, query: str = "") -> str:
    return (book / page).as_uri() + query


def test_every_page_loads_only_files_of_the_book(book: Path) -> None:
    pages = sorted(page for page in book.rglob("*.html") if "_static" not in page.relative_to(book).parts)
    assert len(pages) >= 25, "the book lost pages"
    for page in pages:
        parser = Resources()
        parser.feed(page.read_text())
        for url in parser.urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{page.relative_to(book)} loads {url} from outside the book"
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.relative_to(book)} loads {url}, which is not in the book"


def test_lessons_and_drills_link_both_ways(book: Path) -> None:
    lesson = (book / "notebooks/01_jax_essentials.html").read_text()
    drill = (book / "drills/d2_jit_matmul/README.html").read_text()
    assert 'href="../drills/d2_jit_matmul/README.html"' in lesson
    assert 'href="../../notebooks/01_jax_essentials.html"' in drill


@pytest.mark.needs_solutions  # compares the pages with solutions/
def test_no_page_holds_reference_code(book: Path) -> None:
    """No three consecutive lines found only in ``solutions/`` (not in the starters) appear in a page."""
    text = "\n".join(
        line.strip()
        for page in book.rglob("*.html")
        for line in html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).splitlines()
        if line.strip()
    )
    starters = {line.strip() for path in (REPO_ROOT / "drills").rglob("*.py") for line in path.read_text().splitlines()}
    for path in sorted((REPO_ROOT / "solutions").rglob("*.py")):
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        for start in range(len(lines) - 3):
            window = lines[start : start + 4]
            if not starters.intersection(window):
                assert "\n".join(window) not in text, f"a page shows {path.relative_to(REPO_ROOT)}: {window[0]}"


@needs_chromium
@pytest.mark.parametrize("name", SCREENSHOTS)
def test_screenshot(book: Path, name: str, tmp_path: Path) -> None:
    shot = book / "screenshots" / f"{name}.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    page, height = SCREENSHOTS[name]
    chromium(f"--screenshot={shot}", page_url(book, page), tmp=tmp_path, height=height)
    assert shot.stat().st_size > 20_000, f"{shot} looks blank"


@needs_chromium
def test_pages_render_their_plot_diagram_and_math(book: Path, tmp_path: Path) -> None:
    notebook = chromium("--dump-dom", page_url(book, "notebooks/11_genetic_algorithm.html"), tmp=tmp_path)
    assert re.search(r'<img[^>]+src="\.\./_images/[0-9a-f]+\.png"', notebook), "the plot is missing"
    diagram = chromium("--dump-dom", page_url(book, "notebooks/08_hybrid_pipelines.html"), tmp=tmp_path)
    assert re.search(r'class="mermaid"[^>]*>\s*<svg', diagram), "Mermaid did not draw notebook 08's diagram"
    glossary = chromium("--dump-dom", page_url(book, "docs/glossary.html"), tmp=tmp_path)
    assert "<mjx-container" in glossary, "MathJax did not typeset the glossary's formula"


@needs_chromium
def test_search_finds_the_page_that_teaches_a_term(book: Path, tmp_path: Path) -> None:
    results = chromium("--dump-dom", page_url(book, "search.html", "?q=coordinated+omission"), tmp=tmp_path)
    found = re.findall(r'<ul[^>]*class="search".*?</ul>', results, re.DOTALL)
    assert found, "the search page listed no results"
    assert 'href="notebooks/07_load_testing.html' in found[0]
