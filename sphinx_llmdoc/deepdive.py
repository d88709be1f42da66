"""``deep-dive``: a titled block of deep content, collapsed in HTML and plain elsewhere.

HTML gets a native ``<details>``/``<summary>`` (closed unless ``:open:``), plus
``static/llmdoc-deepdive.js``, which opens it when a link, the URL fragment or
find-in-page targets something inside, opens every collapsed block for printing, and
adds "Expand all / Collapse all" controls. Text, LaTeX, man and Texinfo show the title
and all of the content. ``:name:`` makes it a labelled target, so ``{ref}`` shows its
title just as it would a section's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import OptionSpec
    from sphinx.writers.html5 import HTML5Translator
    from sphinx.writers.latex import LaTeXTranslator
    from sphinx.writers.manpage import ManualPageTranslator
    from sphinx.writers.texinfo import TexinfoTranslator
    from sphinx.writers.text import TextTranslator

CSS_CLASS = "llmdoc-deep-dive"
STATIC_FILES = ("llmdoc-deepdive.css", "llmdoc-deepdive.js")


# wordcount.DEEP_DIVE and DEEP_DIVE_TITLE name these classes; tests keep them in step.
class llmdoc_deep_dive(nodes.General, nodes.Element):
    """The block: a :class:`llmdoc_deep_dive_title` followed by the body."""


class llmdoc_deep_dive_title(nodes.TextElement):
    """The always-visible title (the ``<summary>`` in HTML)."""


def setup_deepdive(app: Sphinx) -> None:
    """Register the directive, its nodes for every writer, and the HTML assets."""
    # Enumerable so the standard domain gives a :name: label this block's title.
    app.add_enumerable_node(
        llmdoc_deep_dive,
        "deep-dive",
        title_of,
        html=(visit_html, depart_html),
        latex=(visit_latex, depart_latex),
        text=(visit_text, depart_text),
        man=(visit_man, depart_man),
        texinfo=(visit_texinfo, depart_texinfo),
    )
    app.add_node(
        llmdoc_deep_dive_title,
        html=(visit_title_html, depart_title_html),
        latex=(visit_title_latex, depart_title_latex),
        text=(visit_title_text, depart_title_text),
        man=(visit_title_man, depart_title_man),
        texinfo=(skip, None),
    )
    app.add_directive("deep-dive", DeepDive)
    app.connect("builder-inited", add_assets)


def title_of(node: nodes.Node) -> str:
    """The text a ``{ref}`` to a named deep-dive shows."""
    title = node.next_node(llmdoc_deep_dive_title) if isinstance(node, nodes.Element) else None
    return title.astext() if title is not None else ""


class DeepDive(SphinxDirective):
    """``deep-dive``: a titled collapsible; ``:open:`` shows it expanded initially."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[OptionSpec] = {
        "open": directives.flag,
        "name": directives.unchanged,
        "class": directives.class_option,
    }

    def run(self) -> list[nodes.Node]:
        if not self.content:
            msg = "deep-dive has a title but no content; write the deep content under it"
            raise self.error(msg)
        node = llmdoc_deep_dive(open="open" in self.options)
        node["classes"] += self.options.get("class", [])
        self.set_source_info(node)
        self.add_name(node)
        inline, messages = self.parse_inline(self.arguments[0], lineno=self.lineno)
        title = llmdoc_deep_dive_title(self.arguments[0], "", *inline)
        self.set_source_info(title)
        node += title
        node += self.parse_content_to_nodes()
        return [node, *messages]


def add_assets(app: Sphinx) -> None:
    """The deep-dive CSS and JS, for HTML builders only (the static folder is shared)."""
    if not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    css, js = STATIC_FILES
    app.add_css_file(css, priority=650)
    app.add_js_file(js, priority=650)


def skip(self: nodes.NodeVisitor, node: nodes.Element) -> None:
    """Leave a node out: its writer has already shown it."""
    raise nodes.SkipNode


# HTML: <details class="llmdoc-deep-dive"><summary>title</summary><div>body</div></details>


def visit_html(self: HTML5Translator, node: nodes.Element) -> None:
    if node.get("open"):
        self.body.append(self.starttag(node, "details", CLASS=CSS_CLASS, open="open"))
    else:
        self.body.append(self.starttag(node, "details", CLASS=CSS_CLASS))


def depart_html(self: HTML5Translator, node: nodes.Element) -> None:
    self.body.append("</div>\n</details>\n")


def visit_title_html(self: HTML5Translator, node: nodes.Element) -> None:
    self.body.append(self.starttag(node, "summary", "", CLASS=f"{CSS_CLASS}__title"))


def depart_title_html(self: HTML5Translator, node: nodes.Element) -> None:
    self.body.append(f'</summary>\n<div class="{CSS_CLASS}__body">\n')


# LaTeX: a titled admonition box, so it reads as an aside on paper too.


def visit_latex(self: LaTeXTranslator, node: nodes.Element) -> None:
    self.body.append("\n" + self.hypertarget_to(node) + r"\begin{sphinxadmonition}{note}")
    self.no_latex_floats += 1


def depart_latex(self: LaTeXTranslator, node: nodes.Element) -> None:
    self.body.append(r"\end{sphinxadmonition}" + "\n")
    self.no_latex_floats -= 1


def visit_title_latex(self: LaTeXTranslator, node: nodes.Element) -> None:
    self.body.append("{")


def depart_title_latex(self: LaTeXTranslator, node: nodes.Element) -> None:
    self.body.append("}\n")


# Text: the title on its own line, the body indented under it.


def visit_text(self: TextTranslator, node: nodes.Element) -> None:
    self.new_state(0)


def depart_text(self: TextTranslator, node: nodes.Element) -> None:
    self.end_state()  # the body, opened when the title ended
    self.end_state()


def visit_title_text(self: TextTranslator, node: nodes.Element) -> None:
    self.new_state(0)


def depart_title_text(self: TextTranslator, node: nodes.Element) -> None:
    self.end_state()
    self.new_state()


# man: a bold title line, then the body.


def visit_man(self: ManualPageTranslator, node: nodes.Element) -> None:
    self.ensure_eol()


def depart_man(self: ManualPageTranslator, node: nodes.Element) -> None:
    self.ensure_eol()


def visit_title_man(self: ManualPageTranslator, node: nodes.Element) -> None:
    self.ensure_eol()
    self.body.append(".sp\n" + self.defs["strong"][0])


def depart_title_man(self: ManualPageTranslator, node: nodes.Element) -> None:
    self.body.append(self.defs["strong"][1] + "\n")


# Texinfo: a titled cartouche, as Sphinx draws admonitions.


def visit_texinfo(self: TexinfoTranslator, node: nodes.Element) -> None:
    for node_id in node["ids"]:
        self.add_anchor(node_id, node)
    self.body.append(f"\n@cartouche\n@quotation {self.escape(title_of(node))}\n")


def depart_texinfo(self: TexinfoTranslator, node: nodes.Element) -> None:
    self.ensure_eol()
    self.body.append("@end quotation\n@end cartouche\n")
