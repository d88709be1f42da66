"""The project tree chapter 3 prints is the real one: rendered from the files, compared
with ``docs/examples/backend/LAYOUT.txt``. Regenerate with ``UPDATE_LAYOUT=1``.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from conftest import BACKEND

LAYOUT = BACKEND / "LAYOUT.txt"
EXPANDED = {"api", "db", "middleware", "streaming", "tasks"}  # the packages chapter 3 teaches
FILES = {
    "alembic.ini": "Alembic configuration; the URL comes from CHATBOT_DATABASE_URL",
    "migrations": "Alembic environment and revisions 0001 to 0003",
    "openapi.json": "The generated API contract, checked against the code by a test",
    "pyproject.toml": "Package metadata, dependency ranges, ruff and mypy settings",
    "requirements.lock": "Exact versions the image and CI install",
    "sql": "Hand-written DDL of the first schema, kept for review",
    "tests": "Chapter 3's test suites, run from tests/examples with its fixtures",
    "config": "Model catalog and prices (chapters 5 and 11)",
}
WIDTH = 28


def summary(path: Path) -> str:
    """First sentence of a module's (or package's) docstring, at most 68 characters."""
    source = path / "__init__.py" if path.is_dir() else path
    doc = ast.get_docstring(ast.parse(source.read_text())) or ""
    doc = re.sub(r":\w+:`([^`]*)`", r"\1", doc).replace("``", "")  # reST markup to text
    first = doc.split("\n\n")[0].replace("\n", " ").split(": ")[0].split(". ")[0].rstrip(".")
    return first if len(first) <= 68 else first[:67].rstrip() + "…"


def line(depth: int, name: str, text: str) -> str:
    label = "    " * depth + name
    return f"{label:<{WIDTH}} {text}".rstrip()


def render(only: set[str] | None = None) -> str:
    """The tree; *only* limits the entries directly under ``chatbot/`` to those names."""
    lines = ["docs/examples/backend/"]
    for name in sorted(FILES):
        suffix = "/" if (BACKEND / name).is_dir() else ""
        lines.append(line(1, name + suffix, FILES[name]))
    lines.append(line(1, "chatbot/", summary(BACKEND / "chatbot")))
    package = BACKEND / "chatbot"
    for entry in sorted(package.iterdir()):
        if entry.name.startswith(("_", ".")) or entry.suffix not in {"", ".py"}:
            continue
        if only is not None and entry.name not in only:
            continue
        if entry.is_dir() and (entry / "__init__.py").exists():
            lines.append(line(2, entry.name + "/", summary(entry)))
            if entry.name in EXPANDED:
                for module in sorted(entry.glob("*.py")):
                    if module.name != "__init__.py":
                        lines.append(line(3, module.name, summary(module)))
        elif entry.suffix == ".py":
            lines.append(line(2, entry.name, summary(entry)))
    return "\n".join(lines) + "\n"


def test_the_printed_layout_is_the_real_one() -> None:
    """Every line printed is true, and the packages chapter 3 teaches are complete.

    Packages other chapters add later are simply not printed until it is regenerated.
    """
    printed = LAYOUT.read_text(encoding="utf-8") if LAYOUT.exists() else ""
    names = {
        text.strip().split()[0].rstrip("/")
        for text in printed.splitlines()
        if text.startswith(" " * 8) and not text.startswith(" " * 12)
    }
    rendered = render(None if os.environ.get("UPDATE_LAYOUT") == "1" else names)
    if os.environ.get("UPDATE_LAYOUT") == "1":
        LAYOUT.write_text(rendered, encoding="utf-8")
    assert LAYOUT.read_text(encoding="utf-8") == rendered, (
        "docs/examples/backend/LAYOUT.txt is stale: rerun with UPDATE_LAYOUT=1"
    )
