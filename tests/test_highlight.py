"""Lean highlighting drops only spans that both themes draw like plain text."""

from __future__ import annotations

import re

from pygments import highlight
from pygments.formatters.html import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.style import Style
from pygments.styles import get_style_by_name
from pygments.token import Token

from sphinx_llmdoc.highlight import lean_formatter, plain_token_types

CODE = "def greet(name: str) -> str:\n    return f'hello {name}'  # hi\n"


def test_plain_types_are_those_every_style_draws_as_text() -> None:
    light, dark = get_style_by_name("a11y-light"), get_style_by_name("native")
    plain = plain_token_types([light, dark])
    for ttype in plain:
        assert all(s.style_for_token(ttype) == s.style_for_token(Token.Text) for s in (light, dark))
    assert Token.Keyword not in plain
    assert Token.Comment not in plain

    # as soon as one theme colours names, their spans stay
    class NamesInRed(Style):
        styles = {Token.Name: "#aa0000"}  # noqa: RUF012 (pygments reads a plain dict)

    assert Token.Name in plain_token_types([light])
    assert Token.Name not in plain_token_types([light, NamesInRed])


def test_lean_output_has_the_same_text_and_fewer_spans() -> None:
    style = get_style_by_name("a11y-light")
    full = highlight(CODE, PythonLexer(), HtmlFormatter(style=style))
    lean = highlight(CODE, PythonLexer(), lean_formatter(plain_token_types([style]))(style=style))
    assert re.sub(r"<[^>]+>", "", full) == re.sub(r"<[^>]+>", "", lean)
    assert '<span class="n">' in full and '<span class="n">' not in lean
    assert '<span class="k">def</span>' in lean
    assert len(lean) < len(full)


def test_the_book_build_uses_it(make_app, copy_root) -> None:
    app = make_app("singlehtml", srcdir=copy_root("singlehtml"), freshenv=True)
    app.build()
    html = (app.outdir / "index.html").read_text("utf-8")
    assert '<span class="nb">print</span>' in html
    assert '<span class="p">' not in html


def test_it_can_be_switched_off(make_app, copy_root) -> None:
    app = make_app(
        "singlehtml",
        srcdir=copy_root("singlehtml"),
        freshenv=True,
        confoverrides={"llmdoc_lean_highlighting": False},
    )
    app.build()
    assert '<span class="p">' in (app.outdir / "index.html").read_text("utf-8")
