"""Generate the benchmark's fixture book: deterministic, plausible, and buildable by plain Sphinx.

Twelve MyST chapters of about 8,300 words each (about 100k in all), 72 code blocks in
ten languages, 17 Mermaid diagrams, labels referenced from other chapters with
``{ref}`` and ``chapter-NN.md#anchor`` links, and the same section names ("Overview",
"Configuration", "Summary", ...) in every chapter, which is what makes ids collide in
one page. The prose is filler from a seeded generator: the same seed writes the same
bytes, so timings compare like with like across runs and machines.

Only standard MyST, sphinx-design and sphinxcontrib-mermaid syntax is used, so the
same sources build with and without ``sphinx_llmdoc``: ``write_book`` also writes one
configuration directory per variant, for ``sphinx-build -c``.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path

SEED = 20240607
CHAPTERS = 12
SECTIONS_PER_CHAPTER = 6
SUBSECTIONS_PER_SECTION = 4
PARAGRAPHS_PER_SUBSECTION = 5
CODE_BLOCKS_PER_CHAPTER = 6
#: Diagrams per chapter: two in the first five chapters, one in the rest, 17 in all.
DIAGRAMS = [2] * 5 + [1] * 7

TOPICS = [
    "Architecture",
    "Request Routing",
    "Prompt Assembly",
    "Retrieval",
    "Streaming",
    "Caching",
    "Rate Limiting",
    "Evaluation",
    "Observability",
    "Security",
    "Deployment",
    "Cost Control",
]
#: Section names every chapter repeats, so their slugs collide across chapters.
REPEATED_SECTIONS = ["Overview", "Configuration", "Examples", "Pitfalls"]
SUBSECTION_NAMES = [
    "Design",
    "Failure Modes",
    "Trade-offs",
    "Testing",
    "Operations",
    "Limits",
    "Migration",
    "Checklist",
]

NOUNS = [
    "request",
    "token budget",
    "context window",
    "retry policy",
    "queue",
    "worker",
    "embedding",
    "vector index",
    "cache entry",
    "session",
    "tenant",
    "provider",
    "stream",
    "chunk",
    "prompt template",
    "model router",
    "fallback",
    "trace",
    "metric",
    "alert",
    "deployment",
    "replica",
    "shard",
    "connection pool",
    "rate limiter",
    "circuit breaker",
    "payload",
    "schema",
    "migration",
    "rollout",
    "transcript",
    "moderation filter",
    "guardrail",
    "evaluation set",
    "latency budget",
    "feature flag",
    "secret",
    "audit log",
    "backpressure signal",
    "heartbeat",
]
VERBS = [
    "bounds",
    "validates",
    "routes",
    "batches",
    "retries",
    "caches",
    "streams",
    "measures",
    "throttles",
    "serialises",
    "rejects",
    "replays",
    "compacts",
    "annotates",
    "partitions",
    "rotates",
    "drains",
    "warms",
    "summarises",
    "tracks",
]
ADJECTIVES = [
    "idempotent",
    "bounded",
    "stale",
    "cold",
    "warm",
    "partial",
    "noisy",
    "slow",
    "expensive",
    "cheap",
    "degraded",
    "healthy",
    "sticky",
    "stateless",
    "durable",
    "ephemeral",
    "deterministic",
    "observable",
    "versioned",
    "regional",
]
ADVERBS = [
    "quietly",
    "eagerly",
    "lazily",
    "predictably",
    "safely",
    "rarely",
    "always",
    "usually",
    "explicitly",
    "gradually",
]
CONNECTIVES = [
    "so that",
    "because",
    "unless",
    "while",
    "before",
    "after",
    "whenever",
    "even when",
]
OPENERS = [
    "In practice,",
    "Under load,",
    "In the first release,",
    "For a single tenant,",
    "At scale,",
    "During an incident,",
    "In staging,",
    "By default,",
    "In our tests,",
    "For long conversations,",
]

LANGUAGES = [
    "python",
    "typescript",
    "bash",
    "yaml",
    "json",
    "sql",
    "go",
    "rust",
    "toml",
    "javascript",
]
DIAGRAM_KINDS = ["flowchart", "sequence", "state", "class", "er"]


@dataclass(frozen=True)
class Book:
    """What ``write_book`` wrote, for the runner's report."""

    source: Path
    confdirs: dict[str, Path]
    chapters: list[Path]
    words: int
    code_blocks: int
    languages: int
    diagrams: int


def slug(text: str) -> str:
    """MyST's heading slug for *text* (lower case, spaces to hyphens)."""
    return re.sub(r"[^\w\- ]", "", text).strip().lower().replace(" ", "-")


class Writer:
    """Seeded prose, code and diagram generator for one book."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def sentence(self) -> str:
        rng = self.rng
        subject = f"the {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        clause = f"{subject} {self.pick(VERBS)} each {self.pick(NOUNS)}"
        if rng.random() < 0.6:
            clause += (
                f" {self.pick(CONNECTIVES)} the {self.pick(NOUNS)} {self.pick(VERBS)}"
                f" {self.pick(ADVERBS)} every {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
            )
        if rng.random() < 0.3:
            clause = f"{self.pick(OPENERS)} {clause}"
        if rng.random() < 0.15:
            clause += (
                f", and `{slug(self.pick(NOUNS)).replace('-', '_')}` stays {self.pick(ADJECTIVES)}"
            )
        return clause[0].upper() + clause[1:] + "."

    def paragraph(self, sentences: int | None = None) -> str:
        count = sentences or self.rng.randint(4, 6)
        return " ".join(self.sentence() for _ in range(count))

    def items(self, count: int) -> str:
        return "\n".join(
            f"- **{self.pick(NOUNS).capitalize()}**: {self.sentence()}" for _ in range(count)
        )

    def table(self) -> str:
        rows = [
            f"| {self.pick(NOUNS)} | {self.rng.randint(5, 950)} ms | {self.pick(ADJECTIVES)} |"
            for _ in range(5)
        ]
        return "\n".join(["| Component | p95 latency | State |", "|---|---|---|", *rows])

    def code(self, language: str, index: int) -> str:
        name = slug(self.pick(NOUNS)).replace("-", "_")
        limit = self.rng.randint(2, 64)
        timeout = self.rng.randint(1, 30)
        return CODE_TEMPLATES[language].format(name=name, limit=limit, timeout=timeout, n=index)

    def diagram(self, kind: str, index: int) -> str:
        a, b, c, d = (self.pick(NOUNS).title().replace(" ", "") for _ in range(4))
        extra = self.rng.randint(3, 6)
        if kind == "flowchart":
            lines = [
                "flowchart LR",
                f"  A[{a}] --> B{{{b} ok?}}",
                f"  B -->|yes| C[{c}]",
                f"  B -->|no| D[{d}]",
            ]
            lines += [f"  C --> N{i}[{self.pick(NOUNS)} {i}]" for i in range(extra)]
            lines += [f"  N{i} --> D" for i in range(0, extra, 2)]
        elif kind == "sequence":
            lines = [
                "sequenceDiagram",
                f"  participant U as {a}",
                f"  participant S as {b}",
                f"  participant P as {c}",
            ]
            for i in range(extra):
                lines += [
                    f"  U->>S: {self.pick(VERBS)} {self.pick(NOUNS)} {i}",
                    f"  S->>P: {self.pick(VERBS)} {self.pick(NOUNS)}",
                    f"  P-->>S: {self.pick(ADJECTIVES)} {self.pick(NOUNS)}",
                ]
            lines.append("  S-->>U: done")
        elif kind == "state":
            states = [f"S{i}" for i in range(extra)]
            lines = ["stateDiagram-v2", f"  [*] --> {states[0]}"]
            lines += [f"  {s} --> {t}: {self.pick(VERBS)}" for s, t in itertools.pairwise(states)]
            lines += [f"  {states[-1]} --> [*]", f"  {states[1]} --> {states[0]}: retry"]
        elif kind == "class":
            lines = ["classDiagram"]
            for name in (a, b, c, d):
                lines += [
                    f"  class {name} {{",
                    f"    +{slug(self.pick(NOUNS)).replace('-', '_')}: str",
                    f"    +{self.pick(VERBS)}() bool",
                    "  }",
                ]
            lines += [f"  {a} <|-- {b}", f"  {a} *-- {c}", f"  {c} --> {d}"]
        else:
            lines = [
                "erDiagram",
                f"  {a.upper()} ||--o{{ {b.upper()} : has",
                f"  {b.upper()} ||--|{{ {c.upper()} : contains",
                f"  {a.upper()} {{",
                "    string id",
                "    int version",
                "  }",
                f"  {c.upper()} {{",
                "    string id",
                f"    int n{index}",
                "  }",
            ]
        return "\n".join(lines)


CODE_TEMPLATES = {
    "python": '''\
import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class {name}_settings:
    limit: int = {limit}
    timeout_s: float = {timeout}.0


async def handle_{name}(queue: asyncio.Queue[str], settings: {name}_settings) -> list[str]:
    """Drain up to ``settings.limit`` items, waiting at most ``timeout_s`` for each."""
    taken: list[str] = []
    while len(taken) < settings.limit:
        try:
            item = await asyncio.wait_for(queue.get(), settings.timeout_s)
        except TimeoutError:
            break
        taken.append(item)
    return taken  # example {n}''',
    "typescript": """\
export interface {name}Options {{
  limit: number;
  timeoutMs: number;
}}

export async function fetch_{name}(url: string, opts: {name}Options): Promise<string[]> {{
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  try {{
    const response = await fetch(url, {{ signal: controller.signal }});
    const items: string[] = await response.json();
    return items.slice(0, opts.limit); // example {n}
  }} finally {{
    clearTimeout(timer);
  }}
}}""",
    "bash": '''\
#!/usr/bin/env bash
set -euo pipefail
# example {n}: warm the {name} cache before traffic arrives
for i in $(seq 1 {limit}); do
  curl --silent --max-time {timeout} "http://localhost:8000/{name}/$i" > /dev/null
done
echo "warmed {limit} {name} entries"''',
    "yaml": """\
# example {n}
{name}:
  limit: {limit}
  timeout_seconds: {timeout}
  retry:
    attempts: 3
    backoff: exponential
  regions:
    - eu-west-1
    - us-east-1""",
    "json": """\
{{
  "example": {n},
  "{name}": {{
    "limit": {limit},
    "timeout_seconds": {timeout},
    "fallbacks": ["primary", "secondary"],
    "enabled": true
  }}
}}""",
    "sql": """\
-- example {n}
CREATE TABLE IF NOT EXISTS {name} (
    id BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    payload JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS {name}_tenant ON {name} (tenant_id, created_at DESC);
SELECT tenant_id, count(*) FROM {name} GROUP BY tenant_id ORDER BY 2 DESC LIMIT {limit};""",
    "go": """\
package main

import (
	"context"
	"time"
)

// Drain{n} takes up to {limit} items from the {name} channel.
func Drain{n}(ctx context.Context, in <-chan string) []string {{
	ctx, cancel := context.WithTimeout(ctx, {timeout}*time.Second)
	defer cancel()
	out := make([]string, 0, {limit})
	for len(out) < {limit} {{
		select {{
		case item := <-in:
			out = append(out, item)
		case <-ctx.Done():
			return out
		}}
	}}
	return out
}}""",
    "rust": """\
use std::time::Duration;

/// Settings for the {name} worker (example {n}).
pub struct Settings {{
    pub limit: usize,
    pub timeout: Duration,
}}

impl Default for Settings {{
    fn default() -> Self {{
        Self {{ limit: {limit}, timeout: Duration::from_secs({timeout}) }}
    }}
}}""",
    "toml": '''\
# example {n}
[{name}]
limit = {limit}
timeout_seconds = {timeout}

[{name}.retry]
attempts = 3
backoff = "exponential"''',
    "javascript": """\
// example {n}
export function debounce_{name}(fn, waitMs = {timeout}0) {{
  let timer = null;
  return (...args) => {{
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  }};
}}""",
}


def _label(chapter: int, name: str) -> str:
    return f"ch{chapter:02d}-{slug(name)}"


def chapter_text(writer: Writer, chapter: int, counters: dict[str, int]) -> str:
    """One chapter of MyST: sections, prose, code, diagrams, design blocks and references."""
    topic = TOPICS[chapter - 1]
    other = (chapter % CHAPTERS) + 1  # the next chapter, wrapping around
    previous = ((chapter - 2) % CHAPTERS) + 1
    out = [f"({_label(chapter, 'top')})=", f"# {chapter}. {topic}", "", writer.paragraph(), ""]
    out += [
        f"This chapter builds on {{ref}}`{_label(previous, 'top')}` and prepares "
        f"{{ref}}`the configuration of the next one <{_label(other, 'configuration')}>`.",
        "",
    ]

    names = [*REPEATED_SECTIONS[:2], f"{topic} in Depth", *REPEATED_SECTIONS[2:], "Summary"]
    code_slots = set(range(CODE_BLOCKS_PER_CHAPTER))
    diagrams_left = DIAGRAMS[chapter - 1]
    block = 0
    for s, name in enumerate(names):
        out += [f"({_label(chapter, name)})=", f"## {name}", "", writer.paragraph(), ""]
        if name == "Summary":
            out += [writer.items(5), "", writer.paragraph(3), ""]
            continue
        subsections = SUBSECTIONS_PER_SECTION
        for sub in range(subsections):
            title = SUBSECTION_NAMES[(s * subsections + sub) % len(SUBSECTION_NAMES)]
            out += [f"### {title}", ""]
            for p in range(PARAGRAPHS_PER_SUBSECTION):
                out += [writer.paragraph(), ""]
                if p == 1 and sub == 0:
                    out += [writer.items(4), ""]
                if p == 2 and sub == 1:
                    target = writer.rng.choice([other, previous])
                    anchor = slug(writer.pick(REPEATED_SECTIONS))
                    out += [
                        f"The same trade-off appears in [chapter {target}]"
                        f"(chapter-{target:02d}.md#{anchor}) and in "
                        f"{{ref}}`{_label(target, 'summary')}`.",
                        "",
                    ]
            if block in code_slots and sub in (0, 2):
                language = LANGUAGES[counters["code"] % len(LANGUAGES)]
                counters["code"] += 1
                out += [f"```{language}", writer.code(language, counters["code"]), "```", ""]
                code_slots.discard(block)
                block += 1
            if diagrams_left and sub == 3 and s in (1, 2):
                kind = DIAGRAM_KINDS[counters["diagram"] % len(DIAGRAM_KINDS)]
                counters["diagram"] += 1
                diagrams_left -= 1
                alt = f"A {kind} diagram of the {topic.lower()} {writer.pick(NOUNS)}."
                body = writer.diagram(kind, counters["diagram"])
                out += ["```{mermaid}", f":alt: {alt}", "", body, "```", ""]
        out += _design_block(writer, chapter, s)
    return "\n".join(out) + "\n"


def _design_block(writer: Writer, chapter: int, section: int) -> list[str]:
    """One sphinx-design or admonition element per section, rotating through the kinds."""
    kind = (chapter + section) % 5
    if kind == 0:
        return [
            "````{tab-set}",
            "```{tab-item} Sync",
            writer.paragraph(2),
            "```",
            "```{tab-item} Async",
            writer.paragraph(2),
            "```",
            "````",
            "",
        ]
    if kind == 1:
        return ["```{dropdown} Why not a simpler design?", writer.paragraph(3), "```", ""]
    if kind == 2:
        return [
            "::::{grid} 2",
            ":::{grid-item-card} Before",
            writer.paragraph(2),
            ":::",
            ":::{grid-item-card} After",
            writer.paragraph(2),
            ":::",
            "::::",
            "",
        ]
    if kind == 3:
        return [writer.table(), ""]
    return ["```{note}", writer.paragraph(2), "```", ""]


INDEX = """\
# Benchmark Fixture Book

A deterministic book for `bench/run.py`: prose, code, diagrams and cross references.

```{{toctree}}
:maxdepth: 2
:numbered:

{chapters}
```
"""

CONF = """\
# Generated by bench/fixture.py for the {variant} variant.
project = "Benchmark Fixture Book"
author = "bench"
copyright = "2024, bench"
root_doc = "index"
extensions = {extensions!r}
html_theme = "furo"
html_title = project
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_ambiguous"]
{extra}"""

VARIANTS = {
    "plain": (
        ["myst_parser", "sphinx_design", "sphinx_copybutton", "sphinxcontrib.mermaid"],
        "",
    ),
    "llmdoc": (
        ["sphinx_llmdoc"],
        'llmdoc_singlefile_name = "book.html"\n'
        "# the fixture's code is inline filler, not a tested examples tree\n"
        "llmdoc_max_inline_code_lines = 1000\n",
    ),
}


def write_book(root: Path, seed: int = SEED) -> Book:
    """Write the fixture under *root*: ``src/`` (the book) and ``conf-<variant>/`` dirs.

    Files are only rewritten when their content changes, so a second call leaves
    mtimes, and so Sphinx's incremental state, alone.
    """
    writer = Writer(seed)
    source = root / "src"
    counters = {"code": 0, "diagram": 0}
    chapters = []
    words = 0
    for chapter in range(1, CHAPTERS + 1):
        text = chapter_text(writer, chapter, counters)
        path = source / "chapters" / f"chapter-{chapter:02d}.md"
        _write(path, text)
        chapters.append(path)
        words += count_prose_words(text)
    listing = "\n".join(f"chapters/chapter-{c:02d}" for c in range(1, CHAPTERS + 1))
    _write(source / "index.md", INDEX.format(chapters=listing))
    confdirs = {}
    for variant, (extensions, extra) in VARIANTS.items():
        confdir = root / f"conf-{variant}"
        _write(
            confdir / "conf.py", CONF.format(variant=variant, extensions=extensions, extra=extra)
        )
        confdirs[variant] = confdir
    return Book(
        source,
        confdirs,
        chapters,
        words,
        counters["code"],
        min(counters["code"], len(LANGUAGES)),
        counters["diagram"],
    )


def count_prose_words(markdown: str) -> int:
    """Words outside fenced code and diagram blocks, roughly what a reader reads."""
    prose = re.sub(r"(?ms)^```[a-z]+\n.*?^```$", "", markdown)
    prose = re.sub(r"(?ms)^```\{mermaid\}\n.*?^```$", "", prose)
    return len(re.findall(r"[A-Za-z][\w'-]*", prose))


def _write(path: Path, text: str) -> None:
    if path.is_file() and path.read_text("utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


if __name__ == "__main__":
    import sys

    book = write_book(Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench/fixture"))
    print(
        f"{book.source}: {book.words} words, {book.code_blocks} code blocks in "
        f"{book.languages} languages, {book.diagrams} diagrams"
    )
