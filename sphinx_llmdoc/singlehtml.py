"""Doctree and page-context fixes that only the ``singlehtml`` builder needs.

Sphinx's single-page builder inlines every document under ``start_of_file`` nodes
but still resolves cross-document links to ``#document-X#Y`` (which no browser can
follow), lets ids collide between documents, shows furo only chapter titles, and
links pages it never writes. All of that is repaired here, in the doctree, before
the page is rendered.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.singlehtml import SingleFileHTMLBuilder
from sphinx.transforms.post_transforms import SphinxPostTransform

from sphinx_llmdoc.reader import SEARCH_SIDEBAR
from sphinx_llmdoc.warnings_ import Warn, warn

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: Pages the singlehtml builder never writes, so nothing may link them.
UNWRITTEN_PAGES = frozenset({"genindex", "search", "py-modindex"})

_DOC_PREFIX = "#document-"
_ID_CHARS = re.compile(r"[^\w-]+")


def setup_singlehtml(app: Sphinx) -> None:
    """Register the doctree fixes and the page-context fixes."""
    app.add_post_transform(SingleHtmlLinks)
    app.add_config_value("llmdoc_nav_depth", 3, "html", types=frozenset({int}))
    # Run after furo (priority 500) so our navigation replaces its chapter-only one.
    app.connect("html-page-context", fix_page_context, priority=900)
    app.connect("builder-inited", no_scaled_image_links)


def no_scaled_image_links(app: Sphinx) -> None:
    """Stop wrapping resized images in links to their files, which one file cannot ship.

    The image itself is inlined; a link to ``_images/x.png`` would go nowhere, and
    browsers refuse to navigate to a ``data:`` URI.
    """
    if isinstance(app.builder, SingleFileHTMLBuilder):
        app.builder.html_scaled_image_link = False


def docname_of(node: nodes.Node, root: str) -> str:
    """The document *node* came from inside the assembled single page."""
    parent: nodes.Node | None = node
    while parent is not None:
        if isinstance(parent, addnodes.start_of_file):
            return str(parent["docname"])
        parent = parent.parent
    return root


def _walk(node: nodes.Element, docname: str) -> Iterator[tuple[nodes.Element, str]]:
    """Yield every element with the document it belongs to, in document order."""
    for child in node.children:
        if not isinstance(child, nodes.Element):
            continue
        child_doc = str(child["docname"]) if isinstance(child, addnodes.start_of_file) else docname
        yield child, child_doc
        yield from _walk(child, child_doc)


def doc_slugs(docnames: list[str]) -> dict[str, str]:
    """A short, unique, id-safe slug per document: its last path part where that is unique."""
    tails = defaultdict(list)
    for docname in docnames:
        tails[docname.rsplit("/", 1)[-1]].append(docname)
    slugs = {}
    for docname in docnames:
        tail = docname.rsplit("/", 1)[-1]
        raw = tail if len(tails[tail]) == 1 else docname
        slugs[docname] = _ID_CHARS.sub("-", raw).strip("-").lower() or "doc"
    return slugs


def plan_renames(
    occurrences: dict[str, list[str]], slugs: dict[str, str]
) -> dict[tuple[str, str], str]:
    """Give every id used by more than one document a document-prefixed replacement.

    *occurrences* maps an id to the documents using it, in document order. Every
    colliding occurrence is renamed (not just the later ones), so an id depends only
    on its own document and never shifts when a chapter is inserted before it.
    """
    taken = set(occurrences)
    renames: dict[tuple[str, str], str] = {}
    for ident in sorted(occurrences):
        docs = occurrences[ident]
        if len(docs) < 2:
            continue
        for docname in docs:
            candidate = base = f"{slugs[docname]}-{ident}"
            counter = 1
            while candidate in taken:
                counter += 1
                candidate = f"{base}-{counter}"
            taken.add(candidate)
            renames[docname, ident] = candidate
    return renames


class SingleHtmlLinks(SphinxPostTransform):
    """Make every id unique and every internal link a plain, resolvable ``#id``."""

    # After every reference resolver and every other post-transform has run.
    default_priority = 900
    builders = ("singlehtml",)

    def run(self, **kwargs: Any) -> None:
        if not any(self.document.findall(addnodes.start_of_file)):
            return  # not the assembled single page
        root = self.config.root_doc
        elements = list(_walk(self.document, root))

        occurrences: dict[str, list[str]] = defaultdict(list)
        for element, docname in elements:
            for ident in element["ids"]:
                if docname not in occurrences[ident]:
                    occurrences[ident].append(docname)
        docnames = sorted({doc for _, doc in elements} | {root})
        renames = plan_renames(occurrences, doc_slugs(docnames))

        for element, docname in elements:
            self._rewrite(element, docname, renames)
        _alias_numbers(self.env, renames)
        unlink_unwritten_pages(self.document)
        self._check_fragments(elements, docnames)

    def _rewrite(
        self, element: nodes.Element, docname: str, renames: dict[tuple[str, str], str]
    ) -> None:
        def local(ident: str) -> str:
            return renames.get((docname, ident), ident)

        if element["ids"]:
            element["ids"] = [local(i) for i in element["ids"]]
        if element.get("backrefs"):
            element["backrefs"] = [local(i) for i in element["backrefs"]]
        if element.get("refid"):
            element["refid"] = local(element["refid"])
        refuri = element.get("refuri")
        if isinstance(element, nodes.reference) and refuri and refuri.startswith("#"):
            element["refuri"] = "#" + resolve_fragment(refuri, docname, renames)

    def _check_fragments(
        self, elements: list[tuple[nodes.Element, str]], docnames: list[str]
    ) -> None:
        known = {i for element, _ in elements for i in element["ids"]}
        known.update(f"document-{d}" for d in docnames)
        for element, _ in elements:
            if not isinstance(element, nodes.reference):
                continue
            refuri = element.get("refuri", "")
            target = element.get("refid") or (refuri[1:] if refuri.startswith("#") else None)
            if target and target not in known:
                warn(
                    f"internal link to #{target} goes nowhere in the single page",
                    Warn.FRAGMENT,
                    location=element,
                )


def unwritten_page(refuri: str) -> str | None:
    """The unwritten page (``genindex``, ...) a relative *refuri* points at, if any."""
    if "://" in refuri or refuri.startswith(("#", "mailto:")):
        return None
    name = posixpath.basename(refuri.split("#", 1)[0])
    return next((p for p in sorted(UNWRITTEN_PAGES) if name in {p, f"{p}.html"}), None)


def unlink_unwritten_pages(document: nodes.document) -> None:
    """Turn links to pages singlehtml never writes (``{ref}`genindex```) into their text."""
    for reference in list(document.findall(nodes.reference)):
        page = unwritten_page(reference.get("refuri", ""))
        if page is None:
            continue
        warn(
            f"link to {reference['refuri']} is now plain text: the single page has no "
            f"{page} page; remove the link or point it at a section",
            Warn.OUTSIDE_RESOURCE,
            location=reference,
        )
        reference.replace_self(reference.children)


def resolve_fragment(refuri: str, docname: str, renames: dict[tuple[str, str], str]) -> str:
    """Turn ``#document-X#Y``, ``#document-X`` or ``#Y`` into the final id (no ``#``)."""
    if refuri.startswith(_DOC_PREFIX):
        target_doc, _, anchor = refuri[len(_DOC_PREFIX) :].partition("#")
        if not anchor:
            return f"document-{target_doc}"
        return renames.get((target_doc, anchor), anchor)
    anchor = refuri[1:]
    return renames.get((docname, anchor), anchor)


def _alias_numbers(env: BuildEnvironment, renames: dict[tuple[str, str], str]) -> None:
    """Keep section and figure numbers attached to renamed ids.

    The HTML writer looks numbers up by a node's first id, and the singlehtml
    builder assembles its number tables from the environment right after this
    transform, so the renamed ids are added there as aliases.
    """
    for (docname, old), new in renames.items():
        secnums = env.toc_secnumbers.get(docname)
        if secnums and f"#{old}" in secnums:
            secnums[f"#{new}"] = secnums[f"#{old}"]
        for fignums in env.toc_fignumbers.get(docname, {}).values():
            if old in fignums:
                fignums[new] = fignums[old]


# -- page context ----------------------------------------------------------------------


def fix_page_context(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    """Full navigation, no links to unwritten pages, and accessible sidebar captions."""
    # Sphinx's HTML writer renders toctree captions with role="heading" and no level,
    # in the page body and in the sidebar; the tag is fixed, so the fix is textual.
    for key in ("furo_navigation_tree", "body"):
        if isinstance(context.get(key), str):
            context[key] = add_caption_levels(context[key])
    if app.builder.name != "singlehtml" or doctree is None:
        return

    has_doc = context.get("hasdoc")
    if callable(has_doc):
        context["hasdoc"] = lambda name: name not in UNWRITTEN_PAGES and has_doc(name)
    if isinstance(context.get("sidebars"), list):
        # furo's form posts to search.html, never written; llmdoc.js searches in the page
        context["sidebars"] = [
            SEARCH_SIDEBAR if s == "sidebar/search.html" else s for s in context["sidebars"]
        ]

    tree = navigation_html(doctree, app.config.llmdoc_nav_depth)
    if not tree:
        return
    context["toc"] = tree
    if "furo_navigation_tree" in context:
        from furo.navigation import get_navigation_tree

        nav = get_navigation_tree(f'<div class="toctree-wrapper">{tree}</div>')
        context["furo_navigation_tree"] = add_caption_levels(nav)
        context["furo_hide_toc"] = False


def add_caption_levels(nav: str) -> str:
    """furo's toctree captions say ``role="heading"`` without the ``aria-level`` ARIA requires."""
    return nav.replace('role="heading">', 'role="heading" aria-level="2">')


def _title_text(section: nodes.section) -> str:
    title = next(iter(section.findall(nodes.title)), None)
    return title.astext() if title is not None else ""


def _sections(node: nodes.Element) -> Iterator[nodes.section]:
    """Sections directly below *node*, looking through non-section wrappers."""
    for child in node.children:
        if isinstance(child, nodes.section):
            yield child
        elif isinstance(child, nodes.Element):
            yield from _sections(child)


def navigation_html(doctree: nodes.document, depth: int) -> str:
    """The whole book as nested ``<ul>`` lists, linking the final section ids.

    The root document's own title is the page title, so its sections, which hold
    the inlined chapters, form the top level.
    """
    top = list(_sections(doctree))
    if len(top) == 1:
        top = list(_sections(top[0]))

    def render(sections: list[nodes.section], level: int) -> str:
        if not sections or level > depth:
            return ""
        items = []
        for section in sections:
            if not section["ids"]:
                continue
            label = html.escape(_title_text(section))
            link = f'<a class="reference internal" href="#{section["ids"][0]}">{label}</a>'
            items.append(
                f'<li class="toctree-l{level}">{link}'
                f"{render(list(_sections(section)), level + 1)}</li>"
            )
        return f"<ul>{''.join(items)}</ul>" if items else ""

    return render(top, 1)
