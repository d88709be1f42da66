extensions = ["sphinx_llmdoc"]
html_theme = "furo"
myst_enable_extensions = ["colon_fence"]
llmdoc_quota_severity = "none"
