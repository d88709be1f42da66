"""The ``llmdoc_*`` configuration values, typed and validated on ``config-inited``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sphinx.errors import ConfigError

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

_FILENAME = re.compile(r"^[\w.-]+\.html$")
#: What a section short of its quota does: nothing, a warning, or a failed build.
QUOTA_SEVERITIES = ("none", "warning", "error")


def setup_config(app: Sphinx) -> None:
    """Declare every ``llmdoc_*`` value and validate them once conf.py is read."""
    app.add_config_value("llmdoc_singlefile_name", "", "html", types=frozenset({str}))
    app.add_config_value("llmdoc_singlefile_budget_kb", 2560, "html", types=frozenset({int}))
    app.add_config_value("llmdoc_require_code_language", True, "env", types=frozenset({bool}))
    # Provenance (checks.py): long code blocks must be included from the tested examples tree.
    app.add_config_value("llmdoc_max_inline_code_lines", 8, "env", types=frozenset({int}))
    app.add_config_value("llmdoc_examples_dir", "examples", "env", types=frozenset({str}))
    # Severity only changes what the report does, so it never forces a re-read.
    app.add_config_value("llmdoc_quota_severity", "warning", "", types=frozenset({str}))
    # Diagrams (sphinx_llmdoc.diagram): none of these changes what is read, so no re-read.
    app.add_config_value("llmdoc_diagram_cache", "_diagrams", "", types=frozenset({str}))
    app.add_config_value("llmdoc_mermaid_renderer", "auto", "", types=frozenset({str}))
    app.add_config_value("llmdoc_chromium", "/usr/bin/chromium", "", types=frozenset({str}))
    app.add_config_value("llmdoc_diagram_refresh", False, "", types=frozenset({bool}))
    app.connect("config-inited", validate_config)


def validate_config(app: Sphinx, config: Config) -> None:
    """Fail early, with a fix, on values that would break the build later."""
    validate_diagram_config(config)
    severity = config.llmdoc_quota_severity
    if severity not in QUOTA_SEVERITIES:
        msg = (
            f"llmdoc_quota_severity = {severity!r} is not one of "
            f'{", ".join(repr(s) for s in QUOTA_SEVERITIES)}. Use "warning" to be told about '
            'short sections, "error" to fail the build on them, "none" for the report only.'
        )
        raise ConfigError(msg)
    name = config.llmdoc_singlefile_name
    if name and not _FILENAME.match(name):
        msg = (
            f"llmdoc_singlefile_name = {name!r} is not a plain file name ending in .html. "
            'Use something like "book.html"; the file is written into the output directory.'
        )
        raise ConfigError(msg)
    if name == f"{config.root_doc}.html":
        msg = (
            f"llmdoc_singlefile_name = {name!r} would overwrite the page Sphinx writes for "
            f"root_doc {config.root_doc!r}. Choose another name."
        )
        raise ConfigError(msg)
    if config.llmdoc_max_inline_code_lines < 0:
        msg = (
            "llmdoc_max_inline_code_lines must be 0 or more: the longest code block, in lines, "
            "that may be written inline instead of included from llmdoc_examples_dir."
        )
        raise ConfigError(msg)
    if not config.llmdoc_examples_dir.strip():
        msg = (
            'llmdoc_examples_dir is empty. Name the folder of tested examples, e.g. "examples" '
            "(relative to the source directory); long code blocks must be included from it."
        )
        raise ConfigError(msg)
    if config.llmdoc_singlefile_budget_kb <= 0:
        msg = "llmdoc_singlefile_budget_kb must be a positive number of kilobytes."
        raise ConfigError(msg)


def singlefile_name(config: Config) -> str:
    """The name of the collapsed file: the configured one, or ``<root_doc>-single.html``."""
    return str(config.llmdoc_singlefile_name) or f"{config.root_doc}-single.html"


_RENDERER = re.compile(r"^(auto|never|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")


def validate_diagram_config(config: Config) -> None:
    """The diagram cache folder and renderer settings."""
    if not str(config.llmdoc_diagram_cache).strip():
        msg = (
            "llmdoc_diagram_cache is empty. Name the folder, relative to the source "
            'directory, where rendered diagrams are kept and committed: "_diagrams".'
        )
        raise ConfigError(msg)
    renderer = config.llmdoc_mermaid_renderer
    if not _RENDERER.match(renderer):
        msg = (
            f'llmdoc_mermaid_renderer = {renderer!r} is not understood. Use "auto" (render '
            'missing diagrams with Chromium when it is installed), "never" (use only the '
            'cache), or "module:function" naming a renderer callable.'
        )
        raise ConfigError(msg)
