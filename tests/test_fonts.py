"""fonts.py: the visible text of a page, deterministic WOFF2 subsets, the cache, the CSS."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sphinx_llmdoc import fonts

INTER = fonts.Face("Inter", 400, "normal", ("Inter-Regular.otf", "Inter-Regular.ttf"))
MONO = fonts.Face("JetBrains Mono", 400, "normal", ("JetBrainsMono-Regular.ttf",), ("kern",))


def installed(face: fonts.Face) -> Path:
    path = fonts.find_faces([face])[face]
    if path is None:
        pytest.skip(f"{face.files[0]} is not installed (Debian: fonts-inter, fonts-jetbrains-mono)")
    return path


def test_visible_text_drops_markup_scripts_styles_and_svg_and_decodes_entities() -> None:
    page = (
        "<html><head><style>p{content:'ß'}</style><script>var x='Ж';</script></head>"
        '<body><p title="ignored">caf&eacute; &amp; na&#239;ve</p>'
        "<svg><style>.a{}</style><text>Ω</text></svg>"
        '<input placeholder="Søg"><button data-tooltip="Copy">x</button></body></html>'
    )
    text = fonts.visible_text(page)
    assert "café & naïve" in text
    assert "Søg" in text and "Copy" in text
    assert not {"ß", "Ж", "Ω", "ignored"} & set(text.split()) and "Ж" not in text


def test_codepoints_always_cover_ascii_and_what_scripts_write() -> None:
    chars = fonts.codepoints(["ä"])
    assert ord("ä") in chars and ord("…") in chars
    assert all(c in chars for c in range(0x20, 0x7F))
    assert ord("\n") not in fonts.codepoints(["a\nb"])


def test_find_faces_takes_the_first_existing_candidate(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Inter-Regular.ttf").write_bytes(b"x")
    found = fonts.find_faces([INTER, MONO], [tmp_path, tmp_path / "absent"])
    assert found == {INTER: tmp_path / "sub" / "Inter-Regular.ttf", MONO: None}


@pytest.mark.parametrize("face", [INTER, MONO], ids=["inter", "mono"])
def test_subset_is_woff2_holds_exactly_the_glyphs_and_is_reproducible(face: fonts.Face) -> None:
    from fontTools.ttLib import TTFont

    source = installed(face).read_bytes()
    chars = frozenset(map(ord, "Hello, wörld"))
    first = fonts.subset_woff2(source, chars, face)
    assert first[:4] == b"wOF2"
    assert first == fonts.subset_woff2(source, chars, face), "byte for byte the same"
    assert len(first) < len(source) / 10
    cmap = TTFont(io.BytesIO(first)).getBestCmap()
    assert set(cmap) == set(chars)


def test_subset_cache_is_keyed_by_content_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = tmp_path / "Fake-Regular.ttf"
    font.write_bytes(b"font bytes")
    calls = []

    def fake_subset(data: bytes, chars: frozenset[int], face: fonts.Face) -> bytes:
        calls.append(chars)
        return b"wOF2" + bytes(sorted(chars))

    monkeypatch.setattr(fonts, "subset_woff2", fake_subset)
    cache = tmp_path / "cache"
    a = fonts.cached_subset(font, frozenset({65, 66}), INTER, cache)
    b = fonts.cached_subset(font, frozenset({66, 65}), INTER, cache)
    assert a == b == b"wOF2AB" and len(calls) == 1
    fonts.cached_subset(font, frozenset({65}), INTER, cache)
    font.write_bytes(b"another version")
    fonts.cached_subset(font, frozenset({65}), INTER, cache)
    assert len(calls) == 3
    assert len(list(cache.glob("inter-400-normal-*.woff2"))) == 3


def test_css_declares_each_face_under_our_own_name_and_sets_furos_stacks() -> None:
    css = fonts.font_css([INTER, MONO])
    assert css.count("@font-face") == 2
    assert 'font-family:"llmdoc Inter";font-style:normal;font-weight:400' in css
    assert 'url("fonts/inter-400-normal.woff2") format("woff2")' in css
    assert "font-display:block" in css
    assert '--font-stack:"llmdoc Inter",-apple-system' in css
    assert '--font-stack--monospace:"llmdoc JetBrains Mono","SFMono-Regular"' in css
    assert "--font-stack--monospace" not in fonts.font_css([INTER])
