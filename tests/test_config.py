"""Configuration mistakes fail early with a message that says how to fix them."""

from __future__ import annotations

import pytest
from sphinx.errors import ConfigError


@pytest.mark.parametrize(
    ("overrides", "hint"),
    [
        ({"llmdoc_singlefile_name": "../book.html"}, "plain file name"),
        ({"llmdoc_singlefile_name": "book.pdf"}, "ending in .html"),
        ({"llmdoc_singlefile_name": "index.html"}, "would overwrite"),
        ({"llmdoc_singlefile_budget_kb": 0}, "positive"),
    ],
)
def test_bad_values_raise_config_error(make_app, copy_root, overrides, hint) -> None:
    with pytest.raises(ConfigError, match=hint):
        make_app("singlehtml", srcdir=copy_root("badinput"), confoverrides=overrides)


def test_default_single_file_name_follows_root_doc(make_app, copy_root) -> None:
    app = make_app(
        "singlehtml",
        srcdir=copy_root("singlehtml"),
        freshenv=True,
        confoverrides={"llmdoc_singlefile_name": ""},
    )
    app.build()
    assert (app.outdir / "index-single.html").is_file()
