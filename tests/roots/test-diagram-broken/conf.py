import os
import sys

sys.path.insert(0, os.path.abspath("."))

extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_mermaid_renderer = "fake_mermaid:render"
