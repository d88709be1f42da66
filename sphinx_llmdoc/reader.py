"""The reader's side of the book: templates, copy-button defaults and embedded fonts.

The behaviour itself lives in ``static/llmdoc.js`` and ``static/llmdoc.css``; this module
registers the templates they rely on (the in-page search box, the storage guard that
must run before furo's theme script), gives sphinx-copybutton defaults that never copy
prompts, output or line numbers, and embeds subset Inter and JetBrains Mono.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.util import logging

from sphinx_llmdoc import fonts
from sphinx_llmdoc.config import singlefile_name
from sphinx_llmdoc.warnings_ import Warn, warn

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: The sidebar template that replaces furo's search form in single-page builds.
SEARCH_SIDEBAR = "llmdoc-search.html"
FONT_CSS = "llmdoc-fonts.css"

#: The prompts sphinx-copybutton strips (a regular expression); llmdoc.js's copy
#: fallback strips the same ones.
PROMPTS = r">>> |\.\.\. |\$ |In \[\d*\]: "

#: sphinx-copybutton option: (its default, ours). Ours apply only where conf.py kept the
#: default. In a block with prompts only the prompted lines are copied, without their
#: prompts: output lines (Pygments' ``.go``) and the blank lines they leave are not.
#: Prompts are matched as text rather than excluded as ``.gp``, because without them
#: the commands could not be told apart from the output.
COPYBUTTON_DEFAULTS: dict[str, tuple[object, object]] = {
    "copybutton_exclude": (".linenos", ".linenos, .go"),
    "copybutton_prompt_text": ("", PROMPTS),
    "copybutton_copy_empty_lines": (True, False),
}


def setup_reader(app: Sphinx) -> None:
    """Register templates, copy-button defaults and the embedded fonts."""
    app.add_config_value("llmdoc_fonts", True, "html", types=frozenset({bool}))
    # Before sphinx-copybutton (priority 500) copies its options into html_context.
    app.connect("config-inited", configure_reader, priority=400)
    app.connect("builder-inited", add_font_css)
    # Before singlefile.py (priority 500) collapses the page and inlines the fonts.
    app.connect("build-finished", write_fonts, priority=200)


def configure_reader(app: Sphinx, config: Config) -> None:
    """Add our templates and fill in copy-button options left at their defaults."""
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    for name, (theirs, ours) in COPYBUTTON_DEFAULTS.items():
        if getattr(config, name) == theirs:
            setattr(config, name, ours)
            if name == "copybutton_prompt_text":
                config.copybutton_prompt_is_regexp = True


def _wants_fonts(app: Sphinx) -> bool:
    return isinstance(app.builder, StandaloneHTMLBuilder) and bool(app.config.llmdoc_fonts)


def _installed_faces() -> dict[fonts.Face, Path]:
    return {face: path for face, path in fonts.find_faces().items() if path is not None}


def add_font_css(app: Sphinx) -> None:
    """Link the font stylesheet, or say which packages provide the missing faces."""
    if not _wants_fonts(app):
        return
    found = _installed_faces()
    missing = sorted(
        {f"{face.family} ({face.files[0]})" for face in fonts.FACES}
        - {f"{face.family} ({face.files[0]})" for face in found}
    )
    if missing:
        warn(
            f"font files not found: {', '.join(missing)}; the book falls back to system "
            "fonts. Install Debian's fonts-inter and fonts-jetbrains-mono (or put the files "
            "in ~/.local/share/fonts), or set llmdoc_fonts = False.",
            Warn.FONTS,
            location=str(Path(app.confdir) / "conf.py"),
        )
    if found:
        # Just before llmdoc.css (650), after furo's stylesheet whose variables it sets.
        app.add_css_file(FONT_CSS, priority=640)


def write_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Subset the installed faces to the characters the written pages use."""
    if exception is not None or not _wants_fonts(app):
        return
    found = _installed_faces()
    if not found:
        return
    outdir = Path(app.builder.outdir)
    skip = {singlefile_name(app.config)}
    pages = [
        page
        for page in sorted(outdir.rglob("*.html"))
        if page.name not in skip and "_static" not in page.parts
    ]
    chars = fonts.codepoints(fonts.visible_text(p.read_text("utf-8")) for p in pages)
    # Outside the doctree folder: a clean build would otherwise subset both fonts again
    # (about 3 s of fontTools). The key hashes font, characters and options.
    cache = fonts.user_cache()
    target = outdir / "_static" / "fonts"
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    for face, path in found.items():
        data = fonts.cached_subset(path, chars, face, cache)
        (target / f"{face.slug}.woff2").write_bytes(data)
        total += len(data)
    (outdir / "_static" / FONT_CSS).write_text(fonts.font_css(found), encoding="utf-8")
    logger.info(
        "llmdoc: embedded %d font faces subset to %d characters (%.1f KB of WOFF2)",
        len(found),
        len(chars),
        total / 1024,
    )
