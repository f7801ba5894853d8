"""vLLM per phase: flags that exist in the pinned release, scheduling, lifecycle, scaling, isolation."""

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


def known_flags() -> set[str]:
    flags = set()
    for name in ("vllm_flags_v0.33.0.txt", "vllm_hidden_flags_v0.33.0.txt"):
        flags |= {line.strip() for line in (DATA / name).read_text().splitlines() if line.startswith("--")}
    return flags


def vllm_container(plan) -> dict:
    (container,) = plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]["containers"]
    return container


def test_every_rendered_flag_exists_in_the_pinned_vllm(any_plan):
    container = vllm_container(any_plan)
    assert container["image"].endswith(":v0.33.0"), "the flag list in tests/data is for v0.33.0"
    used = {arg for arg in container["args"] if arg.startswith("--")}
    assert used and used <= known_flags(), used - known_flags()


def test_served_names_include_the_openai_names_for_mirrored_requests(plans):
    args = vllm_container(plans["shadow"])["args"]
    names = args[args.index("--served-model-name") + 1: args.index("--host")]
    assert names == ["qwen2.5-7b-instruct", "gpt-4o-mini"]


def test_weights_stream_from_the_s3_cache(any_plan):
    args = vllm_container(any_plan)["args"]
    assert args[args.index("--model") + 1].startswith("s3://")
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    job = next(r.inputs for r in any_plan.of_type("kubernetes:batch/v1:Job"))
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_ID"] == "Qwen/Qwen2.5-7B-Instruct"


def test_probes_grace_period_and_drain(any_plan):
    container = vllm_container(any_plan)
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] >= 600
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert "preStop" in container["lifecycle"]
    grace = spec["terminationGracePeriodSeconds"]
    drain = int(container["args"][container["args"].index("--shutdown-timeout") + 1])
    assert grace >= 120, "spot gives about two minutes"
    assert 0 < drain < grace


def test_gpu_scheduling(any_plan):
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    container = vllm_container(any_plan)
    assert container["resources"]["requests"]["nvidia.com/gpu"] == container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    affinity = spec["affinity"]["nodeAffinity"]
    (preferred,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["preference"]["matchExpressions"][0]["values"] == ["gpu-reserved"]
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    (shm,) = [v for v in spec["volumes"] if v["name"] == "shm"]
    assert shm["emptyDir"]["medium"] == "Memory"


def test_hardened_container(any_plan):
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    container = vllm_container(any_plan)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "memory" in container["resources"]["limits"]


@pytest.mark.parametrize("stack, minimum, spread", [("dev", 0, "ScheduleAnyway"), ("shadow", 1, "ScheduleAnyway"),
                                                     ("rollout", 2, "DoNotSchedule"), ("prod", 3, "DoNotSchedule")])
def test_replicas_pdb_and_zone_spread_per_phase(plans, stack, minimum, spread):
    plan = plans[stack]
    scaled = plan.k8s("ScaledObject", "vllm")["spec"]
    assert scaled["minReplicaCount"] == minimum
    assert plan.k8s("PodDisruptionBudget", "vllm")["spec"]["maxUnavailable"] == 1
    constraint = plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]["topologySpreadConstraints"][0]
    assert constraint["whenUnsatisfiable"] == spread


def test_queue_depth_autoscaling_and_wake_trigger(plans):
    dev = plans["dev"].k8s("ScaledObject", "vllm")["spec"]
    queue, wake = dev["triggers"]
    assert "vllm:num_requests_waiting" in queue["metadata"]["query"]
    assert queue["metadata"]["serverAddress"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert wake["metadata"]["activationThreshold"] == "0" and "litellm_proxy_total_requests" in wake["metadata"]["query"]
    assert dev["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    prod = plans["prod"].k8s("ScaledObject", "vllm")["spec"]
    assert [t["name"] for t in prod["triggers"]] == ["queue-depth"], "a warm pool needs no wake trigger"


@pytest.mark.parametrize("stack, sources", [("dev", {"llm-router", "monitoring"}), ("shadow", {"llm-router", "nginx-gateway", "monitoring"}),
                                            ("prod", {"llm-router", "monitoring"})])
def test_only_router_and_mirror_reach_vllm(plans, stack, sources):
    policy = plans[stack].k8s("NetworkPolicy", "vllm-ingress")["spec"]
    (rule,) = policy["ingress"]
    allowed = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert allowed == sources
