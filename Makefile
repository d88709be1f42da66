# Two commands for a fresh machine: `make docs` builds the single file, `make test` runs every test.
# Everything else is installed by nox into .nox/; only nox itself lives in .venv/.
PYTHON ?= python3
VENV := .venv
NOX := $(VENV)/bin/nox

.PHONY: docs html test lint bench preview clean

$(NOX):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q "nox>=2024.4.15" uv

docs: $(NOX)
	$(NOX) -s docs

html: $(NOX)
	$(NOX) -s html

test: $(NOX)
	$(NOX) -s lint tests examples

lint: $(NOX)
	$(NOX) -s lint

bench: $(NOX)
	$(NOX) -s bench

preview: $(NOX)
	$(NOX) -s preview

clean:
	rm -rf build .nox $(VENV)
