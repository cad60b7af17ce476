# Two entry points: `make demo` runs the workflow on the embedded demo, `make test` runs the tests.
# Both create (or reuse) .venv and install the pins of envs/*.yaml, the one source of truth.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORES ?= 2
# Extra pytest options for `make test`, e.g. PYTEST_ARGS='--random-order-bucket=module' (tests/README.md).
PYTEST_ARGS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Never reach the network from a run: wandb logs offline unless the user says otherwise.
export WANDB_MODE ?= offline

# The pip pins of every env file: the one list the venv installs.
PINS = grep -h -E '^[[:space:]]+- [A-Za-z0-9_.-]+==' envs/*.yaml | sed -E 's/^[[:space:]]+- //' | sort -u

.PHONY: demo test lint venv print-pins

venv: $(STAMP)

$(STAMP): $(wildcard envs/*.yaml) Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PINS) > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	$(PY) -m pip check
	touch $@

demo: $(STAMP)
	snakemake --cores $(CORES)

test: $(STAMP)
	$(PY) -m pytest -ra $(PYTEST_ARGS) tests

print-pins:
	@$(PINS)

lint: $(STAMP)
	snakemake --lint
	snakefmt --check Snakefile rules
	ruff check scripts tests bench
