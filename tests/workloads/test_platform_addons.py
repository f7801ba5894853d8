"""Platform add-ons: GPU operator, kube-prometheus-stack (with its gp3 StorageClass) and KEDA."""

from __future__ import annotations

import functools
import json

import pytest

from tests.conftest import Plan, k8s_test_provider, plan_of

SYSTEM = {"llm-platform/node-role": "system"}


@functools.lru_cache(maxsize=None)
def addons() -> Plan:
    def build() -> None:
        from workloads.autoscaling import Keda, KedaArgs
        from workloads.gpu_operator import GpuOperator, GpuOperatorArgs
        from workloads.monitoring import Monitoring, MonitoringArgs
        from workloads.observability.alerting import AlertingArgs
        from workloads.observability.grafana import GrafanaArgs

        provider = k8s_test_provider()
        monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(k8s_provider=provider, system_node_selector=SYSTEM, retention="15d", storage_gib=50,
                           cost_tags={"Project": "llm-platform", "llm-platform/stack": "test", "CostCenter": "ml-platform"},
                           grafana=GrafanaArgs(admin_password="a-test-password-1234", storage_gib=10, storage_class="gp3",
                                               loki_url="http://loki-gateway.logging.svc.cluster.local"),
                           alerting=AlertingArgs(topic_arn="arn:aws:sns:us-east-1:210987654321:alerts", region="us-east-1")),
        )
        GpuOperator(
            "gpu-operator",
            GpuOperatorArgs(k8s_provider=provider, system_node_selector=SYSTEM, depends_on=[monitoring.release]),
        )
        Keda("keda", KedaArgs(k8s_provider=provider, system_node_selector=SYSTEM, depends_on=[monitoring.release]))

    return plan_of(build)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return addons()


def system_selected(node_selector: dict) -> bool:
    return SYSTEM.items() <= node_selector.items()


# --- GPU operator -------------------------------------------------------------------------------------------


def test_gpu_operator_release_is_pinned_in_its_namespace(plan):
    release = plan.helm("gpu-operator")
    assert release["chart"] == "gpu-operator"
    assert release["version"] == "v26.7.0"
    assert release["repositoryOpts"]["repo"] == "https://helm.ngc.nvidia.com/nvidia"
    assert release["namespace"] == "gpu-operator"
    assert release["createNamespace"] is True


def test_gpu_operator_leaves_driver_and_toolkit_to_the_ami(plan):
    values = plan.helm("gpu-operator")["values"]
    assert values["driver"]["enabled"] is False
    assert values["toolkit"]["enabled"] is False
    assert values["migManager"]["enabled"] is False


def test_gpu_operator_runs_device_plugin_discovery_and_dcgm_with_a_service_monitor(plan):
    values = plan.helm("gpu-operator")["values"]
    for component in ("devicePlugin", "gfd", "nfd", "dcgmExporter"):
        assert values[component]["enabled"] is True, component
    monitor = values["dcgmExporter"]["serviceMonitor"]
    assert monitor["enabled"] is True
    assert monitor["additionalLabels"] == {"release": "kube-prometheus-stack"}
    assert monitor["interval"]


def test_gpu_operands_tolerate_the_gpu_taint(plan):
    tolerations = plan.helm("gpu-operator")["values"]["daemonsets"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations


def test_gpu_operator_controllers_run_on_system_nodes(plan):
    values = plan.helm("gpu-operator")["values"]
    assert system_selected(values["operator"]["nodeSelector"])
    nfd = values["node-feature-discovery"]
    assert system_selected(nfd["master"]["nodeSelector"])
    assert system_selected(nfd["gc"]["nodeSelector"])
    assert "nodeSelector" not in nfd.get("worker", {}), "the NFD worker must reach the GPU nodes"


# --- kube-prometheus-stack ----------------------------------------------------------------------------------


def test_kube_prometheus_stack_release_matches_the_architecture(plan):
    release = plan.helm("kube-prometheus-stack")
    assert release["chart"] == "kube-prometheus-stack"
    assert release["version"] == "88.5.3"
    assert release["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    assert release["namespace"] == "monitoring"
    assert not release.get("createNamespace"), "the namespace is declared, so destroy waits for the volume claim"
    assert plan.k8s("Namespace", "monitoring")


def test_prometheus_volume_goes_with_it_and_carries_the_cost_tags(plan):
    spec = plan.helm("kube-prometheus-stack")["values"]["prometheus"]["prometheusSpec"]
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Delete", "whenScaled": "Retain"}
    parameters = plan.k8s("StorageClass", "gp3")["parameters"]
    tags = dict(value.split("=", 1) for key, value in parameters.items() if key.startswith("tagSpecification_"))
    assert tags["llm-platform/stack"] == plan.recording.stack and tags["CostCenter"] == "ml-platform"
    assert tags["Project"] == "llm-platform"


def test_prometheus_url_follows_release_name_and_namespace():
    from workloads.monitoring import PROMETHEUS_URL

    assert PROMETHEUS_URL == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"


def test_prometheus_selects_monitors_and_rules_from_every_release(plan):
    spec = plan.helm("kube-prometheus-stack")["values"]["prometheus"]["prometheusSpec"]
    for key in ("serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues",
                "ruleSelectorNilUsesHelmValues"):
        assert spec[key] is False, key


def test_prometheus_keeps_its_data_on_encrypted_gp3(plan):
    spec = plan.helm("kube-prometheus-stack")["values"]["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3"
    assert claim["resources"]["requests"]["storage"] == "50Gi"

    storage_class = plan.k8s("StorageClass", "gp3")
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert {"type": "gp3", "encrypted": "true"}.items() <= storage_class["parameters"].items()
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class["allowVolumeExpansion"] is True


def test_monitoring_runs_on_system_nodes(plan):
    values = plan.helm("kube-prometheus-stack")["values"]
    assert system_selected(values["prometheus"]["prometheusSpec"]["nodeSelector"])
    assert system_selected(values["alertmanager"]["alertmanagerSpec"]["nodeSelector"])
    assert system_selected(values["prometheusOperator"]["nodeSelector"])
    assert system_selected(values["kube-state-metrics"]["nodeSelector"])
    assert system_selected(values["grafana"]["nodeSelector"])


def test_control_plane_parts_eks_hides_are_neither_scraped_nor_alerted_on(plan):
    values = plan.helm("kube-prometheus-stack")["values"]
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[component] == {"enabled": False}, component


# --- KEDA ---------------------------------------------------------------------------------------------------


def test_keda_is_pinned_on_system_nodes_with_service_monitors(plan):
    release = plan.helm("keda")
    assert release["chart"] == "keda"
    assert release["version"] == "2.20.2"
    assert release["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"
    assert release["namespace"] == "keda"
    values = release["values"]
    assert system_selected(values["nodeSelector"])
    for part in ("operator", "metricServer"):
        assert values["prometheus"][part]["enabled"] is True, part
        assert values["prometheus"][part]["serviceMonitor"]["enabled"] is True, part


def test_no_namespace_admin_gets_rights_on_keda_objects(plan):
    # CVE-2026-77524 (KEDA <= 2.20.2) is reached by creating a TriggerAuthentication; see docs/versions.md.
    assert plan.helm("keda")["values"]["rbac"] == {"aggregateToDefaultRoles": False}


# --- all of them --------------------------------------------------------------------------------------------


def test_components_use_the_house_type_tokens(plan):
    for kind in ("GpuOperator", "Monitoring", "Keda"):
        assert len(plan.of_type(f"llm-platform:workloads:{kind}")) == 1, kind


def test_every_release_is_pinned_and_nothing_says_latest(plan):
    releases = plan.of_type("kubernetes:helm.sh/v3:Release")
    assert {r.inputs["name"] for r in releases} == {"gpu-operator", "kube-prometheus-stack", "keda"}
    for release in releases:
        assert release.inputs.get("version"), release.inputs["name"]
    everything = json.dumps([r.inputs for r in plan.recording.resources]).lower()
    assert "latest" not in everything
