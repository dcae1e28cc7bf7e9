"""The repository's documentation as HTML, so that a notification's runbook_url opens natively.

`render_markdown` gives each heading GitHub's anchor (`#### FeatureDrift` -> id="featuredrift"), so the
same runbook_url fragment works here and on a Git host. `resolve` serves only README.md and files under
docs/ (Markdown and images) of this repository: no other path of the machine is reachable.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
SERVED = {".md": "text/html; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
STYLE = ("body { font-family: system-ui, sans-serif; max-width: 60em; margin: 1.5em auto; padding: 0 1em; line-height: 1.45; }"
         " pre, code { background: #f4f4f4; } pre { padding: 0.6em; overflow-x: auto; } img { max-width: 100%; }"
         " table { border-collapse: collapse; } th, td { border: 1px solid #ddd; padding: 0.3em 0.5em; }"
         " :target { background: #fff3b0; }")


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def render_markdown(text: str, title: str) -> str:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for heading, inline in zip(tokens, tokens[1:]):
        if heading.type == "heading_open":
            heading.attrSet("id", slug(inline.content))
    body = md.renderer.render(tokens, md.options, {})
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def resolve(url_path: str, root: Path = ROOT) -> Path | None:
    """The file a URL path names, if it is README.md or a served file under docs/; else None."""
    relative = url_path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    if not relative or ".." in Path(relative).parts:
        return None
    path = (root / relative).resolve()
    docs = (root / "docs").resolve()
    allowed = path == (root / "README.md").resolve() or (docs in path.parents and path.suffix in SERVED)
    return path if allowed and path.is_file() else None


def page(path: Path, root: Path = ROOT) -> tuple[str, bytes]:
    """(content type, body) of a resolved file: Markdown rendered to HTML, images as they are."""
    if path.suffix == ".md":
        return SERVED[".md"], render_markdown(path.read_text(), str(path.relative_to(root))).encode()
    return SERVED[path.suffix], path.read_bytes()
