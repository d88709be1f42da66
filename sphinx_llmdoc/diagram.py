"""The ``diagram`` directive, and plain ``mermaid`` blocks, as inline themed SVG.

Reading records every diagram in the environment. Once all documents are read (in
the main process, before anything is written, so ``-j`` builds render once), every
diagram missing from the committed cache is rendered in one batch by
:mod:`sphinx_llmdoc.mermaid`, or, where no renderer is available, the build stops
with the file, line and the command that renders them. Writing then inlines the
cached SVGs: a light and a dark variant per diagram, shown by furo's colour scheme.
Other builders get the caption and the alt text.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.errors import ConfigError, SphinxError
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from sphinx_llmdoc import mermaid
from sphinx_llmdoc.warnings_ import Warn, warn

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import OptionSpec

logger = logging.getLogger(__name__)

#: Where the environment keeps the diagrams of each document.
_STORE = "llmdoc_diagrams"


class llmdoc_diagram(nodes.General, nodes.Element):
    """A Mermaid diagram. Attributes: ``source``, ``alt``, ``origin`` (file or "").

    Its child is the text alternative, which non-HTML builders print; the HTML
    writer replaces the whole node by the inline SVG variants.
    """


class DiagramCacheMissing(SphinxError):
    """Diagrams have no cached SVG and nothing here can render them."""

    category = "Diagram cache incomplete"


@dataclass(frozen=True)
class Occurrence:
    """One diagram in one document, as the environment remembers it."""

    docname: str
    line: int | None
    source: str
    origin: str

    @property
    def location(self) -> tuple[str, int | None]:
        """Where warnings about this diagram point."""
        return (self.docname, self.line)

    def describe(self) -> str:
        """``diagram`` or ``diagram diagrams/x.mmd`` for messages."""
        return f"diagram {self.origin}" if self.origin else "diagram"


def setup_diagram(app: Sphinx) -> None:
    """Register the directive, take over ``mermaid`` blocks, and render at build time."""
    app.add_node(
        llmdoc_diagram,
        html=(visit_diagram_html, None),
        latex=(_visit_plain, _depart_plain),
        text=(_visit_plain, _depart_plain),
        man=(_visit_plain, _depart_plain),
        texinfo=(_visit_plain, _depart_plain),
    )
    app.add_directive("diagram", Diagram)
    # sphinxcontrib-mermaid is set up before us (see extension.py), so this wins.
    app.add_directive("mermaid", MermaidBlock, override=True)
    app.add_transform(AdoptMermaidNodes)
    app.add_env_collector(DiagramCollector)
    app.add_post_transform(InlineDiagrams)
    app.connect("config-inited", silence_mermaid_script)
    app.connect("env-updated", prepare_diagrams)
    app.connect("builder-inited", add_diagram_css)


# -- directives -----------------------------------------------------------------------


def _align(argument: str | None) -> str:
    return directives.choice(argument or "", ("left", "center", "right"))


class Diagram(SphinxDirective):
    """A Mermaid diagram from the directive body or from a file argument.

    ``:alt:`` is required: one or two sentences saying what the diagram shows.
    ``:caption:`` and ``:name:`` make it a numbered, referenceable figure.
    """

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[OptionSpec] = {
        "alt": directives.unchanged_required,
        "caption": directives.unchanged_required,
        "name": directives.unchanged,
        "align": _align,
        "class": directives.class_option,
    }

    def run(self) -> list[nodes.Node]:
        source, origin = self.mermaid_source()
        alt = " ".join(self.options.get("alt", "").split())
        caption = self.options.get("caption", "")

        diagram = llmdoc_diagram("", source=source, alt=alt, origin=origin)
        self.set_source_info(diagram)
        shown = alt or " ".join(caption.split()) or "(no text alternative)"
        diagram += nodes.paragraph("", "", nodes.emphasis("", f"Diagram: {shown}"))

        figure = nodes.figure("", diagram, classes=["llmdoc-diagram-figure"])
        figure["classes"] += self.options.get("class", [])
        if "align" in self.options:
            figure["align"] = self.options["align"]
        self.set_source_info(figure)
        messages: list[nodes.system_message] = []
        if caption:
            inline, messages = self.parse_inline(caption, lineno=self.lineno)
            caption_node = nodes.caption(caption, "", *inline)
            self.set_source_info(caption_node)
            figure += caption_node
        self.add_name(figure)

        if not alt:
            warn(
                f"{self.name} has no :alt: text; add one or two sentences saying what it shows, "
                "for readers who cannot see it",
                Warn.DIAGRAM,
                location=diagram,
            )
        return [figure, *messages]

    def mermaid_source(self) -> tuple[str, str]:
        """The Mermaid source and the file it came from ("" when inline)."""
        if self.arguments and self.content:
            msg = (
                f"{self.name} takes its Mermaid source either from a file argument or from "
                "its body, not both: drop one"
            )
            raise self.error(msg)
        if self.arguments:
            origin = self.arguments[0]
            relative, absolute = self.env.relfn2path(origin, self.env.docname)
            self.env.note_dependency(relative)
            try:
                source = Path(absolute).read_text(encoding="utf-8")
            except OSError as error:
                msg = f"cannot read the Mermaid file {origin!r}: {error.strerror}"
                raise self.error(msg) from error
        else:
            origin = ""
            source = "\n".join(self.content)
        source = source.strip("\n")
        if not source.strip():
            msg = f"{self.name} is empty: give Mermaid source in its body or a .mmd file argument"
            raise self.error(msg)
        return source + "\n", origin


class MermaidBlock(Diagram):
    """sphinxcontrib-mermaid's ``mermaid`` directive, rendered like ``diagram``.

    Its Mermaid-specific options still work: ``:config:`` (JSON) and ``:title:`` become
    front matter, as does the ``mermaid_config`` setting; ``:zoom:`` needs view-time
    JavaScript and is accepted but has no effect.
    """

    option_spec: ClassVar[OptionSpec] = {
        **Diagram.option_spec,
        "config": directives.unchanged,
        "title": directives.unchanged,
        "zoom": directives.unchanged,
    }

    def mermaid_source(self) -> tuple[str, str]:
        source, origin = super().mermaid_source()
        front = []
        if "config" in self.options:
            front.append(f"config: {self.options['config'].strip()}")
        elif self.config.mermaid_config:
            front.append(f"config: {json.dumps(self.config.mermaid_config, sort_keys=True)}")
        if "title" in self.options:
            front.append(f"title: {json.dumps(self.options['title'])}")
        if front:
            source = "---\n" + "\n".join(front) + "\n---\n" + source
        return source, origin


class AdoptMermaidNodes(SphinxTransform):
    """Turn nodes made by other sphinxcontrib-mermaid directives (``autoclasstree``) into ours."""

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        try:
            from sphinxcontrib.mermaid import mermaid as mermaid_node
        except ImportError:  # pragma: no cover - the extension depends on it
            return
        for node in list(self.document.findall(mermaid_node)):
            alt = " ".join(str(node.get("alt", "")).split())
            diagram = llmdoc_diagram("", source=str(node["code"]), alt=alt, origin="")
            diagram.source, diagram.line = _nearest_location(node)
            diagram += nodes.paragraph("", "", nodes.emphasis("", f"Diagram: {alt or 'diagram'}"))
            if isinstance(node.parent, nodes.figure):
                node.replace_self(diagram)
            else:
                figure = nodes.figure("", diagram, classes=["llmdoc-diagram-figure"])
                figure["ids"], figure["names"] = node["ids"], node["names"]
                node.replace_self(figure)
            if not alt:
                warn(
                    "mermaid diagram has no :alt: text; add one or two sentences saying "
                    "what it shows",
                    Warn.DIAGRAM,
                    location=diagram,
                )


def _nearest_location(node: nodes.Node) -> tuple[str | None, int | None]:
    current: nodes.Node | None = node
    while current is not None:
        if current.line:
            return current.source, current.line
        current = current.parent
    return None, None


# -- environment ----------------------------------------------------------------------


def stored_diagrams(env: BuildEnvironment) -> dict[str, list[Occurrence]]:
    """The diagrams of every read document, by docname."""
    store = getattr(env, _STORE, None)
    if store is None:
        store = {}
        setattr(env, _STORE, store)
    return cast("dict[str, list[Occurrence]]", store)


class DiagramCollector(EnvironmentCollector):
    """Remember each document's diagrams, so one batch can render them all."""

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        stored_diagrams(env).pop(docname, None)

    def merge_other(
        self,
        app: Sphinx,
        env: BuildEnvironment,
        docnames: AbstractSet[str],
        other: BuildEnvironment,
    ) -> None:
        theirs = stored_diagrams(other)
        mine = stored_diagrams(env)
        for docname in docnames:
            if docname in theirs:
                mine[docname] = theirs[docname]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        found = [
            Occurrence(app.env.docname, node.line, node["source"], node["origin"])
            for node in doctree.findall(llmdoc_diagram)
        ]
        if found:
            stored_diagrams(app.env)[app.env.docname] = found


def cache_folder(config: Config, srcdir: str | os.PathLike[str]) -> Path:
    """The committed diagram cache: ``llmdoc_diagram_cache`` relative to the source."""
    return Path(srcdir) / str(config.llmdoc_diagram_cache)


def render_command(srcdir: str | os.PathLike[str]) -> str:
    """The command that fills the cache for this project, as the user would type it."""
    path = Path(srcdir)
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        shown = str(path)
    if shown.startswith(".."):
        shown = str(path)
    return f"{mermaid.RENDER_COMMAND} {shown}"


def choose_renderer(config: Config) -> tuple[mermaid.Renderer | None, str]:
    """The renderer ``llmdoc_mermaid_renderer`` asks for, or None and why not."""
    setting = str(config.llmdoc_mermaid_renderer)
    if setting == "never":
        return None, "llmdoc_mermaid_renderer is 'never'"
    if setting == "auto":
        reason = mermaid.unavailable_reason(config.llmdoc_chromium)
        if reason:
            return None, reason
        return mermaid.ChromiumRenderer(config.llmdoc_chromium), ""
    module_name, _, attribute = setting.partition(":")
    try:
        renderer = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        msg = (
            f"llmdoc_mermaid_renderer = {setting!r} cannot be imported ({error}). "
            'Use "auto", "never", or "module:function" naming an importable callable.'
        )
        raise ConfigError(msg) from error
    return cast("mermaid.Renderer", renderer), ""


def prepare_diagrams(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Make sure every diagram has both variants in the cache before writing starts."""
    refresh = bool(app.config.llmdoc_diagram_refresh)
    if app.builder.format != "html" and not refresh:
        return []
    jobs: dict[str, mermaid.Job] = {}
    where: dict[str, list[Occurrence]] = defaultdict(list)
    store = stored_diagrams(env)
    for docname in sorted(store):
        for occurrence in store[docname]:
            for theme in mermaid.THEMES:
                job = mermaid.Job(occurrence.source, theme)
                jobs.setdefault(job.key, job)
                where[job.key].append(occurrence)

    cache = mermaid.DiagramCache(cache_folder(app.config, app.srcdir))
    missing = [job for key, job in jobs.items() if key not in cache]
    if missing:
        _render_missing(app, cache, missing, where)
    _handle_stale(app, cache, set(jobs), refresh)
    return []


def _render_missing(
    app: Sphinx,
    cache: mermaid.DiagramCache,
    missing: list[mermaid.Job],
    where: dict[str, list[Occurrence]],
) -> None:
    renderer, reason = choose_renderer(app.config)
    results: list[mermaid.Rendered] = []
    if renderer is not None:
        started = time.perf_counter()
        try:
            results = mermaid.render_batch(missing, renderer)
        except mermaid.RendererUnavailable as error:
            renderer, reason = None, str(error)
        else:
            logger.info(
                "llmdoc: rendered %d diagram SVGs with mermaid %s in %.1f s",
                len(missing),
                mermaid.MERMAID_VERSION,
                time.perf_counter() - started,
            )
    if renderer is None:
        _fail_missing(app, cache, missing, where, reason)

    reported: set[tuple[str, int | None]] = set()
    for result in results:
        if not result.error:
            cache.put(result.job.key, result.svg)
            continue
        for occurrence in where[result.job.key]:
            if occurrence.location in reported:
                continue  # the light and dark variants fail alike: say it once
            reported.add(occurrence.location)
            warn(
                f"Mermaid cannot render {occurrence.describe()}: {result.error}",
                Warn.DIAGRAM,
                location=occurrence.location,
            )


def _fail_missing(
    app: Sphinx,
    cache: mermaid.DiagramCache,
    missing: list[mermaid.Job],
    where: dict[str, list[Occurrence]],
    reason: str,
) -> None:
    command = render_command(app.srcdir)
    places = sorted(
        {o for job in missing for o in where[job.key]},
        key=lambda o: (o.docname, o.line or 0),
    )
    for occurrence in places:
        logger.error(
            "%s has no cached SVG in %s and cannot be rendered here (%s); run: %s",
            occurrence.describe(),
            cache.folder,
            reason,
            command,
            location=occurrence.location,
        )
    msg = (
        f"{len(places)} diagram(s) have no cached SVG in {cache.folder}, and this machine "
        f"cannot render them ({reason}). Run\n\n    {command}\n\n"
        "where Chromium and npm are installed, then commit the new files in the cache folder."
    )
    raise DiagramCacheMissing(msg)


def _handle_stale(app: Sphinx, cache: mermaid.DiagramCache, used: set[str], refresh: bool) -> None:
    stale = cache.stale(used)
    if not stale:
        return
    if refresh:
        cache.prune(used)
        logger.info("llmdoc: removed %d stale diagram SVGs from %s", len(stale), cache.folder)
        return
    names = ", ".join(p.name for p in stale[:3]) + (" ..." if len(stale) > 3 else "")
    warn(
        f"{len(stale)} cached diagram SVG(s) belong to no diagram any more ({names}); "
        f"`{render_command(app.srcdir)}` removes them",
        Warn.DIAGRAM,
        # A location with no line, the way Sphinx writes one for a whole file.
        location=f"{cache.folder}:",
    )


# -- writing --------------------------------------------------------------------------


class InlineDiagrams(SphinxPostTransform):
    """Put the cached SVG variants of each diagram into the HTML doctree."""

    default_priority = 400
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        cache = mermaid.DiagramCache(cache_folder(self.config, self.env.srcdir))
        seen: Counter[str] = Counter()
        for node in self.document.findall(llmdoc_diagram):
            label = node["alt"] or _caption_text(node) or "Diagram"
            variants: dict[str, str] = {}
            for theme in mermaid.THEMES:
                key = mermaid.cache_key(node["source"], theme)
                svg = cache.get(key)
                if svg is None:
                    break
                seen[key] += 1
                variants[theme] = mermaid.inline_svg(svg, label, seen[key])
            else:
                node["html"] = diagram_html(variants)
                continue
            node["html"] = failed_html(node["source"], label)


def _caption_text(node: nodes.Element) -> str:
    figure = node.parent
    if isinstance(figure, nodes.figure):
        for child in figure.children:
            if isinstance(child, nodes.caption):
                return " ".join(child.astext().split())
    return ""


def diagram_html(variants: dict[str, str]) -> str:
    """Both variants, each in a wrapper the stylesheet shows or hides by colour scheme."""
    parts = [
        f'<div class="llmdoc-diagram-{theme}">{svg.rstrip()}</div>'
        for theme, svg in variants.items()
    ]
    return f'<div class="llmdoc-diagram">{"".join(parts)}</div>\n'


def failed_html(source: str, label: str) -> str:
    """What stands in for a diagram Mermaid could not render: the text and the source."""
    return (
        '<div class="llmdoc-diagram llmdoc-diagram-failed">'
        f"<p>{html.escape(label)}</p>"
        "<p>This diagram could not be rendered; its Mermaid source follows.</p>"
        f"<pre>{html.escape(source)}</pre></div>\n"
    )


def visit_diagram_html(translator: Any, node: llmdoc_diagram) -> None:
    """Inline the variants the post-transform prepared."""
    markup = node.get("html")
    if markup:
        # One translator writes one page (the whole book under singlehtml): the set of
        # diagram stylesheets already on the page lives with it.
        seen: set[str] = translator.__dict__.setdefault("llmdoc_diagram_styles", set())
        translator.body.append(mermaid.share_styles(markup, seen))
    else:
        translator.body.append(failed_html(node["source"], node["alt"]))
    raise nodes.SkipNode


def _visit_plain(translator: Any, node: llmdoc_diagram) -> None:
    """Other builders print the node's child: the text alternative."""


def _depart_plain(translator: Any, node: llmdoc_diagram) -> None:
    pass


# -- configuration and assets ---------------------------------------------------------

_NO_SCRIPT_FORMAT = "svg"


def silence_mermaid_script(app: Sphinx, config: Config) -> None:
    """Keep sphinxcontrib-mermaid from adding its view-time (CDN) script to pages.

    It adds the script only for its ``raw`` output format; every diagram is rendered
    here at build time, so no page needs it.
    """
    config.mermaid_output_format = _NO_SCRIPT_FORMAT


def add_diagram_css(app: Sphinx) -> None:
    """The stylesheet that picks the variant matching furo's colour scheme."""
    if isinstance(app.builder, StandaloneHTMLBuilder):
        app.add_css_file("llmdoc-diagram.css", priority=650)
