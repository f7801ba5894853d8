# `make plan` and `make test` work on a fresh machine: they build .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The real LiteLLM proxy lives in a virtualenv of its own: its dependencies are not the program's.
ROUTER_VENV := .venv-router
# checkov scans the rendered manifests in `make test`; it pins boto3 and packaging below the program's, so it too
# has a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
# promtool and amtool check the alert rules and Alertmanager's config, prometheus serves make rehearse and
# make test-promote; all unpacked from Debian's packages (tools/install_prom_tools.sh).
PROM_TOOLS := .tools/bin
STACK ?= dev
# pytest workers for make test: the machine's cores (2 here and in CI).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
REGION ?= us-east-1
STACKS := dev shadow rollout prod

.PHONY: plan plan-all test test-router bench eval eval-local versions cost-chart prices preflight clean promote-check test-promote diff rehearse

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(ROUTER_VENV)/.installed: requirements-router.txt
	$(PYTHON) -m venv $(ROUTER_VENV)
	$(ROUTER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-router.txt
	touch $@

plan: $(VENV)/.installed
	$(PY) -m tools.plan --stack $(STACK)

plan-all: $(VENV)/.installed
	$(PY) -m tools.plan --stack all

$(PROM_TOOLS)/.installed: tools/install_prom_tools.sh
	tools/install_prom_tools.sh $(PROM_TOOLS)
	touch $@

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(PROM_TOOLS)/.installed
	PATH="$(CURDIR)/$(PROM_TOOLS):$$PATH" $(PY) -m pytest -q -n $(TEST_WORKERS) --ignore=tests/live_router --ignore=tests/promotion

# The rendered router configs against the real LiteLLM proxy and fake backends on 127.0.0.1.
test-router: $(VENV)/.installed $(ROUTER_VENV)/.installed
	$(PY) -m tools.plan --stack all --quiet
	$(ROUTER_VENV)/bin/python -m pytest -q --confcutdir=tests/live_router tests/live_router

# The stack's request path rehearsed on 127.0.0.1 (a minute or two): the real LiteLLM proxy with the plan's router
# config and hooks, fake OpenAI and vLLM, a real Prometheus; split, vLLM failing, kill switch, shadow agreement and
# the promotion gate on the metrics. Exit 0 when the phase behaves as configured. make rehearse STACK=rollout
rehearse: $(VENV)/.installed $(ROUTER_VENV)/.installed $(PROM_TOOLS)/.installed
	PATH="$(CURDIR)/$(PROM_TOOLS):$$PATH" $(PY) -m tools.rehearse --stack $(STACK) --litellm $(ROUTER_VENV)/bin/litellm

# What promoting FROM's config to TO's changes before `pulumi up` (plans both into build/diff): traffic, GPU
# capacity, resources added, removed and changed, monthly cost. make diff FROM=shadow TO=rollout
diff: $(VENV)/.installed
	$(PY) -m tools.diff --from "$(FROM)" --to "$(TO)"

# May the next step go ahead? The stack's `promotion` thresholds against the cluster's Prometheus, e.g. through
# kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090 (WINDOW=24h overrides the stack's).
PROMETHEUS_URL ?= http://127.0.0.1:9090
promote-check: $(VENV)/.installed
	$(PY) -m tools.promote_check --stack $(STACK) --prometheus-url $(PROMETHEUS_URL) $(if $(WINDOW),--window $(WINDOW))

# The promotion gate against a real Prometheus on 127.0.0.1 loaded with backfilled histories (a few seconds).
test-promote: $(VENV)/.installed $(PROM_TOOLS)/.installed
	PATH="$(CURDIR)/$(PROM_TOOLS):$$PATH" $(PY) -m pytest -q tests/promotion

bench: $(VENV)/.installed
	$(PY) -m tools.bench

# Golden-set evaluation: make eval BASELINE=https://api.openai.com/v1 CANDIDATE=http://localhost:8000/v1 [SET=file]
# [STACK=shadow] (its acceptance thresholds); keys from EVAL_*_API_KEY, EVAL_API_KEY, OPENAI_API_KEY (baseline only). eval-local: two fakes.
eval: $(VENV)/.installed
	$(PY) -m tools.eval --stack $(STACK) --baseline "$(BASELINE)" --candidate "$(CANDIDATE)" $(if $(SET),--set "$(SET)")

eval-local: $(VENV)/.installed
	$(PY) -m tools.eval.local

# Cost per month against requests per month, every stack against OpenAI alone (docs/cost.md shows a copy).
cost-chart: $(VENV)/.installed
	$(PY) -m tools.cost.chart --out build/cost-chart.png

# Refresh tools/cost/ec2/$(REGION).yaml from the AWS Price List API: needs AWS credentials (the plan never does).
prices: $(VENV)/.installed
	$(PY) -m tools.cost.refresh --region $(REGION)

# Before the first `pulumi up`: quotas, instance offerings, reservations, EKS version, placeholders (AWS credentials).
preflight: $(VENV)/.installed
	$(PY) -m tools.preflight --stack $(STACK)

# Every pin with its source and what is newer; asks the package index which Python packages are behind.
versions: $(VENV)/.installed
	$(PY) -m tools.versions

clean:
	rm -rf build .pytest_cache
