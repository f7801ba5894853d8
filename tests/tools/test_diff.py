"""make diff's comparisons on small inputs, and its command line with the planning stubbed out (the full run on the
shipped stacks is in tests/promotion, `make test-promote`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackconfig import ConfigError, from_stack_file
from tests.conftest import ROOT, planned
from tools import artifacts
from tools.cost import report as cost_report
from tools.diff import __main__ as cli
from tools.diff import compare, planned as planning
from tools.diff.planned import Planned


def resource(kind: str, name: str, **inputs) -> dict:
    return {"urn": f"urn:{kind}::{name}", "type": kind, "name": name, "parent": None, "inputs": inputs, "dependencies": []}


def test_resources_added_removed_and_changed_with_their_input_keys():
    before = [resource("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.41.0.0/16", tags={"llm-platform/phase": "shadow"}),
              resource("k8s:ReferenceGrant", "mirror-grant", spec={"from": []}),
              resource("k8s:NodePool", "gpu-spot", spec={"limits": {"nvidia.com/gpu": 4}, "weight": 10})]
    after = [resource("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.41.0.0/16", tags={"llm-platform/phase": "rollout"}),
             resource("k8s:NodePool", "gpu-spot", spec={"limits": {"nvidia.com/gpu": 6}, "weight": 10}),
             resource("k8s:NodePool", "gpu-reserved", spec={"limits": {"nvidia.com/gpu": 2}})]
    diff = compare.resources(before, after)
    assert diff.added == [("k8s:NodePool", "gpu-reserved")]
    assert diff.removed == [("k8s:ReferenceGrant", "mirror-grant")]
    assert [(c.name, c.paths, c.labels_only) for c in diff.changed] == [
        ("vpc", ("tags.llm-platform/phase",), True),
        ("gpu-spot", ("spec.limits.nvidia.com/gpu",), False),
    ]
    assert diff.counts == (3, 3)


def test_changes_that_replace_rather_than_update_are_marked():
    before = [resource("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.41.0.0/16", tags={"p": "shadow"}),
              resource("aws:eks/nodeGroup:NodeGroup", "system", instanceTypes=["m7i.large"], scalingConfig={"maxSize": 3}),
              resource("kubernetes:apps/v1:Deployment", "vllm", metadata={"name": "vllm"}, spec={"replicas": 1, "selector": {"a": "1"}}),
              resource("kubernetes:core/v1:ConfigMap", "config", metadata={"name": "router", "labels": {"p": "shadow"}})]
    after = [resource("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.42.0.0/16", tags={"p": "rollout"}),
             resource("aws:eks/nodeGroup:NodeGroup", "system", instanceTypes=["m7i.xlarge"], scalingConfig={"maxSize": 4}),
             resource("kubernetes:apps/v1:Deployment", "vllm", metadata={"name": "vllm"}, spec={"replicas": 2, "selector": {"a": "1"}}),
             resource("kubernetes:core/v1:ConfigMap", "config", metadata={"name": "router-2", "labels": {"p": "shadow"}})]
    replacing = {c.name: c.replacing for c in compare.resources(before, after).changed}
    assert replacing == {"vpc": ("cidrBlock",), "system": ("instanceTypes",), "vllm": (), "config": ("metadata.name",)}


def test_the_report_marks_replacements_and_counts_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "plan_both", lambda source, target, out, stacks_dir: (write_plan(tmp_path, source), write_plan(tmp_path, target)))
    assert cli.main(["--from", "shadow", "--to", "rollout"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\+-aws:ec2/vpc:Vpc\s+network-vpc: replaced for cidrBlock", out), out
    assert re.search(r"\+-aws:eks/nodeGroup:NodeGroup\s+system-nodes: replaced for instanceTypes; also .*scalingConfig.maxSize", out), out
    assert re.search(r"\d+ replaced \(\+-\), not updated in place: .*1 Vpc", out), out


def test_lists_and_text_are_compared_whole_and_secrets_never_differ_by_value():
    assert compare.changed_paths({"a": [1, 2], "b": {"c": "x"}}, {"a": [1, 3], "b": {"c": "x"}}) == ["a"]
    assert compare.changed_paths({"stringData": {"KEY": "[secret]"}}, {"stringData": {"KEY": "[secret]"}}) == []
    assert compare.changed_paths({"x": 1}, {"x": 1, "y": 2}) == ["y"]


def pool(name: str, capacity_types: list[str], cap: int, families=None, types=None) -> dict:
    requirements = [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity_types}]
    if families:
        requirements.append({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": families})
    if types:
        requirements.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": types})
    return {"kind": "NodePool", "metadata": {"name": name},
            "spec": {"template": {"spec": {"requirements": requirements}}, "limits": {"nvidia.com/gpu": cap}, "weight": 10}}


def test_gpu_capacity_per_pool_and_a_pool_only_one_side_has():
    before = {"nodepool-gpu-spot.yaml": pool("gpu-spot", ["spot"], 4, families=["g6"])}
    after = {"nodepool-gpu-reserved.yaml": pool("gpu-reserved", ["reserved"], 2, types=["g6e.xlarge"]),
             "nodepool-gpu-spot.yaml": pool("gpu-spot", ["spot", "on-demand"], 6, families=["g6"]),
             "scaledobject.yaml": {"kind": "ScaledObject", "spec": {"scaleTargetRef": {"name": "vllm"},
                                                                    "minReplicaCount": 2, "maxReplicaCount": 8}}}
    rows = compare.side_by_side(compare.capacity(before), compare.capacity(after))
    assert rows[:2] == [("gpu-reserved: GPU cap", "-", "2"), ("gpu-reserved: capacity types", "-", "reserved")]
    assert ("gpu-spot: capacity types", "spot", "spot, on-demand") in rows
    assert ("gpu-spot: instances", "g6", "g6") in rows
    assert rows[-1] == ("vLLM replicas", "-", "2 to 8")


def test_traffic_of_shadow_and_rollout():
    shadow, rollout = (compare.traffic(from_stack_file(stack, ROOT)) for stack in ("shadow", "rollout"))
    assert (shadow["self-hosted share"], rollout["self-hosted share"]) == ("0 %", "25 %")
    assert shadow["fallback to OpenAI"] == "off" and rollout["fallback to OpenAI"].startswith("on: 1 retry")


def test_cost_rows_show_totals_and_only_the_categories_that_change():
    def cost(gpu: float, openai: float) -> dict:
        return {"totals": {"phaseMonthlyUsd": 100 + gpu + openai, "awsMonthlyUsd": 100 + gpu, "openaiMonthlyUsd": openai,
                           "byCategory": {"control plane": 100, "GPU nodes": gpu}},
                "budget": {"monthlyLimitUsd": 1000 + gpu, "worstCaseAtGpuCapsUsd": 900 + gpu}}
    rows = compare.cost(cost(400, 200), cost(2700, 150))
    assert rows[0] == ("phase total (AWS + OpenAI)", 700, 2950)
    assert ("  GPU nodes", 400, 2700) in rows and not any("control plane" in what for what, _, _ in rows)


def write_plan(out: Path, stack: str) -> Planned:
    config = from_stack_file(stack, ROOT)
    recording = planned(stack)
    reports = {"cost.json": cost_report.build(config, recording), "policy.json": []}
    artifacts.write(recording, out / stack, reports)
    return Planned(config, out / stack)


def test_the_report_names_traffic_capacity_resources_and_cost(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "plan_both", lambda source, target, out, stacks_dir: (write_plan(tmp_path, source), write_plan(tmp_path, target)))
    assert cli.main(["--from", "shadow", "--to", "rollout"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\* self-hosted share\s+0 %\s+25 %", out), out
    assert re.search(r"\* shadow share\s+10 % of OpenAI's answers replayed to vLLM\s+2 % of", out), out
    assert "* gpu-reserved: GPU cap" in out
    assert "+ kubernetes:karpenter.sh/v1:NodePool" in out and "gpu-reserved" in out
    assert "Monthly cost (USD, tools/cost)" in out and "phase total (AWS + OpenAI)" in out
    assert "Policy violations: 0 mandatory" in out


def test_to_is_planned_under_from_s_name_and_from_as_it_is(tmp_path, monkeypatch):
    calls = []

    def fake_run(stack, out_root, quiet, stacks_dir):
        config = from_stack_file(stack, stacks_dir)
        calls.append((stack, config.phase, out_root.relative_to(tmp_path).as_posix()))
        return 0

    monkeypatch.setattr(planning.plan, "run", fake_run)
    source, target = planning.plan_both("shadow", "rollout", tmp_path)
    assert calls == [("shadow", "shadow", "shadow"), ("shadow", "rollout", "rollout-as-shadow")]
    assert (source.config.stack, source.config.phase) == ("shadow", "shadow")
    assert (target.config.stack, target.config.phase) == ("shadow", "rollout")


@pytest.mark.parametrize("args", [["--from", "shadow", "--to", "staging"], ["--from", "Shadow!", "--to", "rollout"]])
def test_an_unknown_stack_is_one_line_and_exit_2_before_anything_is_planned(args, tmp_path, capsys):
    assert cli.main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("diff: config error: stack: ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_missing_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--from", "shadow"])
    assert exit_info.value.code == 2
    assert "--to" in capsys.readouterr().err


def test_planning_validates_both_stacks_first(tmp_path):
    with pytest.raises(ConfigError):
        planning.plan_both("shadow", "nope", tmp_path)
    assert not any(tmp_path.iterdir())
