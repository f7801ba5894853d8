# `make plan` and `make test` work on a fresh machine: they build .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: plan plan-all test bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

plan: $(VENV)/.installed
	$(PY) -m tools.plan --stack $(STACK)

plan-all: $(VENV)/.installed
	for s in dev shadow rollout prod; do $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) -m tools.bench

clean:
	rm -rf build .pytest_cache
