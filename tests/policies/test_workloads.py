"""Workload policies on Deployments, Jobs and Helm values: images, resources, GPUs, probes, privilege,
hostPath, and availability from rollout on."""

import copy

import pytest

from policies.rules import workloads

from .helpers import Stack, check

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
RELEASE = "kubernetes:helm.sh/v3:Release"
LABELS = {"app.kubernetes.io/name": "api"}
PROBE = {"httpGet": {"path": "/health", "port": "http"}}


def container(**overrides):
    base = {
        "name": "api", "image": "ghcr.io/example/api:1.2.3",
        "ports": [{"name": "http", "containerPort": 8000}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "readinessProbe": PROBE, "livenessProbe": PROBE,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def deployment(containers=None, replicas=2, namespace="apps", annotations=None, **pod):
    metadata = {"name": "api", "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS},
                 "template": {"metadata": {"labels": LABELS}, "spec": {"containers": containers or [container()], **pod}}},
    }


def release(values, chart="some-chart", version="1.0.0"):
    return {"name": "thing", "chart": chart, "version": version, "namespace": "thing",
            "repositoryOpts": {"repo": "https://charts.example.com"}, "values": values}


def test_a_compliant_deployment_passes_every_resource_policy():
    for policy in workloads.POLICIES[:-1]:
        assert check(policy, DEPLOYMENT, deployment()) == [], policy.name


@pytest.mark.parametrize("image,problem", [
    ("ghcr.io/example/api", "has no tag or digest"),
    ("ghcr.io/example/api:latest", "moving tag 'latest'"),
    ("registry.example.com:5000/api", "has no tag or digest"),
])
def test_images_must_be_pinned(image, problem):
    (message,) = check(workloads.pinned_images, DEPLOYMENT, deployment([container(image=image)]))
    assert problem in message and "Deployment apps/api" in message and "pin an exact version tag" in message


def test_digest_pinned_and_registry_port_images_pass():
    digest = "ghcr.io/example/api@sha256:" + "a" * 64
    assert check(workloads.pinned_images, DEPLOYMENT, deployment([container(image=digest)])) == []
    assert check(workloads.pinned_images, DEPLOYMENT, deployment([container(image="registry:5000/api:1.0")])) == []


def test_helm_values_images_are_judged_where_the_values_set_them():
    values = {"controller": {"image": {"repository": "example/ctl", "tag": "latest"}}, "sidecar": {"image": "busybox"}}
    messages = check(workloads.pinned_images, RELEASE, release(values))
    assert len(messages) == 2
    assert "values controller.image 'example/ctl:latest' uses the moving tag 'latest'" in messages[0]
    assert "sidecar.image 'busybox' has no tag or digest" in messages[1]
    pinned = {"controller": {"image": {"repository": "example/ctl", "tag": "v1.4.0"}}, "other": {"image": {"pullPolicy": "IfNotPresent"}}}
    assert check(workloads.pinned_images, RELEASE, release(pinned)) == []


def test_every_container_declares_requests_and_a_memory_limit():
    bare = container(resources={"limits": {"cpu": "1"}})
    init = {"name": "init", "image": "busybox:1.37", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}
    messages = check(workloads.container_resources, DEPLOYMENT, deployment([bare], initContainers=[init]))
    assert len(messages) == 2
    assert "initContainers init has no limits.memory" in messages[0]
    assert "containers api has no requests.cpu, requests.memory, limits.memory" in messages[1]
    assert "resources.requests (cpu, memory)" in messages[1]


def test_jobs_are_workloads_too():
    job = {"metadata": {"name": "sync", "namespace": "apps"},
           "spec": {"template": {"spec": {"containers": [container(resources=None, ports=None)]}}}}
    assert "Job apps/sync" in check(workloads.container_resources, JOB, job)[0]


GPU_RESOURCES = {"requests": {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "1"},
                 "limits": {"memory": "14Gi", "nvidia.com/gpu": "1"}}
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def test_gpu_containers_must_tolerate_the_taint():
    gpu = deployment([container(resources=GPU_RESOURCES)])
    (message,) = check(workloads.gpu_workloads, DEPLOYMENT, gpu)
    assert "does not tolerate the nvidia.com/gpu:NoSchedule taint" in message and "operator: Exists" in message
    assert check(workloads.gpu_workloads, DEPLOYMENT, deployment([container(resources=GPU_RESOURCES)], tolerations=[TOLERATION])) == []


def test_gpu_requests_need_equal_limits():
    request_only = copy.deepcopy(GPU_RESOURCES)
    del request_only["limits"]["nvidia.com/gpu"]
    (message,) = check(workloads.gpu_workloads, DEPLOYMENT, deployment([container(resources=request_only)], tolerations=[TOLERATION]))
    assert "without a limit" in message and "resources.limits.nvidia.com/gpu" in message
    uneven = copy.deepcopy(GPU_RESOURCES)
    uneven["requests"]["nvidia.com/gpu"] = "2"
    assert "make them equal" in check(workloads.gpu_workloads, DEPLOYMENT, deployment([container(resources=uneven)], tolerations=[TOLERATION]))[0]


def test_pods_pinned_to_gpu_nodes_must_use_gpus():
    pinned = deployment(nodeSelector={"node.llm-platform.io/pool": "gpu-spot"}, tolerations=[TOLERATION])
    (message,) = check(workloads.gpu_workloads, DEPLOYMENT, pinned)
    assert "pinned to GPU nodes but no container requests nvidia.com/gpu" in message
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["gpu-reserved", "gpu-spot"]}]}]}}}
    assert check(workloads.gpu_workloads, DEPLOYMENT, deployment(affinity=affinity))
    assert check(workloads.gpu_workloads, DEPLOYMENT, deployment(nodeSelector={"node.llm-platform.io/role": "system"})) == []


def test_serving_containers_need_readiness_and_liveness_probes():
    (message,) = check(workloads.serving_probes, DEPLOYMENT, deployment([container(livenessProbe=None)]))
    assert "serves ports but has no livenessProbe" in message and "startupProbe" in message
    worker = container(ports=None, readinessProbe=None, livenessProbe=None)
    assert check(workloads.serving_probes, DEPLOYMENT, deployment([worker])) == []
    assert check(workloads.serving_probes, JOB, {"spec": {}}) is None


@pytest.mark.parametrize("security_context,problem", [
    ({"privileged": True}, "privileged: true"),
    ({"allowPrivilegeEscalation": True}, "allowPrivilegeEscalation: true"),
    ({"capabilities": {"add": ["SYS_ADMIN"]}}, "capabilities.add ['SYS_ADMIN']"),
])
def test_no_privileged_containers(security_context, problem):
    (message,) = check(workloads.no_privileged, DEPLOYMENT, deployment([container(securityContext=security_context)]))
    assert problem in message and "remove it" in message


def test_no_host_namespaces_and_no_privileged_helm_values():
    assert "hostNetwork: true" in check(workloads.no_privileged, DEPLOYMENT, deployment(hostNetwork=True))[0]
    (message,) = check(workloads.no_privileged, RELEASE, release({"agent": {"securityContext": {"privileged": True}}}))
    assert "values agent.securityContext.privileged is true" in message
    assert check(workloads.no_privileged, RELEASE, release({"agent": {"securityContext": {"privileged": False}}})) == []


def test_host_path_needs_a_justification():
    volumes = [{"name": "logs", "hostPath": {"path": "/var/log"}}]
    (message,) = check(workloads.no_host_path, DEPLOYMENT, deployment(volumes=volumes))
    assert "volume logs mounts /var/log from the node" in message and "llm-platform.io/hostpath-justification" in message
    justified = deployment(volumes=volumes, annotations={"llm-platform.io/hostpath-justification": "node log shipper"})
    assert check(workloads.no_host_path, DEPLOYMENT, justified) == []
    assert check(workloads.no_host_path, DEPLOYMENT, deployment(volumes=[{"name": "tmp", "emptyDir": {}}])) == []
    helm = check(workloads.no_host_path, RELEASE, release({"extraVolumes": [{"name": "d", "hostPath": {"path": "/dev"}}]}))
    assert "values extraVolumes.0.hostPath mounts /dev" in helm[0]


PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"


def pdb(namespace="apps", labels=LABELS):
    return {"metadata": {"name": "api", "namespace": namespace}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}}}


def test_from_rollout_on_serving_needs_two_replicas_and_a_pdb():
    stack = Stack()
    single = stack.add(DEPLOYMENT, deployment(replicas=1), "api")
    messages = stack.check(workloads.serving_availability, {"phase": "rollout"})
    assert [urn for _, urn in messages] == [single.urn, single.urn]
    assert "may run 1 replica(s) in phase rollout" in messages[0][0] and "at least 2" in messages[0][0]
    assert "has no PodDisruptionBudget" in messages[1][0] and "maxUnavailable: 1" in messages[1][0]
    assert stack.check(workloads.serving_availability, {"phase": "dev"}) is None

    compliant = Stack()
    compliant.add(DEPLOYMENT, deployment(replicas=2), "api")
    compliant.add(PDB, pdb(), "api-pdb")
    assert compliant.check(workloads.serving_availability, {"phase": "prod"}) == []


def test_an_autoscaler_floor_counts_and_a_pdb_elsewhere_does_not():
    stack = Stack()
    stack.add(DEPLOYMENT, deployment(replicas=3), "api")
    stack.add(PDB, pdb(namespace="other"), "api-pdb")
    stack.add(SCALED_OBJECT, {"metadata": {"name": "api", "namespace": "apps"},
                              "spec": {"scaleTargetRef": {"name": "api"}, "minReplicaCount": 0}}, "api-scaling")
    messages = [m for m, _ in stack.check(workloads.serving_availability, {"phase": "prod"})]
    assert "may run 0 replica(s)" in messages[0] and "has no PodDisruptionBudget" in messages[1]
