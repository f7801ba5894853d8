"""The LiteLLM proxy on the system nodes: Namespace, Secret, config, Deployment, Service, PDB, NetworkPolicy, metrics.

The config.yaml comes from ``routing.litellm_config``, llm_platform.json (what
the hooks read) from ``routing.hooks_settings``; this module only runs them,
with the hooks modules from ``hooks/`` beside them in one ConfigMap. Secrets
reach the proxy as environment variables (config.yaml refers to them as
``os.environ/<NAME>``), so the ConfigMap never holds one. A change to any of
those files rolls the pods through a checksum annotation: LiteLLM reads them
once at startup.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import yaml

from ..pod_access import ingress_only_from, service_monitor

PORT = 4000
# The ConfigMap is mounted as a directory: LiteLLM imports the hooks module from beside its config file.
CONFIG_DIR = "/etc/litellm"
CONFIG_PATH = f"{CONFIG_DIR}/config.yaml"
HOOKS_DIR = Path(__file__).with_name("hooks")
HOOKS_SETTINGS = "llm_platform.json"
ENV_SECRET = "llm-router-env"
CONFIG_MAP = "llm-router-config"
NAME = "llm-router"
PRESTOP_SECONDS = 10  # time for the endpoint removal to reach the edge before SIGTERM
PROMETHEUS_MULTIPROC_DIR = "/tmp/prometheus"
APP_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "llm-platform"}


@dataclass(frozen=True)
class RouterRedis:
    host: pulumi.Input[str]
    port: pulumi.Input[int]
    password: pulumi.Input[str]


@dataclass(frozen=True)
class RouterSampleStore:
    """Where the shadow evaluation keeps sampled pairs; the pods reach it through EKS Pod Identity."""

    bucket: pulumi.Input[str]
    prefix: str
    region: str


@dataclass(frozen=True)
class RouterArgs:
    replicas: int
    image: str  # repository:tag@sha256:digest
    litellm_config: dict[str, Any]
    hooks_settings: dict[str, Any]
    self_hosted_api_base: str  # vLLM's Service, .../v1
    openai_api_base: str
    openai_api_key: pulumi.Input[str]
    master_key: pulumi.Input[str]
    database_url: pulumi.Input[str]
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider
    ingress_from_namespaces: list[str]  # namespaces allowed to call the API, e.g. the edge's "nginx-gateway"
    redis: Optional[RouterRedis] = None
    sample_store: Optional[RouterSampleStore] = None
    namespace: str = NAME
    metrics_namespace: str = "monitoring"
    num_workers: int = 1
    # The whole-request timeout (traffic.fallback.timeoutSeconds): a stream started just before SIGTERM may run this long.
    request_timeout_seconds: int = 600


def config_yaml(litellm_config: dict[str, Any]) -> str:
    return yaml.safe_dump(litellm_config, sort_keys=False)


def router_files(litellm_config: dict[str, Any], hooks_settings: dict[str, Any]) -> dict[str, str]:
    """The ConfigMap's files: config.yaml, the hooks' settings and every hooks module (llm_platform_*.py)."""
    files = {"config.yaml": config_yaml(litellm_config), HOOKS_SETTINGS: json.dumps(hooks_settings, indent=2, sort_keys=True)}
    files.update({path.name: path.read_text() for path in sorted(HOOKS_DIR.glob("llm_platform_*.py"))})
    return files


def files_checksum(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def secret_env(args: RouterArgs) -> dict[str, pulumi.Output[str]]:
    """The proxy's secrets, by the variable names config.yaml reads (os.environ/...); every value stays a secret."""
    env = {
        "OPENAI_API_KEY": pulumi.Output.secret(args.openai_api_key),
        "LITELLM_MASTER_KEY": pulumi.Output.secret(args.master_key),
        "DATABASE_URL": pulumi.Output.secret(args.database_url),
    }
    if args.redis is not None:
        env["REDIS_PASSWORD"] = pulumi.Output.secret(args.redis.password)
    return env


def container_env(args: RouterArgs, redis: Optional[tuple[str, str]], bucket: Optional[str]) -> list[dict[str, Any]]:
    """``redis`` is the resolved (host, port) when the router shares state through a cache; ``bucket`` the resolved
    sample-store bucket when the shadow evaluation keeps pairs."""
    env = [
        {"name": "LITELLM_LOG", "value": "INFO"},
        {"name": "SELF_HOSTED_API_BASE", "value": args.self_hosted_api_base},
        {"name": "OPENAI_API_BASE", "value": args.openai_api_base},
        # Use the model price map shipped in the pinned image; never fetch one from GitHub at start.
        {"name": "LITELLM_LOCAL_MODEL_COST_MAP", "value": "True"},
    ]
    if redis is not None:
        host, port = redis
        env += [
            {"name": "REDIS_HOST", "value": host},
            {"name": "REDIS_PORT", "value": port},
            # ElastiCache has in-transit encryption on; LiteLLM passes REDIS_* variables to the redis client.
            {"name": "REDIS_SSL", "value": "true"},
        ]
    if bucket is not None and args.sample_store is not None:
        env += [
            {"name": "SHADOW_SAMPLES_BUCKET", "value": bucket},
            {"name": "SHADOW_SAMPLES_PREFIX", "value": args.sample_store.prefix},
            {"name": "AWS_REGION", "value": args.sample_store.region},
        ]
    if args.num_workers > 1:
        # Each worker is a process: prometheus_client aggregates their metrics through files in this directory.
        env.append({"name": "PROMETHEUS_MULTIPROC_DIR", "value": PROMETHEUS_MULTIPROC_DIR})
    return env


def pod_spec(args: RouterArgs, redis: Optional[tuple[str, str]], bucket: Optional[str] = None) -> dict[str, Any]:
    workers = args.num_workers
    volumes: list[dict[str, Any]] = [{"name": "config", "configMap": {"name": CONFIG_MAP}}]
    mounts: list[dict[str, Any]] = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}]
    if workers > 1:
        volumes.append({"name": "prometheus", "emptyDir": {"sizeLimit": "256Mi"}})
        mounts.append({"name": "prometheus", "mountPath": PROMETHEUS_MULTIPROC_DIR})
    health = {"port": "http", "scheme": "HTTP"}
    return {
        # In-flight streams finish before the pod goes: preStop, then up to the request timeout, then a margin.
        "terminationGracePeriodSeconds": PRESTOP_SECONDS + args.request_timeout_seconds + 20,
        # Its own identity: EKS Pod Identity binds the sample store's role to it. The Pod Identity webhook projects a
        # token of its own (audience pods.eks.amazonaws.com) whatever automountServiceAccountToken says.
        "serviceAccountName": NAME,
        "nodeSelector": dict(args.system_node_selector),
        # LiteLLM never calls the Kubernetes API: no token for a compromised proxy to use.
        "automountServiceAccountToken": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "topologySpreadConstraints": [{
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            # The system node group may not span every zone at every size: prefer spreading, never block a rollout.
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": APP_LABELS},
        }],
        "initContainers": [wait_for_valkey(args, redis)] if redis is not None else [],
        "containers": [{
            "name": "litellm",
            "image": args.image,
            # No command: the image's entrypoint runs migrations, then the proxy with these arguments.
            "args": ["--config", CONFIG_PATH, "--port", str(PORT), "--num_workers", str(workers)],
            "envFrom": [{"secretRef": {"name": ENV_SECRET}}],
            "env": container_env(args, redis, bucket),
            "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
            # Liveness must not depend on the database or OpenAI: /health/liveliness only says the process answers.
            # /health calls every model and needs a key, so it is never a probe.
            "startupProbe": {"httpGet": {"path": "/health/liveliness", **health}, "periodSeconds": 10,
                             "timeoutSeconds": 5, "failureThreshold": 30},
            "livenessProbe": {"httpGet": {"path": "/health/liveliness", **health}, "periodSeconds": 15,
                              "timeoutSeconds": 5, "failureThreshold": 5},
            # Readiness includes the database connection: a router that cannot check keys takes no traffic.
            "readinessProbe": {"httpGet": {"path": "/health/readiness", **health}, "periodSeconds": 10,
                               "timeoutSeconds": 5, "failureThreshold": 3},
            "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}},
            "resources": {
                "requests": {"cpu": f"{500 * workers}m", "memory": f"{workers}Gi"},
                "limits": {"cpu": f"{2 * workers}", "memory": f"{2 * workers}Gi"},
            },
            "securityContext": {
                # The standard image runs as root (only the litellm-non_root variant does not), so no runAsNonRoot.
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                # Prisma writes into the image at startup (generate/migrate); a read-only root breaks the proxy.
                "readOnlyRootFilesystem": False,
            },
            "volumeMounts": mounts,
        }],
        "volumes": volumes,
    }


# Run with the image's own Python and redis client: a replica that cannot reach the shared Valkey (TLS, AUTH)
# does not start, rather than serve with per-pod rate limits.
VALKEY_CHECK = """
import os, time, redis
client = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]),
                     password=os.environ["REDIS_PASSWORD"], ssl=True, socket_timeout=3, socket_connect_timeout=3)
for attempt in range(30):
    try:
        client.ping()
        raise SystemExit(0)
    except redis.RedisError as err:
        print(f"valkey not reachable yet ({type(err).__name__})", flush=True)
        time.sleep(5)
raise SystemExit("valkey unreachable for 150 s: refusing to start with per-pod rate limits")
"""


def wait_for_valkey(args: RouterArgs, redis: tuple[str, str]) -> dict[str, Any]:
    host, port = redis
    return {
        "name": "wait-for-valkey",
        "image": args.image,
        "command": ["python3", "-c", VALKEY_CHECK],
        "env": [
            {"name": "REDIS_HOST", "value": host},
            {"name": "REDIS_PORT", "value": port},
            {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": ENV_SECRET, "key": "REDIS_PASSWORD"}}},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


class Router(pulumi.ComponentResource):
    service_name: str
    namespace: str
    namespace_resource: k8s.core.v1.Namespace  # what the edge's grant and upstream policy need, not the pods
    port: int

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:Router", name, None, opts)
        if "@sha256:" not in args.image:
            raise ValueError(f"router image must be pinned by digest (repository:tag@sha256:...), got {args.image}")
        ns = args.namespace
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            # The image runs as root: baseline is the strictest standard it meets; warn on restricted to keep it visible.
            metadata={"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "baseline",
                                             "pod-security.kubernetes.io/warn": "restricted"}},
            opts=k8s_opts,
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[namespace])

        secret = k8s.core.v1.Secret(
            f"{name}-env",
            metadata={"name": ENV_SECRET, "namespace": ns, "labels": APP_LABELS},
            type="Opaque",
            string_data=secret_env(args),
            opts=in_ns,
        )

        files = router_files(args.litellm_config, args.hooks_settings)
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": CONFIG_MAP, "namespace": ns, "labels": APP_LABELS},
            data=files,
            opts=in_ns,
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": NAME, "namespace": ns, "labels": APP_LABELS},
            opts=in_ns,
        )

        redis_endpoint = [args.redis.host, args.redis.port] if args.redis is not None else []
        bucket = [args.sample_store.bucket] if args.sample_store is not None else []
        if not redis_endpoint and not bucket:
            spec: pulumi.Input[dict[str, Any]] = pod_spec(args, None)
        else:
            spec = pulumi.Output.all(*redis_endpoint, *bucket).apply(
                lambda values: pod_spec(
                    args,
                    (str(values[0]), str(values[1])) if redis_endpoint else None,
                    str(values[-1]) if bucket else None,
                )
            )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": NAME, "namespace": ns, "labels": APP_LABELS},
            spec={
                "replicas": args.replicas,
                "selector": {"matchLabels": APP_LABELS},
                # Never below the configured capacity during a rollout.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {
                    "metadata": {
                        "labels": APP_LABELS,
                        "annotations": {"checksum/config": files_checksum(files)},
                    },
                    "spec": spec,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider,
                                        depends_on=[namespace, secret, config, service_account]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, "namespace": ns, "labels": APP_LABELS},
            spec={"selector": APP_LABELS, "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]},
            opts=in_ns,
        )
        if args.replicas >= 2:
            # One replica must stay up through node drains; with a single replica a PDB would block them instead.
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata={"name": NAME, "namespace": ns, "labels": APP_LABELS},
                spec={"minAvailable": 1, "selector": {"matchLabels": APP_LABELS}},
                opts=in_ns,
            )
        # Only the edge calls the API, only Prometheus scrapes it. Egress stays open: OpenAI, vLLM, RDS, Valkey.
        ingress_only_from(
            f"{name}-ingress", name=f"{NAME}-ingress", namespace=ns, pod_labels=APP_LABELS,
            namespaces=[*args.ingress_from_namespaces, args.metrics_namespace], port=PORT, opts=in_ns,
        )
        service_monitor(
            f"{name}-metrics", name=NAME, namespace=ns, service_labels=APP_LABELS, port_name="http",
            interval="30s", opts=in_ns,
        )

        self.service_name = NAME
        self.namespace = ns
        self.namespace_resource = namespace
        self.port = PORT
        self.register_outputs({"serviceName": self.service_name, "namespace": ns, "port": PORT})
