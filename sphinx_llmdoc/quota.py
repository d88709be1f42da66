"""Word-count quotas per section, and the build report that shows which sections fall short.

``quota`` marks the section it sits in with a target; an environment collector measures
every document while it is read (so ``-j`` builds merge per-document data rather than
share state); the report is logged and written as ``llmdoc-report.json`` when the build
finishes, and ``llmdoc-report`` renders it as a table inside the book.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

from sphinx_llmdoc.checks import count_provenance, examples_dir
from sphinx_llmdoc.report import (
    REPORT_FILENAME,
    DocRecord,
    QuotaRecord,
    Report,
    Target,
    as_table,
    build_report,
    console_lines,
)
from sphinx_llmdoc.warnings_ import WARNING_TYPE, Warn, logger, warn
from sphinx_llmdoc.wordcount import measure

if TYPE_CHECKING:
    from collections.abc import Set

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import OptionSpec

#: Where the collector keeps its per-document records on the environment.
_ENV_ATTR = "llmdoc_quota_records"
_NUMBER = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)$")
_EXAMPLE_VALUES = {"words": "2000", "examples": "3", "diagrams": "1"}


class llmdoc_quota(nodes.General, nodes.Element):
    """A section's targets; removed once the collector has read them."""


class llmdoc_report(nodes.General, nodes.Element):
    """Where the report table goes; filled in once every document has been read."""


def setup_quota(app: Sphinx) -> None:
    """Register the directives, the collector and the report."""
    app.add_node(llmdoc_quota)
    app.add_node(llmdoc_report)
    app.add_directive("quota", Quota)
    app.add_directive("llmdoc-report", QuotaReport)
    app.add_env_collector(QuotaCollector)
    app.add_post_transform(FillReport)
    app.connect("env-check-consistency", check_quotas)
    app.connect("build-finished", write_report)


def parse_count(option: str, value: str | None, *, positive: bool) -> int:
    """``"2000"`` or ``"2,000"`` as an int; :class:`ValueError` saying what to write."""
    text = (value or "").strip()
    example = f"`:{option}: {_EXAMPLE_VALUES[option]}`"
    if not _NUMBER.match(text):
        shown = f"`:{option}: {text}`" if text else f"an empty `:{option}:`"
        msg = f"{shown} is not a whole number; write a plain number, e.g. {example}"
        raise ValueError(msg)
    number = int(text.replace(",", ""))
    if positive and number == 0:
        msg = f"`:{option}: 0` asks for nothing; write a positive number, e.g. {example}"
        raise ValueError(msg)
    return number


class Quota(SphinxDirective):
    """``quota``: the targets of the section it is placed in (subsections included)."""

    has_content = False
    # Validated in run() rather than by docutils, so a typo gets a message with the fix.
    option_spec: ClassVar[OptionSpec] = {
        "words": directives.unchanged,
        "examples": directives.unchanged,
        "diagrams": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        if "words" not in self.options:
            msg = (
                "quota needs a word target: add `:words: 2000` "
                "(the prose words this section and its subsections should hold)"
            )
            raise self.error(msg)
        node = llmdoc_quota()
        self.set_source_info(node)
        for option in ("words", "examples", "diagrams"):
            if option not in self.options:
                continue
            try:
                node[option] = parse_count(option, self.options[option], positive=option == "words")
            except ValueError as error:
                raise self.error(str(error)) from None
        return [node]


class QuotaReport(SphinxDirective):
    """``llmdoc-report``: the quota report of the whole book as a table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        node = llmdoc_report()
        self.set_source_info(node)
        return [node]


def records_of(env: BuildEnvironment) -> dict[str, DocRecord]:
    """The collector's per-document records, created empty on first use."""
    records: dict[str, DocRecord] | None = getattr(env, _ENV_ATTR, None)
    if records is None:
        records = {}
        setattr(env, _ENV_ATTR, records)
    return records


def _toctree_docs(node: nodes.Element) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for toctree in node.findall(addnodes.toctree):
        includefiles: list[str] = toctree.get("includefiles", [])
        for docname in includefiles:
            found[docname] = None
    return tuple(found)


def _heading(section: nodes.Element, docname: str) -> tuple[str, str]:
    """(id, title) of *section*; the first heading of a document placed outside any."""
    if isinstance(section, nodes.document):
        first = section.next_node(nodes.section)
        if first is None:
            return "", docname
        section = first
    title = section.next_node(nodes.title)
    ids: list[str] = section.get("ids", [])
    return (ids[0] if ids else ""), (title.astext() if title else docname)


class QuotaCollector(EnvironmentCollector):
    """Measures every document and each quota'd section of it at ``doctree-read``."""

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        records_of(env).pop(docname, None)

    def merge_other(
        self, app: Sphinx, env: BuildEnvironment, docnames: Set[str], other: BuildEnvironment
    ) -> None:
        mine, theirs = records_of(env), records_of(other)
        for docname in docnames:
            if docname in theirs:
                mine[docname] = theirs[docname]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        docname = app.env.docname
        provenance = count_provenance(
            doctree,
            examples_dir(app.srcdir, app.config.llmdoc_examples_dir),
            app.config.llmdoc_max_inline_code_lines,
        )
        record = DocRecord(
            stats=measure(doctree),
            provenance=(provenance.tested, provenance.untested, provenance.short),
        )
        record.has_report = next(doctree.findall(llmdoc_report), None) is not None
        owners: dict[int, QuotaRecord] = {}
        for node in list(doctree.findall(llmdoc_quota)):
            section: nodes.Element = _enclosing_section(node) or doctree
            if id(section) in owners:
                first = owners[id(section)]
                warn(
                    f"this section already has a quota (line {first.line}); keep one of them",
                    Warn.QUOTA,
                    location=node,
                )
                node.parent.remove(node)
                continue
            section_id, title = _heading(section, docname)
            quota = QuotaRecord(
                docname=docname,
                section_id=section_id,
                title=title,
                line=node.line,
                target=Target(node["words"], node.get("examples"), node.get("diagrams")),
                stats=measure(section),
                parent=_enclosing_quota(section, owners),
                includes=_toctree_docs(section),
            )
            owners[id(section)] = quota
            record.quotas.append(quota)
            node.parent.remove(node)
        records_of(app.env)[docname] = record

    def get_outdated_docs(
        self,
        app: Sphinx,
        env: BuildEnvironment,
        added: set[str],
        changed: set[str],
        removed: set[str],
    ) -> list[str]:
        # A report table shows every document: re-read it whenever any of them changes.
        if not (added or changed or removed):
            return []
        return sorted(d for d, r in records_of(env).items() if r.has_report and d not in changed)


def _enclosing_section(node: nodes.Node) -> nodes.section | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.section):
        parent = parent.parent
    return parent


def _enclosing_quota(section: nodes.Element, owners: dict[int, QuotaRecord]) -> str | None:
    parent = section.parent
    while parent is not None:
        if id(parent) in owners:
            return owners[id(parent)].key
        parent = parent.parent
    return None


def report_of(env: BuildEnvironment) -> Report:
    """The whole book's report from the collected records."""
    return build_report(records_of(env), env.config.root_doc, env.toctree_includes)


class FillReport(SphinxPostTransform):
    """Replace each ``llmdoc-report`` placeholder with the table of every document."""

    default_priority = 200

    def run(self, **kwargs: Any) -> None:
        placeholders = list(self.document.findall(llmdoc_report))
        if not placeholders:
            return
        report = report_of(self.env)
        for node in placeholders:
            node.replace_self(as_table(report))


def check_quotas(app: Sphinx, env: BuildEnvironment) -> None:
    """Report each shortfall at its ``quota`` directive, as severity asks."""
    severity = app.config.llmdoc_quota_severity
    if severity == "none":
        return
    for row in report_of(env).rows:
        if not row.shortfalls:
            continue
        location = (row.record.docname, row.record.line)
        message = row.describe_shortfall()
        if severity == "error":
            logger.error(message, type=WARNING_TYPE, subtype=Warn.QUOTA.value, location=location)
        else:
            warn(message, Warn.QUOTA, location=location)


def write_report(app: Sphinx, exception: Exception | None) -> None:
    """Log the report table and write ``llmdoc-report.json`` into the output directory."""
    if exception is not None:
        return
    report = report_of(app.env)
    path = _write_json(app, report)
    tested, untested, inline = report.provenance
    logger.info(
        "llmdoc: code blocks: %d included from tested examples, %d long blocks written inline "
        "(untested), %d short inline snippets",
        tested,
        untested,
        inline,
    )
    if not report.rows:
        return
    short = sum(1 for row in report.rows if row.status == "short")
    logger.info("")
    logger.info("llmdoc quota report: %d of %d sections short", short, len(report.rows))
    for line in console_lines(report):
        logger.info("  %s", line)
    logger.info("llmdoc: report written to %s", path)
    if short and app.config.llmdoc_quota_severity == "error":
        # Errors alone do not change Sphinx's exit status; this does, as linkcheck does.
        app.statuscode = 1


def _write_json(app: Sphinx, report: Report) -> str:
    path = app.outdir / REPORT_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return str(path)
