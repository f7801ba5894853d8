"""The whole platform for one stack: a validated StackConfig in, components out.

Nothing here reads config or the environment; the caller passes a StackConfig,
so the Pulumi entry point, the tests and the offline plan all build any stack
the same way, in one process.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.addons import AFTER_NODES, BEFORE_NODES, ClusterAddons, ClusterAddonsArgs
from infra.cluster import Cluster, ClusterArgs
from infra.cost_alarms import CostAlarms, CostAlarmsArgs
from infra.karpenter import GpuNodePools, GpuNodePoolsArgs, Karpenter, KarpenterArgs
from infra.model_weights import ModelWeights, ModelWeightsArgs
from infra.network import Network, NetworkArgs, Zone
from infra.pod_identity import PodIdentityRole, PodIdentityRoleArgs
from infra.router_store import RouterStore, RouterStoreArgs
from infra.shadow_samples import ShadowSamples, ShadowSamplesArgs
from infra.system_nodes import SystemNodeGroup, SystemNodeGroupArgs
from stackconfig import StackConfig
from stackconfig.versions import EKS_ADDON_VERSIONS
from tools.cost.live_prices import gpu_node_hourly_prices
from tools.cost.model import expected_monthly_usd, monthly_budget_usd, openai_bill
from workloads.autoscaling import Keda, KedaArgs
from workloads.edge import BackendRef, Edge, EdgeArgs, PublicService
from workloads.edge.common import NAMESPACE as EDGE_NAMESPACE
from workloads.gpu_operator import GpuOperator, GpuOperatorArgs
from workloads.monitoring import NAMESPACE as MONITORING_NAMESPACE
from workloads.monitoring import PROMETHEUS_URL, STORAGE_CLASS, Monitoring, MonitoringArgs
from workloads.observability.alerting import SERVICE_ACCOUNT as ALERTMANAGER_SERVICE_ACCOUNT
from workloads.observability.alerting import AlertingArgs
from workloads.observability.component import Observability, ObservabilityArgs
from workloads.observability.grafana import SERVICE_NAME as GRAFANA_SERVICE
from workloads.observability.grafana import SERVICE_PORT as GRAFANA_PORT
from workloads.observability.grafana import GrafanaArgs, dashboard_documents
from workloads.observability.logs import LOKI_URL
from workloads.observability.logs import NAMESPACE as LOGGING_NAMESPACE
from workloads.observability.rules import RuleParameters
from workloads.router import Router, RouterArgs, RouterRedis, RouterSampleStore
from workloads.router.deployment import NAME as ROUTER_SERVICE_ACCOUNT
from workloads.router.routing import FALLBACK_ID_SUFFIX, fallback_deployment_ids, hooks_settings, litellm_config
from workloads.serving import (
    ServingNamespace,
    ServingNamespaceArgs,
    Vllm,
    VllmArgs,
    VllmScaling,
    VllmScalingArgs,
    WeightsSync,
    WeightsSyncArgs,
    weights_prefix,
)

COST_TAG_KEY = "llm-platform/stack"
SERVING_NAMESPACE = "llm-serving"
ROUTER_NAMESPACE = "llm-router"
SYSTEM_NODE_SELECTOR = {"node.llm-platform.io/role": "system"}


def default_tags(cfg: StackConfig) -> dict[str, str]:
    return {
        "Project": "llm-platform",
        COST_TAG_KEY: cfg.stack,
        "llm-platform/phase": cfg.phase,
        "CostCenter": cfg.tags.cost_center,
        **cfg.tags.extra,
    }


def addon_versions(cfg: StackConfig) -> dict[str, str]:
    pinned = dict(EKS_ADDON_VERSIONS[cfg.cluster.version])
    overrides = cfg.cluster.addon_versions.model_dump(exclude_none=True)
    pinned.update({name.replace("_", "-"): version for name, version in overrides.items()})
    return pinned


def pick_zones(names_by_id: dict[str, str], cfg: StackConfig) -> list[Zone]:
    """The stack's zones: pinned by ID, or the region's first ones (the account decides which those are)."""
    wanted = cfg.network.zone_ids or list(names_by_id)[: cfg.network.zone_count]
    missing = [zone_id for zone_id in wanted if zone_id not in names_by_id]
    if missing:
        raise ValueError(
            f"llm-platform:network.zoneIds: {', '.join(missing)} not available to this account in {cfg.region}; "
            f"available: {', '.join(names_by_id)}"
        )
    return [Zone(name=names_by_id[zone_id], zone_id=zone_id) for zone_id in wanted]


def build_platform(cfg: StackConfig) -> dict[str, pulumi.Input]:
    """Declare every resource of the stack; returns the stack outputs."""
    tags = default_tags(cfg)
    aws_provider = aws.Provider("aws", region=cfg.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
    on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider})

    available = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=pulumi.InvokeOptions(provider=aws_provider),
    )
    zones = pick_zones(dict(zip(available.zone_ids, available.names)), cfg)

    network = Network(
        "network",
        NetworkArgs(
            cluster_name=cfg.cluster_name,
            region=cfg.region,
            cidr=cfg.network.vpc_cidr,
            zones=zones,
            nat_per_az=cfg.network.nat_gateways == "perAz",
            interface_endpoints=list(cfg.network.interface_endpoints),
        ),
        opts=on_aws,
    )
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            cluster_name=cfg.cluster_name,
            version=cfg.cluster.version,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            public_access_cidrs=list(cfg.cluster.public_access_cidrs),
            admin_principals=list(cfg.cluster.admin_principals),
            log_types=list(cfg.cluster.log_types),
            log_retention_days=cfg.cluster.log_retention_days,
        ),
        opts=on_aws,
    )
    versions = addon_versions(cfg)
    node_networking = ClusterAddons(
        "addons-node-networking",
        ClusterAddonsArgs(cluster_name=cluster.name, versions=versions, names=BEFORE_NODES),
        opts=on_aws,
    )
    system_nodes = SystemNodeGroup(
        "system-nodes",
        SystemNodeGroupArgs(
            cluster_name=cluster.name,
            subnet_ids=network.private_subnet_ids,
            instance_types=list(cfg.system_nodes.instance_types),
            min_size=cfg.system_nodes.min_size,
            max_size=cfg.system_nodes.max_size,
            desired_size=cfg.system_nodes.desired_size,
            disk_size_gib=cfg.system_nodes.disk_size_gib,
            labels=SYSTEM_NODE_SELECTOR,
            tags=tags,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}, depends_on=[node_networking]),
    )
    # CoreDNS and the EBS CSI driver run as Deployments: they turn ACTIVE once system nodes exist, and every
    # workload below needs them (DNS; volumes for Prometheus), so everything in the cluster waits for them.
    cluster_services = ClusterAddons(
        "addons-workloads",
        ClusterAddonsArgs(cluster_name=cluster.name, versions=versions, names=AFTER_NODES),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}, depends_on=[system_nodes]),
    )

    k8s_provider = k8s.Provider(
        "eks", kubeconfig=cluster.kubeconfig_json, enable_server_side_apply=True, delete_unreachable=False
    )
    karpenter = Karpenter(
        "karpenter",
        KarpenterArgs(
            cluster_name=cluster.name,
            region=cfg.region,
            version=cfg.karpenter.version,
            system_node_selector=SYSTEM_NODE_SELECTOR,
            k8s_provider=k8s_provider,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}, depends_on=[system_nodes, cluster_services]),
    )
    gpu_pools = GpuNodePools(
        "gpu-pools",
        GpuNodePoolsArgs(
            cluster_name=cfg.cluster_name,
            node_role_name=karpenter.node_role_name,
            cluster_security_group_id=cluster.cluster_security_group_id,
            karpenter=cfg.karpenter,
            spot=cfg.gpu_pools.spot,
            reserved=cfg.gpu_pools.reserved,
            instance_tags=tags,
            k8s_provider=k8s_provider,
        ),
        # The controller itself, not only its CRDs: `pulumi destroy` deletes the pools while Karpenter still runs
        # and can terminate their nodes.
        opts=pulumi.ResourceOptions(depends_on=[karpenter]),
    )
    # Alertmanager pages through the alarms' topic; the topic and its key name this role, so it comes first.
    alert_publisher = PodIdentityRole(
        "alertmanager",
        PodIdentityRoleArgs(cluster_name=cluster.name, namespace=MONITORING_NAMESPACE, service_account=ALERTMANAGER_SERVICE_ACCOUNT),
        opts=on_aws,
    )
    alarms = CostAlarms(
        "cost-alarms",
        CostAlarmsArgs(
            stack=cfg.stack,
            cost_tag_key=COST_TAG_KEY,
            monthly_limit_usd=monthly_budget_usd(cfg),
            expected_monthly_usd=expected_monthly_usd(cfg),
            actual_thresholds_percent=list(cfg.budget.actual_thresholds_percent),
            forecast_thresholds_percent=list(cfg.budget.forecast_thresholds_percent),
            emails=list(cfg.budget.notification_emails),
            anomaly_threshold_usd=cfg.budget.anomaly_threshold_usd,
            region=cfg.region,
            alert_publisher_role_arn=alert_publisher.role_arn,
            alert_publisher_role_name=alert_publisher.role_name,
        ),
        opts=on_aws,
    )

    observability = cfg.observability
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            k8s_provider=k8s_provider, system_node_selector=SYSTEM_NODE_SELECTOR,
            retention=observability.prometheus_retention, storage_gib=observability.prometheus_storage_gib,
            cost_tags=tags,
            grafana=GrafanaArgs(
                admin_password=cfg.grafana_admin_password.get_secret_value(), storage_gib=observability.grafana.storage_gib,
                storage_class=STORAGE_CLASS, loki_url=LOKI_URL, public_hostname=observability.grafana.hostname,
            ),
            alerting=AlertingArgs(topic_arn=alarms.topic_arn, region=cfg.region),
        ),
        # Alertmanager starts with its Pod Identity association and its permission to publish in place.
        opts=pulumi.ResourceOptions(depends_on=[karpenter, cluster_services, alert_publisher, alarms]),
    )
    GpuOperator(
        "gpu-operator",
        GpuOperatorArgs(k8s_provider=k8s_provider, system_node_selector=SYSTEM_NODE_SELECTOR, depends_on=[monitoring.release]),
    )
    keda = Keda(
        "keda", KedaArgs(k8s_provider=k8s_provider, system_node_selector=SYSTEM_NODE_SELECTOR, depends_on=[monitoring.release])
    )
    serving = build_serving(
        cfg, cluster.name, aws_provider, k8s_provider, platform=[karpenter, gpu_pools, monitoring.release], keda=keda.release
    )
    router = build_router(cfg, network, cluster, aws_provider, k8s_provider, serving, depends_on=[karpenter, monitoring.release])
    edge = Edge(
        "edge",
        EdgeArgs(
            cluster_name=cluster.name,
            region=cfg.region,
            vpc_id=network.vpc_id,
            edge=cfg.traffic.edge,
            router=BackendRef(router.service_name, router.namespace, router.port),
            system_node_selector=SYSTEM_NODE_SELECTOR,
            k8s_provider=k8s_provider,
            phase=cfg.phase,
            cost_tags=tags,
            # Only the router's namespace, not its pods: the edge comes up while the router's database is still
            # being created.
            backend_namespaces=(router.namespace_resource,),
            grafana=PublicService(
                observability.grafana.hostname, BackendRef(GRAFANA_SERVICE, MONITORING_NAMESPACE, GRAFANA_PORT)
            ) if observability.grafana.hostname else None,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}, depends_on=[karpenter, monitoring.release]),
    )

    Observability(
        "observability",
        ObservabilityArgs(
            k8s_provider=k8s_provider, cluster_name=cluster.name, cluster_label=cfg.cluster_name, region=cfg.region,
            system_node_selector=SYSTEM_NODE_SELECTOR, loki=observability.loki,
            rules=rule_parameters(cfg), dashboards=dashboard_documents(),
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}, depends_on=[karpenter, monitoring.release]),
    )

    return {
        "apiBaseUrl": pulumi.Output.concat("https://", edge.hostname, "/v1"),
        "selfHostedBaseUrl": serving.base_url,
        "clusterName": cluster.name,
        "kubeconfig": cluster.kubeconfig_json,
        "vpcId": network.vpc_id,
        "alertsTopicArn": alarms.topic_arn,
        "phase": cfg.phase,
    }


def openai_monthly_budget_usd(cfg: StackConfig) -> float | None:
    """What the phase sets aside for OpenAI a month: config, else the cost model's OpenAI bill for the phase's load
    plus the budget's headroom; None where OpenAI answers nothing."""
    alerts = cfg.observability.alerts
    if alerts.openai_monthly_budget_usd is not None:
        return alerts.openai_monthly_budget_usd
    bill = openai_bill(cfg).monthly_usd
    return round(bill * (1 + cfg.budget.headroom_percent / 100), 2) if bill > 0 else None


def rule_parameters(cfg: StackConfig) -> RuleParameters:
    alerts = cfg.observability.alerts
    fallback_ids = fallback_deployment_ids(litellm_config(cfg.traffic, cfg.serving, use_redis=False))
    return RuleParameters(
        runbook_url=cfg.observability.runbook_url,
        p99_latency_ms=alerts.p99_latency_ms,
        ttft_p95_ms=alerts.ttft_p95_ms,
        error_rate_percent=alerts.error_rate_percent,
        queue_depth=alerts.queue_depth,
        kv_cache_usage_percent=alerts.kv_cache_usage_percent,
        preemptions_per_ten_minutes=alerts.preemptions_per_ten_minutes,
        fallback_rate_percent=alerts.fallback_rate_percent,
        gpu_utilization_floor_percent=alerts.gpu_utilization_floor_percent,
        gpu_idle_window=alerts.gpu_idle_window,
        gpu_pod_pending_minutes=alerts.gpu_pod_pending_minutes,
        spot_interruptions_per_hour=alerts.spot_interruptions_per_hour,
        storage_free_percent=alerts.storage_free_percent,
        certificate_expiry_days=alerts.certificate_expiry_days,
        prometheus_retention=cfg.observability.prometheus_retention,
        serving_namespace=SERVING_NAMESPACE,
        vllm_deployment=Vllm.deployment_name,
        storage_namespaces=(MONITORING_NAMESPACE, LOGGING_NAMESPACE),
        vllm_min_replicas=cfg.serving.replicas.min or None,
        min_requests_per_second=alerts.min_requests_per_second,
        fallback_model_id_pattern=f".+{FALLBACK_ID_SUFFIX}" if fallback_ids else None,
        router_shares_state=True if cfg.traffic.router.replicas > 1 else None,
        openai_monthly_budget_usd=openai_monthly_budget_usd(cfg),
        gpu_node_hourly_prices=tuple(
            (instance_type, capacity_type, price)
            for (instance_type, capacity_type), price in gpu_node_hourly_prices(cfg).items()
        ),
    )


def build_serving(
    cfg: StackConfig,
    cluster_name: pulumi.Input[str],
    aws_provider: aws.Provider,
    k8s_provider: k8s.Provider,
    platform: list[pulumi.Resource],
    keda: pulumi.Resource,
) -> Vllm:
    """vLLM, its weights cache and its autoscaling, in the order a first `pulumi up` can complete them:
    namespace, then the weights (bucket, roles, the Job that fills it), then vLLM, which needs all of them."""
    serving = cfg.serving
    hf_token = cfg.hf_token.get_secret_value() if cfg.hf_token else None
    namespace = ServingNamespace(
        "serving", ServingNamespaceArgs(name=SERVING_NAMESPACE, hf_token=hf_token, k8s_provider=k8s_provider),
        opts=pulumi.ResourceOptions(depends_on=platform),
    )
    model_uri: pulumi.Input[str] = serving.model.id
    vllm_waits_for: list[pulumi.Resource] = [namespace, *platform]
    if serving.weights_cache == "s3":
        # Its Pod Identity associations are among its children: pods get credentials only if they exist first.
        weights = ModelWeights(
            "model-weights",
            ModelWeightsArgs(cluster_name=cluster_name, namespace=SERVING_NAMESPACE,
                             reader_service_account="vllm", writer_service_account="weights-sync"),
            opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
        )
        sync = WeightsSync(
            "weights-sync",
            WeightsSyncArgs(namespace=SERVING_NAMESPACE, serving=serving, bucket=weights.bucket_name, region=cfg.region,
                            service_account="weights-sync", has_hf_token=hf_token is not None,
                            system_node_selector=SYSTEM_NODE_SELECTOR, k8s_provider=k8s_provider),
            opts=pulumi.ResourceOptions(depends_on=[namespace, weights]),
        )
        model_uri = pulumi.Output.concat("s3://", weights.bucket_name, "/", weights_prefix(serving), "/")
        vllm_waits_for += [weights, sync]
    vllm = Vllm(
        "vllm",
        VllmArgs(
            namespace=SERVING_NAMESPACE,
            region=cfg.region,
            serving=serving,
            model_uri=model_uri,
            has_hf_token=hf_token is not None,
            # Only the router calls vLLM: the split, the fallback's probes and the shadow replays all come from it.
            allowed_client_namespaces=[ROUTER_NAMESPACE],
            metrics_namespace=MONITORING_NAMESPACE,
            k8s_provider=k8s_provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=vllm_waits_for),
    )
    VllmScaling(
        "vllm-scaling",
        VllmScalingArgs(namespace=SERVING_NAMESPACE, deployment=vllm.deployment_name, serving=serving,
                        prometheus_url=PROMETHEUS_URL, router_namespace=ROUTER_NAMESPACE, k8s_provider=k8s_provider),
        opts=pulumi.ResourceOptions(depends_on=[vllm, keda]),
    )
    return vllm


def build_router(
    cfg: StackConfig,
    network: Network,
    cluster: Cluster,
    aws_provider: aws.Provider,
    k8s_provider: k8s.Provider,
    vllm: Vllm,
    depends_on: list[pulumi.Resource],
) -> Router:
    """The LiteLLM router with its database (keys, spend) and, with several replicas, a shared cache."""
    traffic = cfg.traffic
    store = RouterStore(
        "router-store",
        RouterStoreArgs(cluster_name=cfg.cluster_name, vpc_id=network.vpc_id,
                        client_security_group_id=cluster.cluster_security_group_id,
                        private_subnet_ids=network.private_subnet_ids, store=traffic.router.store,
                        multiple_router_replicas=traffic.router.replicas > 1),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
    )
    redis = RouterRedis(store.redis_host, store.redis_port, store.redis_password) if store.has_cache else None
    sample_store, waits_for = None, list(depends_on)
    if traffic.shadow.sample_store.enabled:
        samples = ShadowSamples(
            "shadow-samples",
            ShadowSamplesArgs(cluster_name=cluster.name, namespace=ROUTER_NAMESPACE, service_account=ROUTER_SERVICE_ACCOUNT,
                              expire_days=traffic.shadow.sample_store.expire_days),
            opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
        )
        sample_store = RouterSampleStore(bucket=samples.bucket_name, prefix=samples.prefix, region=cfg.region)
        waits_for.append(samples)  # its Pod Identity association, before the router's pods start
    return Router(
        "llm-router",
        RouterArgs(
            replicas=traffic.router.replicas,
            image=traffic.router.image,
            litellm_config=litellm_config(traffic, cfg.serving, use_redis=store.has_cache),
            hooks_settings=hooks_settings(traffic, cfg.serving),
            self_hosted_api_base=vllm.base_url,
            openai_api_base=traffic.openai_api_base,
            openai_api_key=cfg.openai_api_key.get_secret_value(),
            master_key=cfg.router_master_key.get_secret_value(),
            database_url=store.database_url,
            system_node_selector=SYSTEM_NODE_SELECTOR,
            k8s_provider=k8s_provider,
            ingress_from_namespaces=[EDGE_NAMESPACE],
            redis=redis,
            sample_store=sample_store,
            namespace=ROUTER_NAMESPACE,
            metrics_namespace=MONITORING_NAMESPACE,
            request_timeout_seconds=traffic.worst_case_first_byte_seconds,
        ),
        opts=pulumi.ResourceOptions(depends_on=waits_for),
    )
