extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_singlefile_name = "deep.html"
myst_enable_extensions = ["colon_fence"]
