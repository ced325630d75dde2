"""Markdown to HTML for stories, safe to put in any page.

One renderer for every place a story is shown (the editor's preview, the indicator page, the
public page), so what the backbone team previews is what readers get. markdown-it in its
CommonMark preset with raw HTML off: any markup written in a story is escaped as text, never
passed through; links are kept only for http, https and mailto addresses (``javascript:``,
``data:`` and every other scheme stay plain text); images are off (a story is words, and a
remote image would tell a third party who reads the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def _safe_link(url: str) -> bool:
    """Absolute http(s) and mailto links only: no relative address a page could resolve to a
    route of ours, and no script-running scheme however it is spelt (the address arrives
    normalised and percent-encoded from markdown-it)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in SAFE_SCHEMES


def _link_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[idx]
    token.attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MD = _parser()


def render_markdown(text: str) -> str:
    """The story's HTML: escaped text in a few block and inline elements, never raw markup."""
    html: str = _MD.render(text or "")
    return html


def single_line(html: str) -> str:
    """The same HTML on one line (newlines as character references, which HTML reads back as
    the same characters), for a Markdown component that shows given HTML as one block."""
    return html.replace("\r", "").replace("\n", "&#10;")


def plain_paragraphs(text: str) -> list[str]:
    """The story as plain paragraphs (a list item prefixed with a bullet), for a report that
    sets text itself rather than HTML: the words as written, without Markdown's marks."""
    out: list[str] = []
    bullet = False
    for token in _MD.parse(text or ""):
        if token.type == "list_item_open":
            bullet = True
        elif token.type == "inline":
            words = "".join(
                " " if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or ()
            ).strip()
            if words:
                out.append(("• " if bullet else "") + words)
            bullet = False
    return out
