"""vLLM's OpenAI-compatible server on the GPU pools: Deployment, Service, PDB, NetworkPolicy, metrics.

Scheduling follows the capacity design: GPU taint tolerated, reserved nodes
preferred over spot, spread across zones. Lifecycle follows spot: Karpenter
gives about two minutes, so the pod stops taking new requests (preStop), then
vLLM drains in-flight streams for ``--shutdown-timeout`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import ServingConfig

from ..pod_access import ingress_only_from, service_monitor

PORT = 8000
PRESTOP_SECONDS = 15  # time for the endpoint removal to reach the router before SIGTERM
POOL_LABEL = "node.llm-platform.io/pool"
APP_LABELS = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/part-of": "llm-platform"}


@dataclass(frozen=True)
class VllmArgs:
    namespace: str
    serving: ServingConfig
    model_aliases: list[str]  # OpenAI model names mirrored requests carry; vLLM answers to them too
    model_uri: pulumi.Input[str]  # s3://bucket/prefix/ when weights are cached, else the Hugging Face id
    hf_token: Optional[pulumi.Input[str]]
    allowed_client_namespaces: list[str]
    metrics_namespace: str
    k8s_provider: k8s.Provider
    service_account: str = "vllm"


def server_args(serving: ServingConfig, aliases: list[str], model_uri: str) -> list[str]:
    """The command line of `vllm serve`; every flag exists in the pinned release (see tests/data)."""
    model = serving.model
    args = [
        "--model", model_uri,
        "--served-model-name", model.served_name, *aliases,
        "--host", "0.0.0.0",
        "--port", str(PORT),
        "--max-model-len", str(model.max_model_len),
        "--gpu-memory-utilization", f"{model.gpu_memory_utilization:g}",
        "--tensor-parallel-size", str(model.tensor_parallel_size),
        "--dtype", model.dtype,
        "--max-num-seqs", str(model.max_num_seqs),
        "--enable-prefix-caching" if model.enable_prefix_caching else "--no-enable-prefix-caching",
        # Drain instead of abort on SIGTERM; the rest of the grace period covers preStop and exit.
        "--shutdown-timeout", str(serving.termination_grace_period_seconds - PRESTOP_SECONDS - 15),
        "--disable-uvicorn-access-log",
    ]
    if model.quantization:
        args += ["--quantization", model.quantization]
    if model_uri.startswith("s3://"):
        args += ["--load-format", "runai_streamer"]
    elif model.revision:
        args += ["--revision", model.revision]
    return args


def node_affinity() -> dict[str, Any]:
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": ["gpu-reserved", "gpu-spot"]}]}]
        },
        # Reserved capacity is paid for whether used or not: fill it first.
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": ["gpu-reserved"]}]}}
        ],
    }


def pod_spec(args: VllmArgs, model_uri: str, has_hf_token: bool) -> dict[str, Any]:
    serving = args.serving
    gpus = serving.model.tensor_parallel_size
    cache_env = {"HOME": "/cache", "HF_HOME": "/cache/huggingface", "VLLM_CACHE_ROOT": "/cache/vllm",
                 "XDG_CACHE_HOME": "/cache", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    env = [{"name": k, "value": v} for k, v in cache_env.items()]
    if has_hf_token:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}})
    spread_hard = serving.replicas.min >= 2
    return {
        "serviceAccountName": args.service_account,
        "terminationGracePeriodSeconds": serving.termination_grace_period_seconds,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 2000, "runAsGroup": 2000, "fsGroup": 2000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": node_affinity()},
        "topologySpreadConstraints": [{
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            # With two or more replicas required, losing a zone must not take them all.
            "whenUnsatisfiable": "DoNotSchedule" if spread_hard else "ScheduleAnyway",
            "labelSelector": {"matchLabels": APP_LABELS},
        }],
        "containers": [{
            "name": "vllm",
            "image": serving.image,
            "args": server_args(serving, args.model_aliases, model_uri),
            "env": env,
            "ports": [{"name": "http", "containerPort": PORT}],
            "resources": {
                "requests": {"nvidia.com/gpu": str(gpus), "cpu": str(3 * gpus), "memory": f"{12 * gpus}Gi"},
                "limits": {"nvidia.com/gpu": str(gpus), "memory": f"{14 * gpus}Gi"},
            },
            "startupProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10,
                             "failureThreshold": serving.startup_timeout_seconds // 10},
            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 15, "failureThreshold": 4},
            "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", f"sleep {PRESTOP_SECONDS}"]}}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [
                {"name": "shm", "mountPath": "/dev/shm"},
                {"name": "cache", "mountPath": "/cache"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }],
        "volumes": [
            # NCCL and the tokenizer workers share memory through /dev/shm; the default 64 MiB is far too small.
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{4 * gpus}Gi"}},
            {"name": "cache", "emptyDir": {"sizeLimit": "50Gi"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
        ],
    }


class Vllm(pulumi.ComponentResource):
    service_name: str
    base_url: str
    deployment_name: str = "vllm"

    def __init__(self, name: str, args: VllmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Vllm", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        ns = args.namespace
        namespace = k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": ns}, opts=k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[namespace])

        k8s.core.v1.ServiceAccount(f"{name}-sa", metadata={"name": args.service_account, "namespace": ns}, opts=in_ns)
        if args.hf_token is not None:
            k8s.core.v1.Secret(
                f"{name}-hf-token",
                metadata={"name": "hf-token", "namespace": ns},
                type="Opaque",
                string_data={"token": pulumi.Output.secret(args.hf_token)},
                opts=in_ns,
            )

        replicas = args.serving.replicas
        spec = pulumi.Output.from_input(args.model_uri).apply(
            lambda uri: pod_spec(args, uri, args.hf_token is not None)
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": self.deployment_name, "namespace": ns, "labels": APP_LABELS},
            spec={
                "replicas": replicas.min,
                "selector": {"matchLabels": APP_LABELS},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {
                    # Karpenter must not consolidate a node out from under a serving pod; spot
                    # interruptions still drain it through the grace period.
                    "metadata": {"labels": APP_LABELS, "annotations": {"karpenter.sh/do-not-disrupt": "true"}},
                    "spec": spec,
                },
            },
            # KEDA owns the replica count once the deployment exists.
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[namespace], ignore_changes=["spec.replicas"]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": "vllm", "namespace": ns, "labels": APP_LABELS},
            spec={"selector": APP_LABELS, "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]},
            opts=in_ns,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": "vllm", "namespace": ns},
            spec={"maxUnavailable": 1, "selector": {"matchLabels": APP_LABELS}},
            opts=in_ns,
        )
        ingress_only_from(
            f"{name}-ingress", name="vllm-ingress", namespace=ns, pod_labels=APP_LABELS,
            namespaces=[*args.allowed_client_namespaces, args.metrics_namespace], port=PORT, opts=in_ns,
        )
        service_monitor(
            f"{name}-metrics", name="vllm", namespace=ns, service_labels=APP_LABELS, port_name="http",
            interval="15s", opts=in_ns,
        )
        self.service_name = "vllm"
        self.base_url = f"http://vllm.{ns}.svc.cluster.local:{PORT}/v1"
        self.register_outputs({"baseUrl": self.base_url})
