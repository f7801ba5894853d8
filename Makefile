# `make plan` and `make test` work on a fresh machine: they build .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
REGION ?= us-east-1

.PHONY: plan plan-all test bench cost-chart prices preflight clean

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

# Cost per month against requests per month, every stack against OpenAI alone (docs/cost.md shows a copy).
cost-chart: $(VENV)/.installed
	$(PY) -m tools.cost.chart --out build/cost-chart.png

# Refresh tools/cost/ec2/$(REGION).yaml from the AWS Price List API: needs AWS credentials (the plan never does).
prices: $(VENV)/.installed
	$(PY) -m tools.cost.refresh --region $(REGION)

# Before the first `pulumi up`: quotas, instance offerings, reservations, EKS version, placeholders (AWS credentials).
preflight: $(VENV)/.installed
	$(PY) -m tools.preflight --stack $(STACK)

clean:
	rm -rf build .pytest_cache
