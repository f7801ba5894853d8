# `make plan` and `make test` work on a fresh machine: they build .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The real LiteLLM proxy lives in a virtualenv of its own: its dependencies are not the program's.
ROUTER_VENV := .venv-router
STACK ?= dev
STACKS := dev shadow rollout prod

.PHONY: plan plan-all test test-router bench eval eval-local clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(ROUTER_VENV)/.installed: requirements-router.txt
	$(PYTHON) -m venv $(ROUTER_VENV)
	$(ROUTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-router.txt
	touch $@

plan: $(VENV)/.installed
	$(PY) -m tools.plan --stack $(STACK)

plan-all: $(VENV)/.installed
	for s in $(STACKS); do $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done

test: $(VENV)/.installed
	$(PY) -m pytest -q --ignore=tests/live_router

# The rendered router configs against the real LiteLLM proxy and fake backends on 127.0.0.1.
test-router: $(VENV)/.installed $(ROUTER_VENV)/.installed
	for s in $(STACKS); do $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done
	$(ROUTER_VENV)/bin/python -m pytest -q --confcutdir=tests/live_router tests/live_router

bench: $(VENV)/.installed
	$(PY) -m tools.bench

# Golden-set evaluation: make eval BASELINE=https://api.openai.com/v1 CANDIDATE=http://localhost:8000/v1 [SET=file]
# [STACK=shadow] (its acceptance thresholds); keys from EVAL_*_API_KEY / OPENAI_API_KEY. eval-local: two fakes.
eval: $(VENV)/.installed
	$(PY) -m tools.eval --stack $(STACK) --baseline "$(BASELINE)" --candidate "$(CANDIDATE)" $(if $(SET),--set "$(SET)")

eval-local: $(VENV)/.installed
	$(PY) -m tools.eval.local

clean:
	rm -rf build .pytest_cache
