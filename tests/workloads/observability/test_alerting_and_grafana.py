"""Alertmanager pages through the stack's SNS topic with Pod Identity credentials; Grafana is on with its admin from a
Pulumi secret, Prometheus and Loki as data sources; the scrape targets the platform needs are declared."""

from __future__ import annotations

import json
import subprocess

import yaml

from tests.conftest import plan_with
from tools.order import Order

ALERTMANAGER_SA = "kube-prometheus-stack-alertmanager"


def kps(plan) -> dict:
    return plan.helm("kube-prometheus-stack")["values"]


def kps_release(plan):
    (release,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "kube-prometheus-stack"]
    return release


def test_alertmanager_publishes_to_the_alarms_topic_with_ambient_credentials(any_plan):
    values = kps(any_plan)["alertmanager"]
    assert values["serviceAccount"] == {"create": True, "name": ALERTMANAGER_SA}
    config = values["config"]
    (sns_receiver,) = [r for r in config["receivers"] if r.get("sns_configs")]
    (sns,) = sns_receiver["sns_configs"]
    topic = any_plan.one("aws:sns/topic:Topic")
    assert sns["topic_arn"].startswith("arn:aws:sns:us-east-1:") and topic.name in sns["topic_arn"]
    # Region only: no keys, no profile, no role_arn (that would assume a second role on top of Pod Identity).
    assert sns["sigv4"] == {"region": "us-east-1"}
    assert config["route"]["receiver"] == sns_receiver["name"]
    association = any_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "alertmanager").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("monitoring", ALERTMANAGER_SA)


def test_alertmanager_starts_after_its_association_and_its_permission(any_plan):
    order = Order(any_plan.recording)
    waits = order.waits_for(kps_release(any_plan).urn)
    assert any_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "alertmanager").urn in waits
    assert any_plan.one("aws:iam/rolePolicy:RolePolicy", "cost-alarms-alert-publisher").urn in waits
    assert any_plan.one("aws:sns/topicPolicy:TopicPolicy").urn in waits


def test_one_incident_is_one_notification(plans):
    config = kps(plans["prod"])["alertmanager"]["config"]
    route = config["route"]
    assert route["group_by"] == ["component"]
    repeats = {tuple(r["matchers"]): r.get("repeat_interval") for r in route["routes"]}
    assert repeats[('severity = "critical"',)] == "1h" and repeats[('severity = "warning"',)] == "24h"
    assert any(r["receiver"] == "null" and "Watchdog" in r["matchers"][0] for r in route["routes"])
    causes = {(tuple(i["source_matchers"]), tuple(i["target_matchers"])) for i in config["inhibit_rules"]}
    assert (('alertname = "GpuPodsPendingTooLong"',), ('alertname = "VllmReplicasBelowMinimum"',)) in causes
    (replicas,) = [t for s, t in causes if s == ('alertname = "VllmReplicasBelowMinimum"',)]
    for explained in ("VllmP99LatencyHigh", "VllmTtftP95High", "VllmQueueDepthHigh", "OpenAIFallbackRateHigh"):
        assert explained in replicas[0]


def test_amtool_accepts_the_config_and_the_subject_fits_sns(plans, amtool, tmp_path):
    values = kps(plans["prod"])["alertmanager"]
    config = yaml.safe_load(yaml.safe_dump(values["config"]))
    config["templates"] = [str(tmp_path / "*.tmpl")]
    (tmp_path / "alertmanager.yaml").write_text(yaml.safe_dump(config))
    for name, text in values["templateFiles"].items():
        (tmp_path / name).write_text(text)
    check = subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yaml")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    subject = subprocess.run(
        [amtool, "template", "render", f"--template.glob={tmp_path}/*.tmpl", '--template.text={{ template "llm_platform.sns.subject" . }}'],
        capture_output=True, text=True, timeout=30,
    )
    assert subject.returncode == 0, subject.stderr
    text = subject.stdout.strip()
    assert text.startswith("[") and "llm-platform" in text
    assert len(text) < 100 and "\n" not in text, "SNS refuses subjects of 100 characters or more, or with line breaks"


def test_sns_attributes_are_never_empty_for_the_charts_own_alerts(plans, amtool, tmp_path):
    """SNS refuses a message attribute with an empty value: a group of kube-prometheus-stack alerts (no component
    label) of mixed severities must still page."""
    (sns,) = kps(plans["prod"])["alertmanager"]["config"]["receivers"][1]["sns_configs"]
    labels = [{"alertname": "KubePodCrashLooping", "severity": "warning"}, {"alertname": "TargetDown", "severity": "critical"}]
    data = {
        "receiver": "sns", "status": "firing", "groupLabels": {"alertname": "KubePodCrashLooping"},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": item, "annotations": {}, "startsAt": "2026-11-27T00:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": str(n)} for n, item in enumerate(labels)],
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "none.tmpl").write_text("")
    rendered = {}
    for name, template in sns["attributes"].items():
        result = subprocess.run(
            [amtool, "template", "render", f"--template.glob={tmp_path}/*.tmpl", f"--template.data={tmp_path / 'data.json'}",
             f"--template.text={template}"],
            capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 0, result.stderr
        rendered[name] = result.stdout.strip()
    assert rendered == {"severity": "mixed", "component": "kubernetes"}


def test_grafana_admin_comes_from_a_secret_never_the_chart_default(any_plan):
    grafana = kps(any_plan)["grafana"]
    assert grafana["enabled"] is True
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert "adminPassword" not in grafana
    secret = any_plan.k8s("Secret", "grafana-admin")
    assert secret["metadata"]["namespace"] == "monitoring"
    assert set(secret["stringData"]) == {"admin-user", "admin-password"}
    assert secret["stringData"]["admin-password"] == "[secret]"
    order = Order(any_plan.recording)
    release = kps_release(any_plan)
    secret_urn = [r for r in any_plan.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == "grafana-admin"][0].urn
    assert secret_urn in order.waits_for(release.urn), "Grafana would start without its admin password"


def test_grafana_keeps_state_calls_nobody_and_lets_no_one_in_anonymously(any_plan):
    grafana = kps(any_plan)["grafana"]
    assert grafana["persistence"]["enabled"] is True and grafana["persistence"]["storageClassName"] == "gp3"
    assert grafana["deploymentStrategy"] == {"type": "Recreate"}, "a ReadWriteOnce volume cannot roll"
    ini = grafana["grafana.ini"]
    assert ini["auth.anonymous"]["enabled"] is False and ini["users"]["allow_sign_up"] is False
    assert ini["analytics"] == {"check_for_updates": False, "reporting_enabled": False}


def test_grafana_queries_prometheus_and_loki(any_plan):
    grafana = kps(any_plan)["grafana"]
    (loki,) = grafana["additionalDataSources"]
    assert (loki["type"], loki["uid"], loki["url"]) == ("loki", "loki", "http://loki-gateway.logging.svc.cluster.local")
    assert "datasources" not in grafana.get("sidecar", {}), "the chart's default Prometheus data source stays on"


def test_grafana_is_inside_the_cluster_only_unless_a_host_name_is_set(any_plan):
    gateway = any_plan.k8s("Gateway", "edge")
    assert [listener["name"] for listener in gateway["spec"]["listeners"]] == ["https", "http"]
    assert "server" not in kps(any_plan)["grafana"]["grafana.ini"]


def test_grafana_through_the_edge_on_its_own_host_name_certificate_and_rate_limit():
    plan = plan_with("prod", {"llm-platform:observability.grafana.hostname": "grafana.acme.io"})
    grafana = kps(plan)["grafana"]
    assert grafana["grafana.ini"]["server"] == {"domain": "grafana.acme.io", "root_url": "https://grafana.acme.io/"}
    assert grafana["grafana.ini"]["security"]["cookie_secure"] is True
    assert grafana["grafana.ini"]["auth.anonymous"]["enabled"] is False, "Grafana's login is what guards it"
    (listener,) = [l for l in plan.k8s("Gateway", "edge")["spec"]["listeners"] if l["name"] == "grafana"]
    assert (listener["hostname"], listener["protocol"], listener["port"]) == ("grafana.acme.io", "HTTPS", 443)
    assert listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "grafana-tls"}]
    route = plan.k8s("HTTPRoute", "grafana")["spec"]
    assert route["parentRefs"] == [{"name": "edge", "sectionName": "grafana"}] and route["hostnames"] == ["grafana.acme.io"]
    assert route["rules"][0]["backendRefs"] == [{"kind": "Service", "name": "kube-prometheus-stack-grafana", "namespace": "monitoring", "port": 80}]
    grant = plan.k8s("ReferenceGrant", "nginx-gateway-to-kube-prometheus-stack-grafana")
    assert grant["metadata"]["namespace"] == "monitoring"
    assert grant["spec"]["to"] == [{"group": "", "kind": "Service", "name": "kube-prometheus-stack-grafana"}]
    limit = plan.k8s("RateLimitPolicy", "grafana-rate-limit")["spec"]
    assert limit["targetRefs"][0]["name"] == "grafana" and limit["rateLimit"]["local"]["rules"][0]["rate"] == "10r/s"
    route53 = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "edge-cert-manager-inline").inputs["policy"])
    (write,) = [s for s in route53["Statement"] if s["Sid"] == "WriteOnlyTheChallengeRecord"]
    names = write["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert names == ["_acme-challenge.llm.example.com", "_acme-challenge.grafana.acme.io"]


def test_eks_hidden_control_plane_parts_are_not_scraped(any_plan):
    values = kps(any_plan)
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[component] == {"enabled": False}, component


def monitors(plan) -> dict[tuple[str, str, str], dict]:
    found = {}
    for kind in ("ServiceMonitor", "PodMonitor"):
        for resource in plan.recording.resources:
            if resource.inputs.get("kind") == kind:
                meta = resource.inputs["metadata"]
                found[(kind, meta["namespace"], meta["name"])] = resource.inputs
    return found


def test_every_component_that_matters_is_scraped(any_plan):
    found = monitors(any_plan)
    assert ("ServiceMonitor", "llm-serving", "vllm") in found
    assert ("ServiceMonitor", "llm-router", "llm-router") in found
    karpenter = found[("ServiceMonitor", "kube-system", "karpenter")]["spec"]
    assert karpenter["selector"]["matchLabels"] == {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}
    assert karpenter["endpoints"][0]["port"] == "http-metrics"
    control = found[("PodMonitor", "nginx-gateway", "ngf-control-plane")]["spec"]
    data = found[("PodMonitor", "nginx-gateway", "ngf-data-plane")]["spec"]
    assert control["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "ngf"
    assert data["selector"]["matchLabels"] == {"gateway.networking.k8s.io/gateway-name": "edge"}
    assert control["podMetricsEndpoints"][0]["port"] == data["podMetricsEndpoints"][0]["port"] == "metrics"
    # Charts that bring their own monitors, switched on.
    assert any_plan.helm("gpu-operator")["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    keda = any_plan.helm("keda")["values"]["prometheus"]
    assert keda["operator"]["serviceMonitor"]["enabled"] and keda["metricServer"]["serviceMonitor"]["enabled"]
    assert any_plan.helm("aws-load-balancer-controller")["values"]["serviceMonitor"]["enabled"] is True
    assert any_plan.helm("cert-manager")["values"]["prometheus"]["servicemonitor"]["enabled"] is True
    assert any_plan.helm("loki")["values"]["monitoring"]["serviceMonitor"]["enabled"] is True
    assert any_plan.helm("alloy")["values"]["serviceMonitor"]["enabled"] is True
    assert kps(any_plan)["grafana"].get("serviceMonitor", {}).get("enabled", True) is True
