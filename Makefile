# Two entry points: `make demo` runs the workflow on the embedded demo, `make test` runs the tests.
# Both create (or reuse) .venv and install envs/locks/venv.txt into it: every package of every env
# file's pins, with exact versions and hashes (`make lock` writes the locks; scripts/lock_envs.py).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := envs/locks/venv.txt
# The env files' conda pin of pip (`- pip=X`), which the venv gets too.
PIP_VERSION := $(shell sed -n -E 's/^[[:space:]]+- pip=([0-9.]+)[[:space:]]*$$/\1/p' envs/workflow.yaml)
CORES ?= 2
# Extra pytest options for `make test`, e.g. PYTEST_ARGS='--random-order-bucket=module' (tests/README.md).
PYTEST_ARGS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Never reach the network from a run: wandb logs offline unless the user says otherwise.
export WANDB_MODE ?= offline

.PHONY: demo test lint venv lock

venv: $(STAMP)

$(STAMP): $(LOCK) Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(PY) scripts/lock_envs.py --print-unlocked | xargs -r $(PY) -m pip uninstall --quiet -y
	$(PY) -m pip check
	touch $@

# After changing a pin in envs/*.yaml: resolve every env again (tests/unit/test_envs.py checks them).
lock: $(STAMP)
	$(PY) scripts/lock_envs.py

demo: $(STAMP)
	snakemake --cores $(CORES)

test: $(STAMP)
	$(PY) -m pytest -ra $(PYTEST_ARGS) tests

lint: $(STAMP)
	snakemake --lint
	snakefmt --check Snakefile rules
	ruff check scripts tests bench
