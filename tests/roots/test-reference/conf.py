extensions = ["sphinx_llmdoc", "openapi_reference", "settings_reference"]
html_theme = "furo"
