"""One warning type, ``llmdoc``, with a subtype per class of problem.

Users silence a class with ``suppress_warnings = ["llmdoc.quota"]``.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from sphinx.util import logging

if TYPE_CHECKING:
    from docutils import nodes

logger = logging.getLogger("sphinx_llmdoc")

WARNING_TYPE = "llmdoc"


class Warn(Enum):
    """Subtypes of the ``llmdoc`` warning."""

    CODE_LANGUAGE = "code_language"
    """A code block names no language."""
    CODE_PROVENANCE = "code_provenance"
    """A long code block is not included from the tested examples tree."""
    FRAGMENT = "fragment"
    """An internal link points at an id that does not exist."""
    DUPLICATE_ID = "duplicate_id"
    """Two elements of the single page share an id."""
    OUTSIDE_RESOURCE = "outside_resource"
    """The single file still loads something from outside itself."""
    ASSET = "asset"
    """An asset the collapse step needs is missing or unreadable."""
    DIAGRAM = "diagram"
    """A diagram could not be rendered or lacks required options."""
    QUOTA = "quota"
    """A section falls short of its word, example or diagram quota."""
    SIZE = "size"
    """The single file exceeds its size budget."""
    FONTS = "fonts"
    """The fonts to embed are not installed."""


def warn(
    message: str,
    subtype: Warn,
    *,
    location: nodes.Node | tuple[str, int | None] | str | None = None,
) -> None:
    """Log an ``llmdoc`` warning of *subtype* at *location*."""
    logger.warning(message, type=WARNING_TYPE, subtype=subtype.value, location=location)
