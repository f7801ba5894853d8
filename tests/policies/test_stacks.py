"""The pack on whole stacks: the shipped stacks pass; a broken stack file fails the plan, naming the policy."""

import json
import shutil

import pytest
import yaml

from stackconfig import from_stack_file
from tests.conftest import ROOT, STACKS, planned
from tools import plan
from tools.policy import evaluate


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_pass_every_mandatory_policy(stack):
    outcomes = evaluate(from_stack_file(stack, ROOT), planned(stack))
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
    dev = {o.policy: o.checked for o in evaluate(from_stack_file("dev", ROOT), planned("dev"))}
    prod = {o.policy: o.checked for o in evaluate(from_stack_file("prod", ROOT), planned("prod"))}
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


def test_a_world_open_api_endpoint_in_rollout_fails_the_plan(stacks_dir, tmp_path, capsys):
    edit_stack(stacks_dir, "rollout", lambda c: c["llm-platform:cluster"].update(publicAccessCidrs=["0.0.0.0/0"]))
    out = tmp_path / "plan"
    assert plan.main(["--stack", "rollout", "--out", str(out), "--stacks-dir", str(stacks_dir)]) == 1
    printed = capsys.readouterr().out
    assert "eks-no-open-public-endpoint" in printed and "FAIL (1)" in printed and "the plan fails" in printed
    violations = json.loads((out / "rollout" / "policy.json").read_text())
    (violation,) = [v for v in violations if v["level"] == "mandatory"]
    assert violation["policy"] == "eks-no-open-public-endpoint"
    assert violation["urn"].endswith("eks:index:Cluster::cluster") and "0.0.0.0/0" in violation["message"]


def test_a_budget_below_what_the_gpu_caps_can_spend_fails_the_plan(stacks_dir, tmp_path, capsys):
    edit_stack(stacks_dir, "dev", lambda c: c["llm-platform:budget"].update(monthlyLimitUsd=1000))
    out = tmp_path / "plan"
    assert plan.main(["--stack", "dev", "--out", str(out), "--stacks-dir", str(stacks_dir)]) == 1
    assert "gpu-spend-within-budget" in capsys.readouterr().out
    (violation,) = [v for v in json.loads((out / "dev" / "policy.json").read_text()) if v["level"] == "mandatory"]
    assert violation["policy"] == "gpu-spend-within-budget" and "AWS Budget" in violation["message"]
    assert "$1,000" in violation["message"]
