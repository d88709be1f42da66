"""Sphinx extension that turns a book into one self-contained, offline HTML file."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

__version__ = "0.1.0"

#: Bumped whenever data this extension stores in the environment changes shape.
ENV_VERSION = 4


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the extension; the real wiring lives in :mod:`sphinx_llmdoc.extension`."""
    from sphinx_llmdoc.extension import setup_extension

    setup_extension(app)
    return {
        "version": __version__,
        "env_version": ENV_VERSION,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
