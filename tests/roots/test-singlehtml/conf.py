extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_singlefile_name = "book.html"
myst_heading_anchors = 3
numfig = True
myst_enable_extensions = ["colon_fence"]
