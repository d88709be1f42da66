import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

extensions = ["sphinx_llmdoc", "sketch"]
html_theme = "furo"
myst_enable_extensions = ["colon_fence"]
