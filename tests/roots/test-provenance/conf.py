extensions = ["sphinx_llmdoc"]
html_theme = "furo"
project = "provenance"
llmdoc_examples_dir = "examples"
