"""The course as an offline website: stage its pages, then build them with Sphinx and myst-nb.

The pages are what the repository (or a learners' bundle) already holds: the README as the front
page, the notebooks with the outputs nbval checks (never executed again), the drill READMEs, the
crib, the decision records and the glossary. ``solutions/`` is never read. The README's course map
is the one table that links lessons and drills: staging writes it both ways, a note under each
lesson's title naming its drill and a "Prepared by" list at the end of each drill's README.

Mermaid and MathJax come from their npm packages (fetched once with ``npm pack`` into a cache)
and are copied into the site, so it works from ``file://`` with no network.

    python -m mlcourse.book [OUT] [--root ROOT]     # default: build/book from this repository
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mlcourse.paths import BUILD_DIR, REPO_ROOT

CONF_DIR = Path("docs/book")  # conf.py and the site's own static files, in the course
GLOSSARY = Path("docs/glossary.md")
# (npm package, {member in its tarball: path under the site's _static/}); folders are copied whole.
VENDORED = (
    ("mermaid@11.12.1", {"package/dist/mermaid.min.js": "mermaid/mermaid.min.js"}),
    (
        "mathjax@3.2.2",
        {
            "package/es5/tex-mml-chtml.js": "mathjax/tex-mml-chtml.js",
            "package/es5/output/chtml/fonts/woff-v2/": "mathjax/output/chtml/fonts/woff-v2/",
        },
    ),
)
README_LINK = re.compile(r"\]\(((?:\.\./)+)README\.md")  # a page's link up to the README, the book's front page
MAP_ROW = re.compile(r"^\| `(?P<notebook>\d\d_\w+)` \|.*\| (?P<drill>d\d+|–) \|$", re.MULTILINE)


@dataclass(frozen=True)
class Lesson:
    """A notebook of the course map and the drill it prepares (None: it prepares none)."""

    stem: str
    drill: str | None


def course_map(readme: str) -> list[Lesson]:
    """The README's course map, in course order."""
    lessons = [Lesson(m["notebook"], None if m["drill"] == "–" else m["drill"]) for m in MAP_ROW.finditer(readme)]
    if not lessons:
        raise ValueError("README.md has no course map (| `NN_name` | topic | dN |)")
    return lessons


def drill_folders(root: Path) -> dict[str, str]:
    """``{"d2": "d2_jit_matmul", ...}`` for every drill folder with a README."""
    return {p.parent.name.split("_")[0]: p.parent.name for p in sorted((root / "drills").glob("d*_*/README.md"))}


def notebook_title(path: Path) -> str:
    """The notebook's first heading, e.g. ``01 · JAX essentials``."""
    first = nbformat.read(path, as_version=4).cells[0].source
    heading = re.search(r"^# (.+)$", first, re.MULTILINE)
    if heading is None:
        raise ValueError(f"{path.name}: its first cell has no '# title' heading")
    return heading[1].strip()


def _write(path: Path, text: str) -> None:
    """Write a page; its links to the repository's README go to the front page that the README became."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(README_LINK.sub(r"](\1index.md", text))


def _toctree(caption: str, entries: list[str]) -> str:
    return "\n".join(["", "```{toctree}", f":caption: {caption}", ":hidden:", "", *entries, "```", ""])


def stage(root: Path, src: Path) -> list[str]:
    """Write the book's sources into ``src`` (emptied first); return its documents in course order."""
    shutil.rmtree(src, ignore_errors=True)
    readme = (root / "README.md").read_text()
    lessons, drills = course_map(readme), drill_folders(root)
    unmapped = sorted({p.stem for p in (root / "notebooks").glob("*.ipynb")} - {lesson.stem for lesson in lessons})
    if unmapped:
        raise ValueError(f"notebooks missing from the README's course map, so from the book: {', '.join(unmapped)}")
    prepared_by: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        if lesson.drill:
            prepared_by.setdefault(lesson.drill, []).append(lesson)

    for lesson in lessons:
        notebook = nbformat.read(root / "notebooks" / f"{lesson.stem}.ipynb", as_version=4)
        if lesson.drill:
            folder = drills[lesson.drill]
            note = f"```{{seealso}}\nThis lesson prepares drill [{folder}](../drills/{folder}/README.md).\n```"
            notebook.cells.insert(1, nbformat.v4.new_markdown_cell(note))
        (src / "notebooks").mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, src / "notebooks" / f"{lesson.stem}.ipynb")

    drill_docs = []
    for drill, folder in drills.items():
        pages = sorted((root / "drills" / folder).glob("*.md"), key=lambda p: (p.name != "README.md", p.name))
        for page in pages:
            text = page.read_text()
            if page.name == "README.md" and drill in prepared_by:
                items = [
                    f"- [{notebook_title(root / 'notebooks' / f'{lesson.stem}.ipynb')}]"
                    f"(../../notebooks/{lesson.stem}.ipynb)"
                    for lesson in prepared_by[drill]
                ]
                text = text.rstrip() + "\n\n## Prepared by\n\n" + "\n".join(items) + "\n"
            _write(src / "drills" / folder / page.name, text)
            drill_docs.append(f"drills/{folder}/{page.stem}")

    decisions = sorted(p.relative_to(root) for p in (root / "docs/decisions").glob("*.md"))
    reference = []
    for page in [GLOSSARY, Path("docs/elixir-to-python.md"), *decisions]:
        if (root / page).is_file():
            _write(src / page, (root / page).read_text())
            reference.append(page.with_suffix("").as_posix())

    lesson_docs = [f"notebooks/{lesson.stem}" for lesson in lessons]
    front = MAP_ROW.sub(lambda m: m[0].replace(f"`{m[1]}`", f"[`{m[1]}`](notebooks/{m[1]}.ipynb)", 1), readme)
    _write(
        src / "index.md",
        front + _toctree("Lessons", lesson_docs) + _toctree("Drills", drill_docs) + _toctree("Reference", reference),
    )
    shutil.copytree(root / CONF_DIR, src, dirs_exist_ok=True)
    return ["index", *lesson_docs, *drill_docs, *reference]


def vendor(static: Path, cache: Path) -> None:
    """Copy Mermaid and MathJax from their npm tarballs (``npm pack`` once into ``cache``) into ``static``."""
    cache.mkdir(parents=True, exist_ok=True)
    for package, members in VENDORED:
        tarball = cache / (package.replace("@", "-") + ".tgz")
        if not tarball.is_file():
            if shutil.which("npm") is None:
                raise RuntimeError(f"the book needs npm once, to fetch {package} into {cache}")
            subprocess.run(
                ["npm", "pack", package, "--silent", "--pack-destination", str(cache)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        with tarfile.open(tarball) as archive:
            for entry in archive.getmembers():
                target = _target(entry.name, members) if entry.isfile() else None
                if target is not None:
                    (static / target).parent.mkdir(parents=True, exist_ok=True)
                    extracted = archive.extractfile(entry)
                    assert extracted is not None  # a regular file, as isfile() said
                    (static / target).write_bytes(extracted.read())


def _target(name: str, members: dict[str, str]) -> str | None:
    """Where a tarball entry goes under _static/, or None when it is not wanted."""
    for member, target in members.items():
        if name == member:
            return target
        if member.endswith("/") and name.startswith(member):
            return target + name.removeprefix(member)
    return None


def build(out: Path, root: Path = REPO_ROOT, work: Path = BUILD_DIR / "book-work") -> Path:
    """Stage ``root``'s pages and build the site into ``out``; any Sphinx warning fails the build."""
    out, src = out.resolve(), work.resolve() / "src"
    stage(root, src)
    vendor(src / "_static", BUILD_DIR / "book-cache")
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-E",
        "-W",
        "--keep-going",
        "-n",
        "-q",
        "-d",
        str(work.resolve() / "doctrees"),
        str(src),
        str(out),
    ]
    subprocess.run(command, check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=BUILD_DIR / "book")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the course to build from (a learners' bundle)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        out = build(args.out, args.root.resolve())
    except subprocess.CalledProcessError:
        print("the book has errors (above): fix them, Sphinx's warnings count as errors", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    pages = sum(1 for page in out.rglob("*.html") if "_static" not in page.relative_to(out).parts)
    print(f"the book: {out / 'index.html'} ({pages} pages, {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
