"""The pack itself: enough policies, each documented with its level; importable without serving; and the
real entry point, run as the engine runs it, serving them with the stack's facts."""

import json
import runpy
import subprocess
import sys
import types

import pulumi_policy.policy as sdk
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policies.rules import POLICIES
import stackconfig
from stackconfig import from_pulumi_runtime, from_stack_file
from tools.cost import max_monthly_gpu_spend
from tests.conftest import ROOT

from .helpers import TAGS

SERVED_STACKS: list[str] = []  # the stack names the served pack loaded its config under


def test_at_least_twenty_policies_with_unique_names_levels_and_remedies():
    assert len(POLICIES) >= 20
    names = [p.name for p in POLICIES]
    assert len(set(names)) == len(names)
    for policy in POLICIES:
        assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), policy.name
        assert policy.description and policy.remediation_steps, policy.name
        assert isinstance(policy, (ResourceValidationPolicy, StackValidationPolicy))


def test_importing_the_rules_starts_no_server():
    """Constructing a PolicyPack serves forever; importing the rules must return at once."""
    result = subprocess.run(
        [sys.executable, "-c", "import policies.rules as r; print(len(r.POLICIES))"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == str(len(POLICIES)), result.stderr


def test_the_docs_list_every_policy_with_its_level():
    from tools.policy_reference import render

    assert (ROOT / "docs" / "policies.md").read_text() == render(), "run: python -m tools.policy_reference"


@pytest.fixture()
def served(monkeypatch):
    """Run policies/__main__.py as `pulumi preview --policy-pack` does, stopping the server once it is up."""
    captured = {}
    register = sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server

    def capture(servicer, server):
        captured["servicer"] = servicer
        register(servicer, server)

    def stop_serving(_seconds):
        raise KeyboardInterrupt  # the SDK's own shutdown path: server.stop(0)

    monkeypatch.setattr(sdk.analyzer_pb2_grpc, "add_AnalyzerServicer_to_server", capture)
    monkeypatch.setattr(sdk, "time", types.SimpleNamespace(sleep=stop_serving))
    # The engine hands a policy pack the stack's config; structured values as JSON text.
    config = yaml.safe_load((ROOT / "Pulumi.rollout.yaml").read_text())["config"]
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}))
    monkeypatch.setenv("PULUMI_STACK", "rollout")
    SERVED_STACKS.clear()
    monkeypatch.setattr(stackconfig, "from_pulumi_runtime", lambda stack: SERVED_STACKS.append(stack) or from_pulumi_runtime(stack))
    # The SDK copies the engine's config into the process-wide pulumi config when it analyzes: put it back.
    saved = dict(runtime_config.CONFIG.get())
    runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="__main__")
    yield captured["servicer"]
    runtime_config.CONFIG.get().clear()
    runtime_config.CONFIG.get().update(saved)


def struct(value: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def test_the_entry_point_serves_every_policy_with_the_stacks_phase(served):
    info = served.GetAnalyzerInfo(None, None)
    assert info.name == "llm-platform"
    assert SERVED_STACKS == ["rollout"], "the pack validates the config under the stack's own name (PULUMI_STACK)"
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert dict(info.initialConfig["eks-no-open-public-endpoint"].properties) == {"phase": "rollout"}
    worst_case = max_monthly_gpu_spend(from_stack_file("rollout", ROOT))
    assert dict(info.initialConfig["gpu-spend-within-budget"].properties) == {"maxMonthlyGpuSpendUsd": worst_case}
    assert all(p.enforcementLevel in (proto.MANDATORY, proto.ADVISORY) for p in info.policies)

    # As the engine does: configure from the initial config, then analyze a resource with an open endpoint.
    served.Configure(proto.ConfigureAnalyzerRequest(policyConfig=dict(info.initialConfig)), None)
    cluster = {"name": "llm-platform-rollout", "version": "1.35", "enabledClusterLogTypes": ["api", "audit", "authenticator"],
               "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}},
               "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}
    provider = proto.AnalyzerProviderResource(
        type="pulumi:providers:aws", urn="urn:pulumi:rollout::llm-platform::pulumi:providers:aws::aws", name="aws",
        properties=struct({"region": "us-east-1", "defaultTags": json.dumps({"tags": TAGS})}))
    request = proto.AnalyzeRequest(type="aws:eks/cluster:Cluster", properties=struct(cluster), provider=provider,
                                   urn="urn:pulumi:rollout::llm-platform::aws:eks/cluster:Cluster::cluster", name="cluster")
    response = served.Analyze(request, None)
    (diagnostic,) = response.diagnostics
    assert diagnostic.policyName == "eks-no-open-public-endpoint" and diagnostic.enforcementLevel == proto.MANDATORY
    assert "0.0.0.0/0" in diagnostic.message
    # Every other policy said it does not apply to an EKS cluster, or passed.
    assert "gpu-pool-taint" in {n.policy_name for n in response.not_applicable}
