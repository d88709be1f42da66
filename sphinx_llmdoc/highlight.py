"""Leaner highlighted code: no ``<span>`` for tokens that look exactly like plain text.

Pygments wraps every name, punctuation mark and run of whitespace in its own span,
even when the light and the dark style both draw it exactly like unmarked text. In a
code-heavy book those spans are about a third of the page's bytes. Dropping them
changes nothing a reader sees, in either theme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pygments.formatters.html import HtmlFormatter
from pygments.token import STANDARD_TYPES, Token
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.highlighting import PygmentsBridge

if TYPE_CHECKING:
    from pygments.style import Style
    from pygments.token import _TokenType
    from sphinx.application import Sphinx


def setup_highlight(app: Sphinx) -> None:
    """Swap in the lean formatter once the builder (and furo's styles) are set up."""
    app.add_config_value("llmdoc_lean_highlighting", True, "html", types=frozenset({bool}))
    app.connect("builder-inited", use_lean_formatter, priority=900)


def plain_token_types(styles: list[type[Style]]) -> frozenset[_TokenType]:
    """Standard token types that every style in *styles* draws exactly like plain text."""
    plain = set()
    for ttype in STANDARD_TYPES:
        if ttype is Token.Text:
            continue
        if all(s.style_for_token(ttype) == s.style_for_token(Token.Text) for s in styles):
            plain.add(ttype)
    return frozenset(plain)


def lean_formatter(plain: frozenset[_TokenType]) -> type[HtmlFormatter[str]]:
    """An ``HtmlFormatter`` that leaves *plain* token types unwrapped."""

    class LeanHtmlFormatter(HtmlFormatter):  # type: ignore[type-arg]
        plain_types: ClassVar[frozenset[_TokenType]] = plain

        def _get_css_classes(self, ttype: _TokenType) -> str:
            if ttype in self.plain_types:
                return ""
            classes: str = super()._get_css_classes(ttype)  # type: ignore[misc]
            return classes

    return LeanHtmlFormatter


def use_lean_formatter(app: Sphinx) -> None:
    """Install the lean formatter on HTML builders, judged against light and dark styles."""
    builder = app.builder
    if not app.config.llmdoc_lean_highlighting or not isinstance(builder, StandaloneHTMLBuilder):
        return
    highlighter: Any = getattr(builder, "highlighter", None)
    if highlighter is None:
        return
    styles = [highlighter.formatter_args["style"]]
    # furo draws dark mode with `pygments_dark_style`; other themes may have a dark highlighter
    dark_name = getattr(app.config, "pygments_dark_style", None)
    if dark_name:
        styles.append(PygmentsBridge("html", dark_name).formatter_args["style"])
    dark: Any = getattr(builder, "dark_highlighter", None)
    if dark is not None:
        styles.append(dark.formatter_args["style"])
    highlighter.formatter = lean_formatter(plain_token_types(styles))
