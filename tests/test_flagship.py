"""The flagship book builds cleanly, in parallel too, into one audited file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sphinx_llmdoc.collapse import audit

DOCS = Path(__file__).parent.parent / "docs"
NAME = "llm-chatbot-documentation.html"


def build(outdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "singlehtml",
            "-W",
            "--keep-going",
            "-q",
            *args,
            str(DOCS),
            str(outdir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_flagship_builds_warning_free_and_identically_with_j2(tmp_path: Path) -> None:
    serial = build(tmp_path / "j1", "-j", "1")
    assert serial.returncode == 0, serial.stderr
    parallel = build(tmp_path / "j2", "-j", "2")
    assert parallel.returncode == 0, parallel.stderr
    single = (tmp_path / "j1" / NAME).read_text("utf-8")
    assert audit(single) == []
    assert single == (tmp_path / "j2" / NAME).read_text("utf-8")
