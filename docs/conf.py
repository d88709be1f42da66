"""Sphinx configuration for *Building Production LLM Chatbots*."""

from __future__ import annotations

project = "Building Production LLM Chatbots"
author = "sphinx-llmdoc contributors"
copyright = "2026, sphinx-llmdoc contributors"
language = "en"

extensions = ["sphinx_llmdoc"]
exclude_patterns = [
    "_build",
    "examples/**/node_modules",
    "examples/**/README.md",
    "**/.pytest_cache",
]

html_theme = "furo"
html_title = project
llmdoc_singlefile_name = "llm-chatbot-documentation.html"

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist", "attrs_block", "attrs_inline"]
numfig = True
