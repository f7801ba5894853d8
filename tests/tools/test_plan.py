"""The offline plan's contract: files, their shape, secrets hidden, exit codes, and the printed summary."""

import json

import pytest
import yaml

from tests.conftest import ROOT
from tools import plan


@pytest.fixture(scope="module")
def dev_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    status = plan.main(["--stack", "dev", "--out", str(out), "--quiet"])
    assert status == 0
    return out / "dev"


def test_resources_json_shape(dev_plan):
    resources = json.loads((dev_plan / "resources.json").read_text())
    assert resources and all(set(r) == {"urn", "type", "name", "parent", "inputs", "dependencies"} for r in resources)
    urns = {r["urn"] for r in resources}
    assert all(r["parent"] is None or r["parent"] in urns for r in resources)
    assert all(set(r["dependencies"]) <= urns for r in resources), "dependencies name recorded resources"
    types = {r["type"] for r in resources}
    assert {"eks:index:Cluster", "aws:ec2/vpc:Vpc", "kubernetes:karpenter.sh/v1:NodePool"} <= types


def test_manifests_one_file_per_object_and_helm_releases(dev_plan):
    files = sorted(p.name for p in (dev_plan / "manifests").iterdir())
    assert "nodepool-gpu-spot.yaml" in files and "ec2nodeclass-gpu.yaml" in files
    pool = yaml.safe_load((dev_plan / "manifests" / "nodepool-gpu-spot.yaml").read_text())
    assert list(pool)[:2] == ["apiVersion", "kind"] and pool["kind"] == "NodePool"
    release = yaml.safe_load((dev_plan / "manifests" / "helm-karpenter.yaml").read_text())
    assert set(release) == {"release", "chart", "repository", "version", "namespace", "values"}
    assert (release["repository"], release["chart"]) == ("oci://public.ecr.aws/karpenter", "karpenter")
    assert release["values"]["settings"]["clusterName"] == "llm-platform-dev"


def test_secrets_are_placeholders_everywhere(dev_plan):
    resources = json.loads((dev_plan / "resources.json").read_text())
    (provider,) = [r for r in resources if r["type"] == "pulumi:providers:kubernetes"]
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    outputs = json.loads((dev_plan / "outputs.json").read_text())
    assert outputs["kubeconfig"] == "[secret]"
    everything = "".join(p.read_text() for p in dev_plan.rglob("*") if p.is_file())
    assert "get-token" not in everything, "the kubeconfig's content leaked"


def test_cost_json_per_the_contract(dev_plan):
    cost = json.loads((dev_plan / "cost.json").read_text())
    assert {"items", "totals", "assumptions"} <= set(cost)
    assert all({"item", "quantity", "unit", "unitUsd", "monthlyUsd", "source"} <= set(i) for i in cost["items"])
    assert cost["totals"]["awsMonthlyUsd"] > 0 and all(a["source"] for a in cost["assumptions"])


def test_secrets_keep_their_shape(dev_plan):
    secret = yaml.safe_load((dev_plan / "manifests" / "secret-llm-router-llm-router-env.yaml").read_text())
    assert secret["kind"] == "Secret" and set(secret["stringData"]) == {"OPENAI_API_KEY", "LITELLM_MASTER_KEY", "DATABASE_URL"}
    assert set(secret["stringData"].values()) == {"[secret]"}


def test_all_stacks_in_one_process_write_what_single_plans_write(tmp_path, dev_plan, capsys):
    assert plan.main(["--stack", "all", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[-1] == "4 stacks planned; `make plan STACK=<name>` prints one in full"
    for stack in ("dev", "shadow", "rollout", "prod"):
        assert f"{stack:<10} planned" in printed
        for name in ("resources.json", "policy.json", "cost.json", "outputs.json"):
            assert (tmp_path / stack / name).is_file(), f"{stack}/{name}"

    def by_urn(path):
        return sorted(json.loads(path.read_text()), key=lambda r: r["urn"])

    assert by_urn(tmp_path / "dev" / "resources.json") == by_urn(dev_plan / "resources.json")
    assert sorted(p.name for p in (tmp_path / "dev" / "manifests").iterdir()) == \
        sorted(p.name for p in (dev_plan / "manifests").iterdir())


def test_all_reports_the_worst_exit_status(tmp_path, capsys):
    import shutil

    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    (tmp_path / "Pulumi.prod.yaml").write_text((tmp_path / "Pulumi.prod.yaml").read_text().replace("phase: prod", "phase: staging"))
    assert plan.main(["--stack", "all", "--stacks-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "prod       invalid config" in captured.out and "config error: llm-platform:phase" in captured.err
    assert (tmp_path / "out" / "dev" / "resources.json").is_file(), "the other stacks are still planned"


def test_summary_reads_like_a_preview(tmp_path, capsys):
    assert plan.main(["--stack", "prod", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Previewing stack 'prod'" in printed
    assert "+ llm-platform:infra:Network" in printed and "        + aws:ec2/vpc:Vpc" in printed
    assert "Resources by type:" in printed and "kubeconfig: [secret]" in printed
    cost = printed.split("Monthly cost estimate")[1]
    assert "AWS total" in cost and "break-even:" in cost and "capacity (reserved):" in cost
    waves = printed.split("Creation order")[1].split("resources to create")[0]
    assert "wave  1" in waves and "Cluster:cluster" in waves and "NodePool:gpu-spot" in waves


def test_a_mandatory_policy_violation_exits_1(tmp_path, monkeypatch):
    violation = {"policy": "example", "level": "mandatory", "urn": "urn:x", "message": "no"}
    report = plan.Report("Policy", lambda config, recording: [violation], lambda content: [f"{len(content)} violation"])
    monkeypatch.setitem(plan.REPORTS, "policy", report)
    assert plan.main(["--stack", "dev", "--out", str(tmp_path), "--quiet"]) == 1
    assert json.loads((tmp_path / "dev" / "policy.json").read_text()) == [violation]


@pytest.mark.fresh_recording
def test_never_reaches_the_network(tmp_path, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the offline plan opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no pulumi CLI to find either
    assert plan.main(["--stack", "dev", "--out", str(tmp_path), "--quiet"]) == 0
