extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_singlefile_name = "book.html"
html_js_files = ["https://cdn.example.com/widget.js"]
