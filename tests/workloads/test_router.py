"""The LiteLLM router workload: secrets stay secret, probes, disruption budget, who may call it, metrics."""

from __future__ import annotations

import functools
import json

import pytest
import yaml

from tests.conftest import Plan, k8s_test_provider, plan_of

SYSTEM = {"node.llm-platform.io/role": "system"}
IMAGE = "ghcr.io/berriai/litellm:v1.103.2@sha256:f63fb81b831b170ec16851e23c36ac5bf52ef106b271406429524a2ed730bbfd"
CONFIG = {
    "model_list": [{"model_name": "gpt-4o-mini", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "os.environ/OPENAI_API_KEY"}}],
    "litellm_settings": {"callbacks": ["prometheus"], "require_auth_for_metrics_endpoint": False},
    "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY", "database_url": "os.environ/DATABASE_URL"},
}


HOOKS_SETTINGS = {"public_models": ["gpt-4o-mini"], "self_hosted_only_models": [], "critical_tags": ["critical"],
                  "shadow": {"percent": 10.0}}


@functools.lru_cache(maxsize=None)
def router_plan(replicas: int, with_redis: bool, num_workers: int = 1, config_marker: str = "",
                with_samples: bool = False) -> Plan:
    def build() -> None:
        import pulumi

        from workloads.router import Router, RouterArgs, RouterRedis, RouterSampleStore

        config = {**CONFIG, "router_settings": {"timeout": 600, "marker": config_marker}}
        redis = (
            RouterRedis(host=pulumi.Output.from_input("master.llm-test.abc123.use1.cache.amazonaws.com"), port=6379,
                        password=pulumi.Output.from_input("cache-password"))
            if with_redis else None
        )
        Router(
            "router",
            RouterArgs(
                replicas=replicas,
                image=IMAGE,
                litellm_config=config,
                hooks_settings=HOOKS_SETTINGS,
                self_hosted_api_base="http://vllm.llm-serving.svc.cluster.local:8000/v1",
                openai_api_base="https://egress.internal.example/openai/v1",
                openai_api_key="sk-openai",
                master_key="sk-master",
                database_url=pulumi.Output.secret("postgresql://litellm:pw@db.example:5432/litellm"),
                redis=redis,
                sample_store=RouterSampleStore(bucket=pulumi.Output.from_input("llm-shadow-samples-1a2b"),
                                               prefix="shadow-samples", region="eu-west-1") if with_samples else None,
                system_node_selector=SYSTEM,
                k8s_provider=k8s_test_provider(),
                ingress_from_namespaces=["nginx-gateway"],
                num_workers=num_workers,
            ),
        )

    return plan_of(build)


@pytest.fixture(scope="module")
def ha() -> Plan:
    return router_plan(2, True, num_workers=2)


@pytest.fixture(scope="module")
def single() -> Plan:
    return router_plan(1, False)


def container(plan: Plan) -> dict:
    (c,) = plan.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]["containers"]
    return c


def env_names(plan: Plan) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(plan)["env"]}


def test_secret_values_stay_secret(ha, single):
    for plan in (ha, single):
        string_data = plan.k8s("Secret", "llm-router-env")["stringData"]
        assert string_data and set(string_data.values()) == {"[secret]"}, "keys stay, values are hidden"
        assert container(plan)["envFrom"] == [{"secretRef": {"name": "llm-router-env"}}]


def test_secret_holds_what_the_config_reads():
    """The recorded Secret is opaque as a whole, so check its keys and secrecy on the function that builds it."""
    import pulumi

    from workloads.router import RouterArgs, RouterRedis
    from workloads.router.deployment import secret_env

    def build() -> None:
        common = dict(replicas=2, image=IMAGE, litellm_config=CONFIG, hooks_settings=HOOKS_SETTINGS, self_hosted_api_base="http://v/v1",
                      openai_api_base="https://o/v1", openai_api_key="sk-openai", master_key="sk-master",
                      database_url="postgresql://x", system_node_selector=SYSTEM, k8s_provider=None,
                      ingress_from_namespaces=["nginx-gateway"])
        with_cache = secret_env(RouterArgs(**common, redis=RouterRedis(host="h", port=6379, password="p")))
        without = secret_env(RouterArgs(**common))
        assert set(without) == {"OPENAI_API_KEY", "LITELLM_MASTER_KEY", "DATABASE_URL"}
        for key, value in with_cache.items():
            pulumi.export(key, value)

    assert plan_of(build).recording.outputs == {
        "OPENAI_API_KEY": "[secret]", "LITELLM_MASTER_KEY": "[secret]", "DATABASE_URL": "[secret]", "REDIS_PASSWORD": "[secret]",
    }


def test_config_and_hooks_are_mounted_and_passed_to_the_proxy(ha):
    config_map = ha.k8s("ConfigMap", "llm-router-config")
    assert set(config_map["data"]) == {"config.yaml", "llm_platform.json", "llm_platform_hooks.py", "llm_platform_gate.py",
                                       "llm_platform_shadow.py", "llm_platform_agreement.py", "llm_platform_samples.py"}
    assert yaml.safe_load(config_map["data"]["config.yaml"])["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert json.loads(config_map["data"]["llm_platform.json"]) == HOOKS_SETTINGS
    assert "class ReadinessGate" in config_map["data"]["llm_platform_gate.py"]
    assert "class ShadowEvaluation" in config_map["data"]["llm_platform_shadow.py"]
    c = container(ha)
    assert "command" not in c
    assert c["args"] == ["--config", "/etc/litellm/config.yaml", "--port", "4000", "--num_workers", "2"]
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/etc/litellm"]
    assert "subPath" not in mount, "LiteLLM imports the hooks module from beside config.yaml"
    volumes = {v["name"]: v for v in ha.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mount["name"]]["configMap"]["name"] == "llm-router-config"


def test_upstreams_come_from_the_environment(ha):
    env = env_names(ha)
    assert env["SELF_HOSTED_API_BASE"] == "http://vllm.llm-serving.svc.cluster.local:8000/v1"
    assert env["OPENAI_API_BASE"] == "https://egress.internal.example/openai/v1"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True", "no fetch of the price map from GitHub at start"


def test_config_change_rolls_the_pods():
    def checksum(plan: Plan) -> str:
        return plan.k8s("Deployment", "llm-router")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    from workloads.router.deployment import files_checksum

    one, other = router_plan(1, False, config_marker="a"), router_plan(1, False, config_marker="b")
    assert checksum(one) != checksum(other)
    data = one.k8s("ConfigMap", "llm-router-config")["data"]
    assert checksum(one) == files_checksum(data), "every file of the ConfigMap counts: config, settings, hooks"
    assert files_checksum({**data, "llm_platform.json": "{}"}) != checksum(one)
    assert files_checksum({**data, "llm_platform_shadow.py": ""}) != checksum(one)


def test_a_replica_without_the_shared_valkey_does_not_start(ha, single):
    pod = ha.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["image"] == IMAGE and init["command"][:2] == ["python3", "-c"]
    assert "ssl=True" in init["command"][2] and "ping()" in init["command"][2]
    env = {e["name"]: e for e in init["env"]}
    assert env["REDIS_HOST"]["value"].startswith("master.") and env["REDIS_PORT"]["value"] == "6379"
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "llm-router-env", "key": "REDIS_PASSWORD"}
    assert "envFrom" not in init, "the check sees the Valkey password and nothing else"
    assert not single.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]["initContainers"]


def test_image_is_pinned_by_tag_and_digest(ha):
    image = container(ha)["image"]
    assert image == IMAGE
    name, digest = image.split("@")
    assert ":" in name and digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


def test_unpinned_image_is_refused():
    from workloads.router import Router, RouterArgs

    with pytest.raises(Exception, match="pinned by digest"):
        def build() -> None:
            Router("router", RouterArgs(replicas=1, image="ghcr.io/berriai/litellm:v1.103.2", litellm_config=CONFIG,
                                        hooks_settings=HOOKS_SETTINGS,
                                        self_hosted_api_base="http://v/v1", openai_api_base="https://o/v1", openai_api_key="k", master_key="m", database_url="d", system_node_selector=SYSTEM,
                                        k8s_provider=k8s_test_provider(), ingress_from_namespaces=["nginx-gateway"]))

        plan_of(build)


def test_probes_use_the_cheap_health_endpoints(ha):
    c = container(ha)
    assert c["startupProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert c["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert c["readinessProbe"]["httpGet"]["path"] == "/health/readiness"
    assert all(c[p]["httpGet"]["port"] == "http" for p in ("startupProbe", "livenessProbe", "readinessProbe"))
    assert c["ports"] == [{"name": "http", "containerPort": 4000, "protocol": "TCP"}]


def test_pod_runs_on_system_nodes_spread_and_drains_streams(ha):
    pod = ha.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]
    assert SYSTEM.items() <= pod["nodeSelector"].items()
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert pod["terminationGracePeriodSeconds"] >= 600
    c = container(ha)
    assert c["resources"]["requests"] and c["resources"]["limits"]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is False
    assert "runAsNonRoot" not in sc and "runAsNonRoot" not in pod["securityContext"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False, "LiteLLM never calls the Kubernetes API"


def test_redis_endpoint_only_with_a_cache(ha, single):
    env = env_names(ha)
    assert env["REDIS_HOST"] == "master.llm-test.abc123.use1.cache.amazonaws.com"
    assert env["REDIS_PORT"] == "6379" and env["REDIS_SSL"] == "true"
    assert env["LITELLM_LOG"] == "INFO"
    assert not {"REDIS_HOST", "REDIS_PORT", "REDIS_SSL"} & set(env_names(single))


def test_multiprocess_metrics_dir_only_with_several_workers(ha, single):
    assert env_names(ha)["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    assert {"name": "prometheus", "mountPath": "/tmp/prometheus"} in container(ha)["volumeMounts"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in env_names(single)
    assert container(single)["args"][-2:] == ["--num_workers", "1"]


def test_pdb_only_with_two_replicas_or_more(ha, single):
    pdbs = ha.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert len(pdbs) == 1 and pdbs[0].inputs["spec"]["minAvailable"] == 1
    assert single.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    assert ha.k8s("Deployment", "llm-router")["spec"]["replicas"] == 2


def test_only_the_edge_and_prometheus_reach_the_router(ha):
    policy = ha.k8s("NetworkPolicy", "llm-router-ingress")["spec"]
    assert policy["policyTypes"] == ["Ingress"]  # egress open: OpenAI, the database, vLLM
    (rule,) = policy["ingress"]
    sources = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert sources == {"nginx-gateway", "monitoring"}
    assert all(set(peer) == {"namespaceSelector"} for peer in rule["from"])
    assert rule["ports"] == [{"protocol": "TCP", "port": 4000}]
    deployment = ha.k8s("Deployment", "llm-router")
    assert policy["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_service_and_service_monitor(ha):
    service = ha.k8s("Service", "llm-router")
    assert service["spec"]["ports"] == [{"name": "http", "port": 4000, "targetPort": "http", "protocol": "TCP"}]
    monitor = ha.k8s("ServiceMonitor", "llm-router")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]


def test_everything_in_the_router_namespace(ha):
    namespace = ha.k8s("Namespace", "llm-router")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    for kind, name in [("Secret", "llm-router-env"), ("ConfigMap", "llm-router-config"), ("Deployment", "llm-router"),
                       ("Service", "llm-router"), ("NetworkPolicy", "llm-router-ingress"), ("ServiceMonitor", "llm-router")]:
        assert ha.k8s(kind, name)["metadata"]["namespace"] == "llm-router"


def test_router_tests_run_the_litellm_release_the_image_runs():
    from tests.conftest import ROOT
    from stackconfig.model import RouterConfig

    tag = RouterConfig().image.split(":")[1].split("@")[0].removeprefix("v")
    pins = dict(line.split("==") for line in (ROOT / "requirements-router.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["litellm[proxy]"] == tag
    assert tag not in ("1.82.7", "1.82.8", "1.107.0"), "compromised releases"


def test_the_router_runs_as_its_own_service_account(single):
    """The identity EKS Pod Identity binds the sample store's role to (see test_shadow.py)."""
    account = single.k8s("ServiceAccount", "llm-router")
    assert account["metadata"]["namespace"] == "llm-router"
    pod = single.k8s("Deployment", "llm-router")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "llm-router"


def test_sample_store_location_reaches_the_hooks_only_when_enabled(single):
    env = env_names(router_plan(2, True, with_samples=True))
    assert (env["SHADOW_SAMPLES_BUCKET"], env["SHADOW_SAMPLES_PREFIX"], env["AWS_REGION"]) == (
        "llm-shadow-samples-1a2b", "shadow-samples", "eu-west-1")
    assert env["REDIS_HOST"].startswith("master."), "both resolved values land in the pod spec"
    assert not {"SHADOW_SAMPLES_BUCKET", "SHADOW_SAMPLES_PREFIX"} & set(env_names(single))
