"""The pack on whole stacks: the shipped stacks pass; a broken stack file fails the plan, naming the policy."""

import functools
import json
import re
import shutil

import pytest
import yaml

from stackconfig import from_stack_file
from tests.conftest import ROOT, STACKS, planned
from tools import plan
from tools.policy import evaluate


@functools.lru_cache(maxsize=None)
def outcomes_of(stack: str):
    return evaluate(from_stack_file(stack, ROOT), planned(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_pass_every_mandatory_policy(stack):
    outcomes = outcomes_of(stack)
    failures = [v.message for o in outcomes for v in o.violations if v.level == "mandatory"]
    assert failures == []
    checked = {o.policy: o.checked for o in outcomes}
    # The policies that must find their subjects in every stack did find them.
    for policy in ("gpu-pool-taint", "gpu-pool-limits", "eks-secrets-encryption", "nodes-imdsv2", "k8s-pinned-images",
                   "k8s-container-resources", "helm-pinned-chart-version", "cost-allocation-tags",
                   "custom-resources-after-definitions", "budget-with-notifications", "s3-encrypted-and-private",
                   "gpu-spend-within-budget"):
        assert checked[policy] > 0, policy


def test_phase_policies_apply_from_rollout_on():
    dev = {o.policy: o.checked for o in outcomes_of("dev")}
    prod = {o.policy: o.checked for o in outcomes_of("prod")}
    for policy in ("eks-no-open-public-endpoint", "k8s-serving-availability"):
        assert dev[policy] == 0 and prod[policy] > 0


@pytest.fixture()
def stacks_dir(tmp_path):
    for path in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit_stack(stacks_dir, stack, change):
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document))


def test_a_broken_stack_file_fails_the_plan_naming_the_policies(stacks_dir, tmp_path, capsys):
    """Two mistakes the config model accepts: a world-open API endpoint in rollout, and a budget below what the
    GPU caps can spend."""

    def break_it(config):
        config["llm-platform:cluster"]["publicAccessCidrs"] = ["0.0.0.0/0"]
        config["llm-platform:budget"]["monthlyLimitUsd"] = 1000

    edit_stack(stacks_dir, "rollout", break_it)
    out = tmp_path / "plan"
    assert plan.main(["--stack", "rollout", "--out", str(out), "--stacks-dir", str(stacks_dir)]) == 1
    printed = capsys.readouterr().out
    assert "the plan fails" in printed
    for policy in ("eks-no-open-public-endpoint", "gpu-spend-within-budget"):
        assert re.search(rf"{policy} +mandatory +\S+ +FAIL \(1\)", printed), policy
    violations = {v["policy"]: v for v in json.loads((out / "rollout" / "policy.json").read_text()) if v["level"] == "mandatory"}
    assert set(violations) == {"eks-no-open-public-endpoint", "gpu-spend-within-budget"}
    endpoint = violations["eks-no-open-public-endpoint"]
    assert endpoint["urn"].endswith("eks:index:Cluster::cluster") and "0.0.0.0/0" in endpoint["message"]
    budget = violations["gpu-spend-within-budget"]
    assert budget["urn"].endswith("aws:budgets/budget:Budget::cost-alarms-monthly") and "$1,000" in budget["message"]
