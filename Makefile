# `make plan` and `make test` work on a fresh machine: they build .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The real LiteLLM proxy lives in a virtualenv of its own: its dependencies are not the program's.
ROUTER_VENV := .venv-router
# promtool and amtool check the alert rules and Alertmanager's config; unpacked from Debian's packages.
PROM_TOOLS := .tools/bin
STACK ?= dev
STACKS := dev shadow rollout prod

.PHONY: plan plan-all test test-router bench clean

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

$(PROM_TOOLS)/.installed: tools/install_prom_tools.sh
	tools/install_prom_tools.sh $(PROM_TOOLS)
	touch $@

test: $(VENV)/.installed $(PROM_TOOLS)/.installed
	PATH="$(CURDIR)/$(PROM_TOOLS):$$PATH" $(PY) -m pytest -q --ignore=tests/live_router

# The rendered router configs against the real LiteLLM proxy and fake backends on 127.0.0.1.
test-router: $(VENV)/.installed $(ROUTER_VENV)/.installed
	for s in $(STACKS); do $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done
	$(ROUTER_VENV)/bin/python -m pytest -q --confcutdir=tests/live_router tests/live_router

bench: $(VENV)/.installed
	$(PY) -m tools.bench

clean:
	rm -rf build .pytest_cache
