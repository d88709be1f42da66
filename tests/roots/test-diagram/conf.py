import os
import sys

sys.path.insert(0, os.path.abspath("."))

extensions = ["sphinx_llmdoc"]
html_theme = "furo"
numfig = True
llmdoc_singlefile_name = "book.html"
# A stand-in for Chromium: see fake_mermaid.py.
llmdoc_mermaid_renderer = "fake_mermaid:render"
