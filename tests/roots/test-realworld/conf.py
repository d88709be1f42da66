extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_singlefile_name = "book.html"
