"""vLLM's OpenAI-compatible server on the GPU pools: Deployment, Service, PDB, NetworkPolicy, metrics.

Scheduling follows the capacity design: GPU taint tolerated, reserved nodes preferred over spot, spread
over nodes always and over zones where capacity allows (a hard zone rule would leave paid-for reserved
GPUs idle in one zone while spot is bought in another). Lifecycle follows spot: Karpenter gets a 2-minute
notice, so preStop plus vLLM's drain (--shutdown-timeout) end 10 s before it runs out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import (
    DRAIN_MARGIN_SECONDS,
    VLLM_CACHE_GIB,
    VLLM_SHM_GIB_PER_GPU,
    VLLM_STREAMER_BUFFER_GIB,
    ServingConfig,
)

from ..pod_access import ingress_only_from, service_monitor
from .namespace import hf_token_file

PORT = 8000
PRESTOP_SECONDS = 15  # time for the endpoint removal to reach the router before SIGTERM
POOL_LABEL = "node.llm-platform.io/pool"
APP_LABELS = {"app.kubernetes.io/name": "vllm", "app.kubernetes.io/part-of": "llm-platform"}
RUN_AS = 10001
STREAMER_CONCURRENCY = 16


@dataclass(frozen=True)
class VllmArgs:
    namespace: str  # created beforehand (ServingNamespace), with the hf-token Secret
    region: str
    serving: ServingConfig
    model_uri: pulumi.Input[str]  # s3://bucket/prefix/ when weights are cached, else the Hugging Face id
    has_hf_token: bool
    allowed_client_namespaces: list[str]
    metrics_namespace: str
    k8s_provider: k8s.Provider
    service_account: str = "vllm"


def server_args(serving: ServingConfig, model_uri: str) -> list[str]:
    """The command line of `vllm serve`; every flag exists in the pinned release (see tests/data)."""
    model = serving.model
    args = [
        "--model", model_uri,
        # One name: only the router calls vLLM, and it asks for this one (the split and the shadow replays alike).
        "--served-model-name", model.served_name,
        "--host", "0.0.0.0",
        "--port", str(PORT),
        "--max-model-len", str(model.max_model_len),
        "--gpu-memory-utilization", f"{model.gpu_memory_utilization:g}",
        "--tensor-parallel-size", str(model.tensor_parallel_size),
        "--dtype", model.dtype,
        "--max-num-seqs", str(model.max_num_seqs),
        "--enable-prefix-caching" if model.enable_prefix_caching else "--no-enable-prefix-caching",
        # Drain instead of abort on SIGTERM; the rest of the grace period covers preStop and exit.
        "--shutdown-timeout", str(drain_seconds(serving)),
        "--disable-uvicorn-access-log",
    ]
    if model.quantization:
        args += ["--quantization", model.quantization]
    if model_uri.startswith("s3://"):
        # The streamer stages tensors in host memory; bound it so the container's memory limit holds.
        extra = {"concurrency": STREAMER_CONCURRENCY, "memory_limit": VLLM_STREAMER_BUFFER_GIB * 1024**3}
        args += ["--load-format", "runai_streamer", "--model-loader-extra-config", json.dumps(extra, separators=(",", ":"))]
    elif model.revision:
        args += ["--revision", model.revision]
    return args


def drain_seconds(serving: ServingConfig) -> int:
    """vLLM's --shutdown-timeout: the grace period less preStop and the margin before the kill."""
    return serving.termination_grace_period_seconds - PRESTOP_SECONDS - DRAIN_MARGIN_SECONDS



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
                 "XDG_CACHE_HOME": "/cache", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
                 # Pod Identity hands out credentials, not a region: the S3 streamer needs one.
                 "AWS_REGION": args.region, "AWS_DEFAULT_REGION": args.region}
    env = [{"name": k, "value": v} for k, v in cache_env.items()]
    mounts = [
        {"name": "shm", "mountPath": "/dev/shm"},
        {"name": "cache", "mountPath": "/cache"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        # NCCL and the tokenizer workers share memory through /dev/shm; the default 64 MiB is far too small.
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{VLLM_SHM_GIB_PER_GPU * gpus}Gi"}},
        {"name": "cache", "emptyDir": {"sizeLimit": f"{VLLM_CACHE_GIB}Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
    ]
    if has_hf_token:
        token_env, token_volume, token_mount = hf_token_file()
        env.append(token_env)
        volumes.append(token_volume)
        mounts.append(token_mount)
    # Memory requested as limited: a GPU replica is not a place to overcommit (sizes in stackconfig.model).
    memory = f"{serving.replica_memory_gib}Gi"
    spread = {"maxSkew": 1, "labelSelector": {"matchLabels": APP_LABELS}}
    return {
        "serviceAccountName": args.service_account,
        # vLLM never calls the Kubernetes API; Pod Identity mounts a token of its own for S3.
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": serving.termination_grace_period_seconds,
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": node_affinity()},
        "topologySpreadConstraints": [
            # Never two replicas on one node: a node loss (spot) takes one replica at most.
            {**spread, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"},
            # Across zones where capacity allows: Karpenter honours this when it launches nodes, and relaxes it
            # rather than leave a reservation in one zone idle.
            {**spread, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"},
        ],
        "containers": [{
            "name": "vllm",
            "image": serving.image,
            "args": server_args(serving, model_uri),
            "env": env,
            "ports": [{"name": "http", "containerPort": PORT}],
            "resources": {
                "requests": {"nvidia.com/gpu": str(gpus), "cpu": str(serving.replica_cpu), "memory": memory},
                "limits": {"nvidia.com/gpu": str(gpus), "memory": memory},
            },
            "startupProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10,
                             "failureThreshold": serving.startup_timeout_seconds // 10},
            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 15, "failureThreshold": 4},
            "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": mounts,
        }],
        "volumes": volumes,
    }


class Vllm(pulumi.ComponentResource):
    service_name: str
    base_url: str
    deployment_name: str = "vllm"

    def __init__(self, name: str, args: VllmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Vllm", name, None, opts)
        ns = args.namespace
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)

        k8s.core.v1.ServiceAccount(f"{name}-sa", metadata={"name": args.service_account, "namespace": ns}, opts=in_ns)

        replicas = args.serving.replicas
        spec = pulumi.Output.from_input(args.model_uri).apply(
            lambda uri: pod_spec(args, uri, args.has_hf_token)
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": self.deployment_name, "namespace": ns, "labels": APP_LABELS},
            spec={
                "replicas": replicas.min,
                "selector": {"matchLabels": APP_LABELS},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                # No karpenter.sh/do-not-disrupt: the pools only consolidate empty nodes, and on a drifted or expired
                # node it would keep the old GPU node and its replacement both billed for hours.
                "template": {"metadata": {"labels": APP_LABELS}, "spec": spec},
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider,
                # KEDA owns the replica count once the deployment exists.
                ignore_changes=["spec.replicas"],
                # Pulumi waits for the rollout: a new GPU node, the image pull and the model load.
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.serving.rollout_timeout_minutes}m",
                                                      update=f"{args.serving.rollout_timeout_minutes}m"),
            ),
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
