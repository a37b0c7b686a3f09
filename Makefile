# Slipway developer commands. Everything installs into .venv; nothing needs to be set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

.PHONY: install demo test lint services bench clean

# torch goes in first, alone: pip then takes the CPU build where one is offered (this machine's
# find-links folder has torch-2.13.0+cpu). Installed together with everything else, the
# resolver backtracks (over s3fs/aiobotocore/boto3) and, on the way, trades the +cpu wheel for
# PyPI's torch 2.13.0 with 2.7 GB of nvidia-* CUDA wheels. The pin matches pyproject's [test].
TORCH := torch==2.13.0

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q '$(TORCH)'
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	bash scripts/demo.sh

services:
	bash scripts/services.sh

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collects no test, so an empty run fails here too.
test: install services lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Slipway is installed editable: its modules are compiled to bytecode here, as a wheel install
# would at install time, else a shell with PYTHONDONTWRITEBYTECODE set compiles them on every
# command (~60 ms of each `slipway` run) while the anchors' wheels come compiled.
bench: install
	$(BIN)/python -m compileall -q src
	test -x .venv-anchors/bin/python || $(PYTHON) -m venv .venv-anchors
	.venv-anchors/bin/python -m pip install -q --upgrade pip
	.venv-anchors/bin/python -m pip install -q -r bench/requirements-anchors.txt
	$(BIN)/python bench/run.py --write-readme

clean:
	rm -rf $(VENV) .venv-anchors bench/.work .mypy_cache .ruff_cache .pytest_cache
