"""The quota report: per-section targets against what was written, for the whole book.

No Sphinx import: :mod:`sphinx_llmdoc.quota` collects :class:`DocRecord` objects while
reading, and this module orders them, rolls toctree-included documents into the
sections that include them, and renders the result as JSON, a console table and a
docutils table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docutils import nodes

from sphinx_llmdoc.wordcount import Stats

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: Bumped when the JSON report changes shape.
REPORT_VERSION = 1
REPORT_FILENAME = "llmdoc-report.json"
_MEASURES = ("words", "examples", "diagrams")


@dataclass(frozen=True)
class Target:
    """What a ``quota`` asks for; ``None`` where it asks nothing."""

    words: int
    examples: int | None = None
    diagrams: int | None = None

    def get(self, measure: str) -> int | None:
        """The target for ``"words"``, ``"examples"`` or ``"diagrams"``."""
        value: int | None = getattr(self, measure)
        return value


@dataclass
class QuotaRecord:
    """One ``quota`` directive and what its section holds, as read from one document."""

    docname: str
    section_id: str
    title: str
    line: int | None
    target: Target
    #: The section's own subtree (subsections included, toctree'd documents not).
    stats: Stats
    #: The innermost enclosing quota'd section of the same document, by :attr:`key`.
    parent: str | None = None
    #: Documents listed by toctrees inside the section; their content counts here too.
    includes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``docname#section-id``: unique per quota, stable across builds."""
        return f"{self.docname}#{self.section_id}"


@dataclass
class DocRecord:
    """Everything the quota feature keeps about one document."""

    stats: Stats
    quotas: list[QuotaRecord] = field(default_factory=list)
    has_report: bool = False
    #: Code blocks by provenance: (included from the tested examples tree,
    #: longer than the inline limit but written inline, short and inline).
    provenance: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class Row:
    """One quota'd section in the report, with toctree'd documents rolled in."""

    record: QuotaRecord
    actual: Stats
    depth: int
    parent: str | None

    @property
    def shortfalls(self) -> list[tuple[str, int, int]]:
        """``(measure, actual, target)`` for every measure below its target."""
        found = []
        for measure in _MEASURES:
            target = self.record.target.get(measure)
            actual = int(getattr(self.actual, measure))
            if target is not None and actual < target:
                found.append((measure, actual, target))
        return found

    @property
    def status(self) -> str:
        """``"ok"`` or ``"short"``."""
        return "short" if self.shortfalls else "ok"

    def describe_shortfall(self) -> str:
        """A sentence naming what is missing, for warnings."""
        parts = [
            f"{actual:,} of {target:,} {measure}" for measure, actual, target in self.shortfalls
        ]
        return f"section {self.record.title!r} is short of its quota: " + ", ".join(parts)


@dataclass(frozen=True)
class Report:
    """The whole book's report, in reading order."""

    rows: list[Row]
    documents: dict[str, Stats]
    provenance: tuple[int, int, int] = (0, 0, 0)
    """Book-wide (tested, untested long, short inline) code blocks."""

    @property
    def provenance_json(self) -> dict[str, Any]:
        """Tested versus untested code blocks, and the share of long blocks that are tested."""
        tested, untested, short = self.provenance
        long_blocks = tested + untested
        return {
            "tested": tested,
            "untested_long": untested,
            "short_inline": short,
            "tested_share_of_long": round(tested / long_blocks, 4) if long_blocks else 1.0,
        }

    @property
    def totals(self) -> Stats:
        """Every document of the book together."""
        total = Stats()
        for stats in self.documents.values():
            total = total + stats
        return total

    @property
    def target_words(self) -> int:
        """Word targets of the outermost quotas: nested ones are already inside them."""
        return sum(row.record.target.words for row in self.rows if row.parent is None)

    def as_json(self) -> dict[str, Any]:
        """The content of ``llmdoc-report.json``."""
        totals = self.totals.as_json()
        totals.update(
            target_words=self.target_words,
            sections=len(self.rows),
            short=sum(1 for row in self.rows if row.status == "short"),
            code_provenance=self.provenance_json,
        )
        return {
            "version": REPORT_VERSION,
            "sections": [_row_json(row) for row in self.rows],
            "documents": {name: stats.as_json() for name, stats in self.documents.items()},
            "totals": totals,
        }


def reading_order(
    root: str, includes: Mapping[str, Sequence[str]], docs: Iterable[str]
) -> list[str]:
    """Documents in the order a reader meets them: the toctree from *root*, then the rest."""
    order: list[str] = []
    seen: set[str] = set()
    stack = [root]
    while stack:
        docname = stack.pop()
        if docname in seen:
            continue
        seen.add(docname)
        order.append(docname)
        stack.extend(reversed(includes.get(docname, ())))
    known = set(docs)
    return [d for d in order if d in known] + sorted(known - seen)


def build_report(
    records: Mapping[str, DocRecord], root: str, includes: Mapping[str, Sequence[str]]
) -> Report:
    """Order *records* for reading and roll toctree'd documents into their sections."""
    order = reading_order(root, includes, records)
    rolled: dict[str, Stats] = {}

    def doc_total(docname: str, path: frozenset[str]) -> Stats:
        """A document plus everything its toctrees pull in, cycles cut."""
        if docname in rolled:
            return rolled[docname]
        record = records.get(docname)
        total = record.stats if record else Stats()
        for child in includes.get(docname, ()):
            if child not in path:
                total = total + doc_total(child, path | {child})
        rolled[docname] = total
        return total

    # Which quota'd section (or failing that, which document) brings each document in.
    owner: dict[str, str] = {}
    includer: dict[str, str] = {}
    for docname in order:
        for child in includes.get(docname, ()):
            includer.setdefault(child, docname)
        for quota in records[docname].quotas:
            for child in quota.includes:
                owner[child] = quota.key  # later quotas are nested deeper: innermost wins

    def doc_owner(docname: str) -> str | None:
        seen = {docname}
        while docname not in owner:
            parent = includer.get(docname)
            if parent is None or parent in seen:
                return None
            seen.add(parent)
            docname = parent
        return owner[docname]

    parents: dict[str, str | None] = {}
    rows: list[Row] = []
    for docname in order:
        for quota in records[docname].quotas:
            parent = quota.parent if quota.parent is not None else doc_owner(docname)
            parents[quota.key] = parent
            actual = quota.stats
            for child in quota.includes:
                actual = actual + doc_total(child, frozenset({docname, child}))
            rows.append(Row(quota, actual, _depth(quota.key, parents), parent))
    provenance = tuple(sum(records[d].provenance[i] for d in order) for i in range(3))
    return Report(
        rows, {d: records[d].stats for d in order}, (provenance[0], provenance[1], provenance[2])
    )


def _depth(key: str, parents: Mapping[str, str | None]) -> int:
    depth, seen = 0, {key}
    parent = parents.get(key)
    while parent is not None and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = parents.get(parent)
    return depth


def _row_json(row: Row) -> dict[str, Any]:
    record = row.record
    return {
        "key": record.key,
        "docname": record.docname,
        "id": record.section_id,
        "title": record.title,
        "line": record.line,
        "depth": row.depth,
        "parent": row.parent,
        "target": {m: record.target.get(m) for m in _MEASURES},
        "actual": row.actual.as_json(),
        "status": row.status,
        "shortfalls": [m for m, _, _ in row.shortfalls],
    }


def _ratio(actual: int, target: int | None) -> str:
    """``actual/target``, or just the actual number where nothing was asked for."""
    return f"{actual:,}" if target is None else f"{actual:,}/{target:,}"


def console_lines(report: Report, width: int = 44) -> list[str]:
    """The report as an aligned plain-text table, one string per line."""
    header = ("section", "words", "examples", "diagrams", "status")
    table = [header]
    for row in report.rows:
        title = "  " * row.depth + row.record.title
        if len(title) > width:
            title = title[: width - 1] + "\u2026"
        target = row.record.target
        table.append(
            (
                title,
                _ratio(row.actual.words, target.words),
                _ratio(row.actual.examples, target.examples),
                _ratio(row.actual.diagrams, target.diagrams),
                row.status,
            )
        )
    totals = report.totals
    table.append(
        (
            "total",
            _ratio(totals.words, report.target_words),
            str(totals.examples),
            str(totals.diagrams),
            "",
        )
    )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for line in table:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def as_table(report: Report) -> nodes.table:
    """The report as a docutils table, for the ``llmdoc-report`` directive."""
    header = ("Section", "Words", "Target", "Examples", "Diagrams", "Deep-dives", "Status")
    body = []
    for row in report.rows:
        target = row.record.target
        body.append(
            (
                "\u2003" * row.depth + row.record.title,
                f"{row.actual.words:,}",
                f"{target.words:,}",
                _ratio(row.actual.examples, target.examples),
                _ratio(row.actual.diagrams, target.diagrams),
                str(row.actual.deep_dives),
                row.status,
            )
        )
    totals = report.totals
    body.append(
        (
            "Whole book",
            f"{totals.words:,}",
            f"{report.target_words:,}",
            str(totals.examples),
            str(totals.diagrams),
            str(totals.deep_dives),
            "",
        )
    )
    return _table(header, body)


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> nodes.table:
    # Plain-text writers read colwidth as characters; HTML sizes the columns itself.
    table = nodes.table(classes=["llmdoc-report", "colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for index in range(len(header)):
        longest = max(len(cells[index]) for cells in [header, *body])
        group += nodes.colspec(colwidth=min(max(longest, 4), 48 if index == 0 else 12))
    group += nodes.thead("", _table_row(header))
    group += nodes.tbody("", *(_table_row(cells) for cells in body))
    return table


def _table_row(cells: Sequence[str]) -> nodes.row:
    row = nodes.row()
    for text in cells:
        row += nodes.entry("", nodes.paragraph(text, text))
    return row
