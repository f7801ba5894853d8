"""Kubernetes workloads: pinned images, resources, GPU requests, probes, privilege, hostPath, availability.

Workloads are checked where the program declares them (Deployments, StatefulSets, DaemonSets, Jobs,
CronJobs, Pods) and, for images, privilege and hostPath, through the Helm values that set them: a chart's
own templates are not visible to a preview, only the values the program passes.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from .base import MANDATORY, PHASE, SERVING_PHASES, fact, kubernetes_kind, resource_policy, stack_policy
from .kube import (
    GPU_RESOURCE,
    HELM_TYPES,
    SERVING_KINDS,
    containers,
    gpu_count,
    helm_images,
    image_problem,
    object_name,
    pod_labels,
    pod_spec,
    release_name,
    tolerates,
    workload_kind,
)
from .props import get, is_map, items, scan

GPU_TAINT_KEY = GPU_RESOURCE
# Node labels that put a pod on GPU capacity: the pools' own label, Karpenter's pool label, GPU discovery.
GPU_NODE_LABELS = {
    "node.llm-platform.io/pool": lambda value: str(value).startswith("gpu"),
    "karpenter.sh/nodepool": lambda value: str(value).startswith("gpu"),
    "nvidia.com/gpu.present": lambda value: str(value) == "true",
}
HOSTPATH_JUSTIFICATION = "llm-platform.io/hostpath-justification"
# Capabilities that amount to root on the node.
ROOT_CAPABILITIES = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "BPF", "PERFMON"}


def _is_workload_or_release(resource_type: str) -> bool:
    return bool(workload_kind(resource_type)) or resource_type in HELM_TYPES


def _is_workload(resource_type: str) -> bool:
    return bool(workload_kind(resource_type))


def _where(args: ResourceValidationArgs) -> str:
    if args.resource_type in HELM_TYPES:
        return f"Helm release {release_name(args.props)}"
    return f"{workload_kind(args.resource_type)} {object_name(args.props)}"


# --- images ---------------------------------------------------------------------------------------


def _pinned_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in HELM_TYPES:
        for path, image in helm_images(get(args.props, "values")):
            problem = image_problem(image)
            if problem:
                report(f"{_where(args)}: values {path} {problem}; set an exact version tag (and digest where "
                       "the image publishes one), or leave the tag to the pinned chart's default")
        return
    kind = workload_kind(args.resource_type)
    for section, container in containers(pod_spec(kind, args.props)):
        problem = image_problem(get(container, "image"))
        if problem:
            report(f"{_where(args)}: {section} {get(container, 'name', default='?')} {problem}; pin an exact "
                   "version tag, plus @sha256 digest where the image publishes one")


pinned_images = resource_policy(
    "k8s-pinned-images",
    "Every container image is pinned: a version tag or a digest, never 'latest' or untagged.",
    MANDATORY,
    _is_workload_or_release,
    _pinned_images,
    "Set image to repository:version (with @sha256:<digest> where published) in the workload or the Helm values.",
)


# --- resources ------------------------------------------------------------------------------------


def _container_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = workload_kind(args.resource_type)
    for section, container in containers(pod_spec(kind, args.props)):
        missing = [
            f"{kind_}.{resource}"
            for kind_, resource in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
            if get(container, "resources", kind_, resource) is None
        ]
        if missing:
            report(f"{_where(args)}: {section} {get(container, 'name', default='?')} has no "
                   f"{', '.join(missing)}; set resources.requests (cpu, memory) and resources.limits.memory so "
                   "the scheduler can place it and a leak cannot take the node down")


container_resources = resource_policy(
    "k8s-container-resources",
    "Every container declares CPU and memory requests and a memory limit.",
    MANDATORY,
    _is_workload,
    _container_resources,
    "Add resources.requests.cpu, resources.requests.memory and resources.limits.memory to each container.",
)


# --- GPUs -----------------------------------------------------------------------------------------


def _targets_gpu_nodes(spec: Any) -> bool:
    selector = get(spec, "nodeSelector")
    if is_map(selector) and any(key in GPU_NODE_LABELS and GPU_NODE_LABELS[key](value) for key, value in selector.items()):
        return True
    terms = get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    for term in items(terms):
        for expression in items(get(term, "matchExpressions")):
            key, values = get(expression, "key"), items(get(expression, "values"))
            if key in GPU_NODE_LABELS and get(expression, "operator") == "In" and values and all(
                GPU_NODE_LABELS[key](value) for value in values
            ):
                return True
    return False


def _gpu_workloads(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = workload_kind(args.resource_type)
    spec = pod_spec(kind, args.props)
    gpu_containers = [c for _, c in containers(spec) if gpu_count(c) > 0]
    for container in gpu_containers:
        name = get(container, "name", default="?")
        limit = get(container, "resources", "limits", GPU_RESOURCE)
        request = get(container, "resources", "requests", GPU_RESOURCE)
        if limit is None:
            report(f"{_where(args)}: container {name} requests {GPU_RESOURCE} without a limit; extended resources "
                   f"are allocated from limits: set resources.limits.{GPU_RESOURCE} (equal to the request)")
        elif request is not None and str(request) != str(limit):
            report(f"{_where(args)}: container {name} has {GPU_RESOURCE} request {request} but limit {limit}; "
                   "GPUs cannot be overcommitted: make them equal")
    if gpu_containers and not tolerates(spec, GPU_TAINT_KEY, "NoSchedule"):
        report(f"{_where(args)} requests GPUs but does not tolerate the {GPU_TAINT_KEY}:NoSchedule taint every GPU "
               f"pool carries; add a toleration {{key: {GPU_TAINT_KEY}, operator: Exists, effect: NoSchedule}}")
    if not gpu_containers and _targets_gpu_nodes(spec):
        report(f"{_where(args)} is pinned to GPU nodes but no container requests {GPU_RESOURCE}; it would hold a GPU "
               f"node without using it: request the GPUs in resources.limits.{GPU_RESOURCE} or drop the GPU node "
               "selector/affinity")


gpu_workloads = resource_policy(
    "k8s-gpu-workloads",
    "GPU workloads request nvidia.com/gpu in their limits and tolerate the GPU taint; nothing else targets GPU nodes.",
    MANDATORY,
    _is_workload,
    _gpu_workloads,
    "Put nvidia.com/gpu in resources.limits (requests equal), tolerate nvidia.com/gpu:NoSchedule, and only "
    "select GPU pools from pods that use GPUs.",
)


# --- probes ---------------------------------------------------------------------------------------


def _serving_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = workload_kind(args.resource_type)
    for container in items(get(pod_spec(kind, args.props), "containers")):
        if not items(get(container, "ports")):
            continue  # a sidecar or worker that answers nothing
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if get(container, probe) is None]
        if missing:
            report(f"{_where(args)}: container {get(container, 'name', default='?')} serves ports but has no "
                   f"{' or '.join(missing)}; readiness keeps traffic off a pod that cannot answer, liveness "
                   "restarts a hung one (add a startupProbe for slow starts such as model loading)")


serving_probes = resource_policy(
    "k8s-serving-probes",
    "Containers that serve a port (Deployments, StatefulSets) have readiness and liveness probes.",
    MANDATORY,
    lambda t: workload_kind(t) in SERVING_KINDS,
    _serving_probes,
    "Add readinessProbe and livenessProbe (and a startupProbe where start-up is slow) to each serving container.",
)


# --- privilege ------------------------------------------------------------------------------------


def _privilege_problems(context: Any) -> list[str]:
    problems = []
    if get(context, "privileged") is True:
        problems.append("privileged: true")
    if get(context, "allowPrivilegeEscalation") is True:
        problems.append("allowPrivilegeEscalation: true")
    added = {str(c).upper().removeprefix("CAP_") for c in items(get(context, "capabilities", "add"))}
    if added & ROOT_CAPABILITIES:
        problems.append(f"capabilities.add {sorted(added & ROOT_CAPABILITIES)}")
    return problems


def _no_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = "remove it; if the workload truly needs the host, run it from a chart that manages that risk"
    if args.resource_type in HELM_TYPES:
        for path, value in scan(get(args.props, "values")):
            if path and path[-1] == "privileged" and value is True:
                report(f"{_where(args)}: values {'.'.join(map(str, path))} is true; {remedy}")
        return
    kind = workload_kind(args.resource_type)
    spec = pod_spec(kind, args.props)
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if get(spec, flag) is True:
            report(f"{_where(args)} sets {flag}: true, which shares the node's namespaces; {remedy}")
    for section, container in containers(spec):
        for problem in _privilege_problems(get(container, "securityContext")):
            report(f"{_where(args)}: {section} {get(container, 'name', default='?')} sets {problem}; {remedy}")


no_privileged = resource_policy(
    "k8s-no-privileged",
    "No privileged containers, privilege escalation, root-equivalent capabilities or host namespaces.",
    MANDATORY,
    _is_workload_or_release,
    _no_privileged,
    "Drop privileged/allowPrivilegeEscalation/host namespaces; drop ALL capabilities and add back only harmless ones.",
)


# --- hostPath -------------------------------------------------------------------------------------


def _no_host_path(args: ResourceValidationArgs, report: ReportViolation) -> None:
    remedy = (f"use an emptyDir, a PersistentVolumeClaim or a projected volume; where the host really is "
              f"needed, say why in the annotation {HOSTPATH_JUSTIFICATION} on the workload")
    if args.resource_type in HELM_TYPES:
        for path, value in scan(get(args.props, "values")):
            if path and path[-1] == "hostPath" and is_map(value):
                report(f"{_where(args)}: values {'.'.join(map(str, path))} mounts {get(value, 'path', default='?')} "
                       f"from the node; {remedy}")
        return
    kind = workload_kind(args.resource_type)
    annotations = get(args.props, "metadata", "annotations")
    if is_map(annotations) and str(get(annotations, HOSTPATH_JUSTIFICATION, default="")).strip():
        return
    for volume in items(get(pod_spec(kind, args.props), "volumes")):
        if get(volume, "hostPath") is not None:
            report(f"{_where(args)}: volume {get(volume, 'name', default='?')} mounts "
                   f"{get(volume, 'hostPath', 'path', default='?')} from the node; {remedy}")


no_host_path = resource_policy(
    "k8s-no-hostpath",
    "No hostPath volumes, unless the workload states why in its llm-platform.io/hostpath-justification annotation.",
    MANDATORY,
    _is_workload_or_release,
    _no_host_path,
    "Replace hostPath with emptyDir/PVC, or justify it in the llm-platform.io/hostpath-justification annotation.",
)


# --- availability from rollout on -------------------------------------------------------------------


def _selects(selector: Any, labels: dict[str, str]) -> bool:
    match_labels = get(selector, "matchLabels")
    expressions = items(get(selector, "matchExpressions"))
    if not is_map(match_labels) and not expressions:
        return False
    if is_map(match_labels) and any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        key, operator, values = get(expression, "key"), get(expression, "operator"), list(items(get(expression, "values")))
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _min_replicas(name: str, namespace: Any, kind: str, replicas: Any, autoscalers: list[Any]) -> int:
    """The fewest replicas the workload may run: its autoscaler's floor where one targets it."""
    for scaler_kind, props in autoscalers:
        target = get(props, "spec", "scaleTargetRef")
        same_namespace = get(props, "metadata", "namespace") == namespace
        if not same_namespace or get(target, "name") != name or get(target, "kind", default="Deployment") != kind:
            continue
        if scaler_kind == "ScaledObject":
            return int(get(props, "spec", "minReplicaCount", default=0))
        return int(get(props, "spec", "minReplicas", default=1))
    return int(replicas) if replicas is not None else 1


def _serving_availability(args: StackValidationArgs, report: ReportViolation) -> None:
    phase = fact(args, PHASE)
    if phase not in SERVING_PHASES:
        args.not_applicable(f"phase {phase}: a single replica is acceptable before rollout")
    autoscalers, budgets, workloads = [], [], []
    for resource in args.resources:
        group, kind = kubernetes_kind(resource.resource_type)
        if (group, kind) in (("keda.sh", "ScaledObject"), ("autoscaling", "HorizontalPodAutoscaler")):
            autoscalers.append((kind, resource.props))
        elif (group, kind) == ("policy", "PodDisruptionBudget"):
            budgets.append(resource.props)
        elif workload_kind(resource.resource_type) in SERVING_KINDS:
            workloads.append(resource)
    for resource in workloads:
        kind = workload_kind(resource.resource_type)
        props = resource.props
        serving = any(items(get(c, "ports")) for c in items(get(pod_spec(kind, props), "containers")))
        if not serving:
            continue
        name, namespace = get(props, "metadata", "name"), get(props, "metadata", "namespace")
        floor = _min_replicas(name, namespace, kind, get(props, "spec", "replicas"), autoscalers)
        if floor < 2:
            report(f"{kind} {object_name(props)} may run {floor} replica(s) in phase {phase}; users depend on it: "
                   "run at least 2 (spec.replicas, or the autoscaler's minimum) spread across zones", resource.urn)
        labels = pod_labels(kind, props)
        if not any(get(pdb, "metadata", "namespace") == namespace and _selects(get(pdb, "spec", "selector"), labels)
                   for pdb in budgets):
            report(f"{kind} {object_name(props)} has no PodDisruptionBudget in phase {phase}; add one selecting its "
                   "pods (maxUnavailable: 1) so node drains and spot interruptions never take every replica",
                   resource.urn)


serving_availability = stack_policy(
    "k8s-serving-availability",
    "From rollout on, every serving workload runs at least 2 replicas and has a PodDisruptionBudget.",
    MANDATORY,
    _serving_availability,
    "Raise replicas (or the autoscaler minimum) to 2 or more and add a PodDisruptionBudget selecting the pods.",
    facts=(PHASE,),
)

POLICIES = [pinned_images, container_resources, gpu_workloads, serving_probes, no_privileged, no_host_path,
            serving_availability]
