#!/usr/bin/env python3
"""Checks every internal link of the built book: each relative href or src must name a file that
exists, and each #fragment an id on the page it points to. External links (with a scheme) are
not fetched: CI has no network beyond the package registries.

Also checks the links of README.md (files in the repository; a #fragment into a chapter must be
an id of that chapter's built page).

Usage: python3 docs/check-links.py docs/book   (after `mdbook build docs`)
Exit 1, with every broken link listed, when one is broken."""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (attribute, value, line)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.links.append((name, value, self.getpos()[0]))


def parse(path, cache):
    if path not in cache:
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    root = Path(sys.argv[1]).resolve()
    if not (root / "index.html").is_file():
        print(f"{root}/index.html not found: build the book first (mdbook build docs)")
        return 2
    cache = {}
    broken = []
    checked = 0
    # mdBook's own pages (print.html repeats every chapter; 404.html links from the site root).
    skip = {"print.html", "404.html", "toc.html"}
    pages = sorted(p for p in root.rglob("*.html") if p.name not in skip)
    for page_path in pages:
        page = parse(page_path, cache)
        for attr, value, line in page.links:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//") or value.startswith("mailto:"):
                continue
            checked += 1
            where = f"{page_path.relative_to(root)}:{line}"
            if parts.path:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.exists():
                    broken.append(f"{where}: {attr}={value!r}: no such file")
                    continue
            else:
                target = page_path
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in parse(target, cache).ids:
                    broken.append(f"{where}: {attr}={value!r}: no #{parts.fragment} on that page")
    checked += check_readme(root, cache, broken)
    # Links in the Markdown that mdBook left as .md (a chapter missing from SUMMARY.md) show up as
    # missing files above; a summary line whose file is absent is an mdBook build error.
    for line in broken:
        print(line)
    print(f"{len(pages)} pages, {checked} internal links checked, {len(broken)} broken")
    return 1 if broken else 0


def check_readme(book, cache, broken):
    """README.md's relative links: the file must exist; into docs/src, the fragment must exist."""
    import re

    repo = book.parent.parent
    src = repo / "docs" / "src"
    text = (repo / "README.md").read_text(encoding="utf-8")
    checked = 0
    for n, line in enumerate(text.splitlines(), 1):
        for value in re.findall(r"\]\(([^)\s]+)\)", line):
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                continue
            checked += 1
            target = (repo / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append(f"README.md:{n}: {value!r}: no such file")
            elif parts.fragment and target.suffix == ".md" and src in target.parents:
                page = book / target.relative_to(src).with_suffix(".html")
                if page.exists() and unquote(parts.fragment) not in parse(page, cache).ids:
                    broken.append(f"README.md:{n}: {value!r}: no #{parts.fragment} in that chapter")
    return checked


if __name__ == "__main__":
    sys.exit(main())
