"""vLLM per phase: flags that exist in the pinned release, scheduling, lifecycle, scaling, isolation."""

from pathlib import Path

import pytest

from stackconfig import ConfigError
from tests.conftest import plan_with

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


def test_vllm_answers_to_its_served_name_only(plans):
    """Only the router calls vLLM, always by the served name: the OpenAI names are not vLLM's."""
    args = vllm_container(plans["shadow"])["args"]
    names = args[args.index("--served-model-name") + 1: args.index("--host")]
    assert names == ["qwen2.5-7b-instruct"]


def test_weights_stream_from_the_s3_cache(any_plan):
    args = vllm_container(any_plan)["args"]
    assert args[args.index("--model") + 1].startswith("s3://")
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    job = next(r.inputs for r in any_plan.of_type("kubernetes:batch/v1:Job"))
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_ID"] == "Qwen/Qwen2.5-7B-Instruct"


def test_probes_grace_period_and_drain_fit_the_spot_notice(any_plan):
    container = vllm_container(any_plan)
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] >= 600
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    grace = spec["terminationGracePeriodSeconds"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = int(container["args"][container["args"].index("--shutdown-timeout") + 1])
    assert grace <= 120, "Karpenter gets a 2-minute spot notice"
    assert pre_stop + drain <= 110, "preStop and vLLM's drain must end with a margin before the kill"
    assert drain > 60


def test_grace_period_from_config_and_capped_by_the_spot_notice(tmp_path, capsys):
    plan = plan_with("dev", {"llm-platform:serving.terminationGracePeriodSeconds": 90})
    container = vllm_container(plan)
    assert plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 90
    assert container["args"][container["args"].index("--shutdown-timeout") + 1] == str(90 - 15 - 10)
    with pytest.raises(ConfigError) as refused:
        plan_with("dev", {"llm-platform:serving.terminationGracePeriodSeconds": 150})
    assert refused.value.key == "llm-platform:serving.terminationGracePeriodSeconds"


def test_no_do_not_disrupt_annotation(any_plan):
    template = any_plan.k8s("Deployment", "vllm")["spec"]["template"]
    assert "karpenter.sh/do-not-disrupt" not in (template["metadata"].get("annotations") or {})


def test_one_replica_per_node_and_zones_preferred_not_required(any_plan):
    constraints = {c["topologyKey"]: c for c in any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]["topologySpreadConstraints"]}
    assert set(constraints) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert constraints["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    # A hard zone rule would leave reserved GPUs idle in one zone while buying spot in another.
    assert constraints["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"


def test_aws_region_for_the_s3_streamer(plans):
    env = {e["name"]: e.get("value") for e in vllm_container(plans["prod"])["env"]}
    assert env["AWS_REGION"] == "us-east-1"
    other = plan_with("dev", {"aws:region": "eu-west-1"})
    assert {e["name"]: e.get("value") for e in vllm_container(other)["env"]}["AWS_REGION"] == "eu-west-1"


def test_memory_limit_covers_process_streamer_buffer_and_shm(any_plan):
    import json

    container = vllm_container(any_plan)
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    limit_gib = int(container["resources"]["limits"]["memory"].removesuffix("Gi"))
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"]
    (shm,) = [v for v in spec["volumes"] if v["name"] == "shm"]
    shm_gib = int(shm["emptyDir"]["sizeLimit"].removesuffix("Gi"))
    args = container["args"]
    extra = json.loads(args[args.index("--model-loader-extra-config") + 1])
    streamer_gib = extra["memory_limit"] / 1024**3
    assert extra["concurrency"] > 0 and streamer_gib >= 1, "the streamer's buffer is bounded"
    assert limit_gib >= shm_gib + streamer_gib + 8, "the vLLM process still has room beside /dev/shm and the buffer"


def test_rollout_waits_long_enough_for_a_new_gpu_node_and_the_model(plans):
    deployment = [r for r in plans["prod"].of_type("kubernetes:apps/v1:Deployment") if r.name == "vllm-deployment"][0]
    minutes = int(deployment.custom_timeouts["create"].removesuffix("m"))
    assert minutes >= 30 + 15, "startup timeout (30 min) plus node launch and a ~20 GB image pull"
    assert deployment.custom_timeouts["update"] == deployment.custom_timeouts["create"]


def test_gpu_scheduling(any_plan):
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    container = vllm_container(any_plan)
    assert container["resources"]["requests"]["nvidia.com/gpu"] == container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    affinity = spec["affinity"]["nodeAffinity"]
    (preferred,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["preference"]["matchExpressions"][0]["values"] == ["gpu-reserved"]
    (shm,) = [v for v in spec["volumes"] if v["name"] == "shm"]
    assert shm["emptyDir"]["medium"] == "Memory"


def test_hardened_container(any_plan):
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    container = vllm_container(any_plan)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "memory" in container["resources"]["limits"]
    assert spec["automountServiceAccountToken"] is False, "vLLM never calls the Kubernetes API"


def test_the_hugging_face_token_is_a_read_only_file_not_an_environment_variable(any_plan):
    spec = any_plan.k8s("Deployment", "vllm")["spec"]["template"]["spec"]
    container = vllm_container(any_plan)
    env = {e["name"]: e for e in container["env"]}
    assert "HF_TOKEN" not in env and not any("valueFrom" in e for e in container["env"])
    assert env["HF_TOKEN_PATH"]["value"] == "/var/run/secrets/huggingface/token"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "hf-token"]
    assert volume["secret"]["secretName"] == "hf-token" and volume["secret"]["defaultMode"] == 0o440
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "hf-token"]
    assert mount == {"name": "hf-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True}


@pytest.mark.parametrize("stack, minimum", [("dev", 0), ("shadow", 1), ("rollout", 2), ("prod", 3)])
def test_replicas_and_pdb_per_phase(plans, stack, minimum):
    plan = plans[stack]
    assert plan.k8s("ScaledObject", "vllm")["spec"]["minReplicaCount"] == minimum
    assert plan.k8s("PodDisruptionBudget", "vllm")["spec"]["maxUnavailable"] == 1


def test_queue_depth_autoscaling_and_wake_trigger(plans):
    dev = plans["dev"].k8s("ScaledObject", "vllm")["spec"]
    queue, wake = dev["triggers"]
    assert "vllm:num_requests_waiting" in queue["metadata"]["query"]
    assert queue["metadata"]["serverAddress"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert wake["metadata"]["activationThreshold"] == "0" and "litellm_proxy_total_requests" in wake["metadata"]["query"]
    assert dev["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    prod = plans["prod"].k8s("ScaledObject", "vllm")["spec"]
    assert [t["name"] for t in prod["triggers"]] == ["queue-depth"], "a warm pool needs no wake trigger"


@pytest.mark.parametrize("stack", ["dev", "shadow", "rollout", "prod"])
def test_only_the_router_and_prometheus_reach_vllm(plans, stack):
    policy = plans[stack].k8s("NetworkPolicy", "vllm-ingress")["spec"]
    (rule,) = policy["ingress"]
    allowed = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert allowed == {"llm-router", "monitoring"}


@pytest.mark.parametrize("stack, floor", [("dev", 1), ("shadow", 1), ("rollout", 2), ("prod", 3)])
def test_prometheus_outage_neither_freezes_nor_strands_serving(plans, stack, floor):
    spec = plans[stack].k8s("ScaledObject", "vllm")["spec"]
    assert spec["fallback"] == {"failureThreshold": 3, "replicas": floor, "behavior": "currentReplicasIfHigher"}
    assert all(t["type"] == "prometheus" and "metricType" not in t for t in spec["triggers"]), \
        "fallback only works with the AverageValue metric type, the prometheus scaler's default"
