extensions = ["sphinx_llmdoc"]
html_theme = "furo"
llmdoc_mermaid_renderer = "never"
