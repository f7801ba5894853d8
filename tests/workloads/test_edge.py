"""The edge: HTTPS Gateway on an NLB, the /v1 route to the router (and nowhere else), TLS issuers, NGF policies."""

from __future__ import annotations

import functools
import json

import pytest

from stackconfig.model import EdgeConfig
from tests.conftest import Plan, k8s_test_provider, plan_of
from workloads.edge import BackendRef, Edge, EdgeArgs

ROUTER = BackendRef(name="llm-router", namespace="router", port=4000)
SYSTEM = {"node.llm-platform.io/role": "system"}
ACME = {"issuer": "acme", "acmeEmail": "ops@example.com", "route53HostedZoneId": "Z0123456789ABC"}
EDGE = {
    "hostname": "api.example.com",
    "maxBodySize": "20m",
    "readTimeout": "900s",
    "rateLimitPerClient": "5r/s",
    "rateLimitBurst": 15,
    "replicas": 3,
    "allowedCidrs": ["203.0.113.0/24", "198.51.100.0/24"],
}


@functools.lru_cache(maxsize=None)
def edge_plan(acme: bool = False) -> Plan:
    config = EdgeConfig.model_validate({**EDGE, **({"tls": ACME} if acme else {})})

    def build() -> None:
        Edge(
            "edge",
            EdgeArgs(
                cluster_name="llm-test",
                region="us-east-1",
                vpc_id="vpc-0123456789abcdef0",
                edge=config,
                router=ROUTER,
                system_node_selector=SYSTEM,
                k8s_provider=k8s_test_provider(),
                phase="shadow",
                cost_tags={"llm-platform/stack": "shadow", "CostCenter": "ml-platform"},
            ),
        )

    return plan_of(build)


def api_rule(plan: Plan) -> dict:
    (rule,) = plan.k8s("HTTPRoute", "llm-api")["spec"]["rules"]
    return rule


def grants(plan: Plan) -> dict[str, dict]:
    return {
        r.inputs["metadata"]["namespace"]: r.inputs
        for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant")
    }


# --- routing ------------------------------------------------------------------


def test_api_route_sends_v1_to_the_router_over_https():
    route = edge_plan().k8s("HTTPRoute", "llm-api")
    assert route["metadata"]["namespace"] == "nginx-gateway"
    assert route["spec"]["parentRefs"] == [{"name": "edge", "sectionName": "https"}]
    assert route["spec"]["hostnames"] == ["api.example.com"]
    rule = api_rule(edge_plan())
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]
    assert rule["backendRefs"] == [{"kind": "Service", "name": "llm-router", "namespace": "router", "port": 4000}]


def test_the_edge_sends_nothing_to_vllm_and_grants_only_the_router():
    """Shadowing is the router's: no RequestMirror, and vLLM's namespace grants the edge nothing."""
    plan = edge_plan()
    assert "filters" not in api_rule(plan)
    (grant,) = grants(plan).values()
    assert grant["metadata"]["namespace"] == "router"
    assert grant["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert grant["spec"] == {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "nginx-gateway"}],
        "to": [{"group": "", "kind": "Service", "name": "llm-router"}],
    }


def test_plain_http_only_redirects_to_https():
    route = edge_plan().k8s("HTTPRoute", "edge-https-redirect")
    assert route["spec"]["parentRefs"] == [{"name": "edge", "sectionName": "http"}]
    (rule,) = route["spec"]["rules"]
    assert "backendRefs" not in rule
    assert rule["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]


# --- Gateway, TLS and the NLB ---------------------------------------------------


def test_gateway_terminates_tls_for_the_hostname_with_the_issued_secret():
    gateway = edge_plan().k8s("Gateway", "edge")
    assert gateway["metadata"]["namespace"] == "nginx-gateway"
    assert gateway["spec"]["gatewayClassName"] == "nginx"
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    assert set(listeners) == {"https", "http"}
    https = listeners["https"]
    assert (https["port"], https["protocol"], https["hostname"]) == (443, "HTTPS", "api.example.com")
    assert https["tls"] == {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "edge-tls"}]}
    assert (listeners["http"]["port"], listeners["http"]["protocol"]) == (80, "HTTP")


def test_gateway_is_a_public_ip_target_nlb_open_only_to_allowed_cidrs():
    plan = edge_plan()
    annotations = plan.k8s("Gateway", "edge")["spec"]["infrastructure"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"
    assert "preserve_client_ip.enabled=true" in annotations["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"]
    # The NLB (350 s idle by default) must not cut a silent upstream before NGINX's 900 s read timeout does.
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443"] == "tcp.idle_timeout.seconds=900"
    service = plan.helm("ngf")["values"]["nginx"]["service"]
    assert service["type"] == "LoadBalancer"
    assert service["loadBalancerClass"] == "service.k8s.aws/nlb"
    assert service["loadBalancerSourceRanges"] == ["203.0.113.0/24", "198.51.100.0/24"]


def test_self_signed_issuer_by_default():
    plan = edge_plan()
    issuer = plan.k8s("ClusterIssuer", "edge-selfsigned")
    assert issuer["apiVersion"] == "cert-manager.io/v1"
    assert issuer["spec"] == {"selfSigned": {}}
    assert plan.k8s("Gateway", "edge")["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "edge-selfsigned"}
    assert not [r for r in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if r.inputs["namespace"] == "cert-manager"], "self-signed needs no AWS access"


def test_acme_issuer_solves_dns01_in_route53_with_ambient_credentials():
    plan = edge_plan(acme=True)
    acme = plan.k8s("ClusterIssuer", "edge-acme")["spec"]["acme"]
    assert acme["email"] == "ops@example.com"
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert acme["privateKeySecretRef"]["name"]
    (solver,) = acme["solvers"]
    assert solver == {"dns01": {"route53": {"region": "us-east-1", "hostedZoneID": "Z0123456789ABC"}}}
    assert plan.k8s("Gateway", "edge")["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "edge-acme"

    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "edge-cert-manager").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("cert-manager", "cert-manager")
    assert plan.helm("cert-manager")["values"]["serviceAccount"]["name"] == "cert-manager"
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "edge-cert-manager-inline").inputs["policy"])
    by_action = {action: s["Resource"] for s in policy["Statement"]
                 for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert by_action["route53:ChangeResourceRecordSets"] == "arn:aws:route53:::hostedzone/Z0123456789ABC"
    assert by_action["route53:GetChange"] == "arn:aws:route53:::change/*"
    (write,) = [s for s in policy["Statement"] if s["Action"] == "route53:ChangeResourceRecordSets"]
    # Only the challenge TXT record of the API's host name, only as cert-manager writes and removes it.
    assert write["Condition"] == {"ForAllValues:StringEquals": {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.api.example.com"],
        "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
    }}


def test_cert_manager_installs_its_crds_and_watches_gateways():
    values = edge_plan().helm("cert-manager")["values"]
    assert values["crds"] == {"enabled": True, "keep": True}
    assert values["config"]["gatewayAPI"] == {"enabled": True}
    assert values["prometheus"]["servicemonitor"]["enabled"] is True


# --- NGINX policies -------------------------------------------------------------


def test_body_size_and_client_keepalive_on_the_gateway():
    policy = edge_plan().k8s("ClientSettingsPolicy", "edge-client-settings")
    assert policy["apiVersion"] == "gateway.nginx.org/v1alpha1"
    assert policy["metadata"]["namespace"] == "nginx-gateway"
    assert policy["spec"]["targetRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge"}
    assert policy["spec"]["body"]["maxSize"] == "20m"
    assert policy["spec"]["keepAlive"]


def test_streamed_answers_are_not_buffered_and_may_run_long():
    spec = edge_plan().k8s("ProxySettingsPolicy", "llm-api-streaming")["spec"]
    assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "llm-api"}]
    assert spec["timeout"]["read"] == "900s"
    assert spec["buffering"]["disable"] is True


def test_rate_limit_per_client_ip_from_config():
    spec = edge_plan().k8s("RateLimitPolicy", "llm-api-rate-limit")["spec"]
    assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "llm-api"}]
    (rule,) = spec["rateLimit"]["local"]["rules"]
    assert rule == {"key": "$binary_remote_addr", "rate": "5r/s", "burst": 15, "noDelay": True}


def test_upstream_keepalive_to_the_router_service_in_its_namespace():
    policy = edge_plan().k8s("UpstreamSettingsPolicy", "llm-router-upstream")
    assert policy["metadata"]["namespace"] == "router"
    assert policy["spec"]["targetRefs"] == [{"group": "", "kind": "Service", "name": "llm-router"}]
    assert policy["spec"]["keepAlive"]["connections"] > 0


# --- charts, IAM and placement ---------------------------------------------------


@pytest.mark.parametrize("release, chart, version", [
    ("aws-load-balancer-controller", "aws-load-balancer-controller", "3.5.0"),
    ("cert-manager", "oci://quay.io/jetstack/charts/cert-manager", "v1.21.1"),
    ("ngf", "oci://ghcr.io/nginx/charts/nginx-gateway-fabric", "2.6.7"),
])
def test_charts_are_pinned(release, chart, version):
    helm = edge_plan().helm(release)
    assert (helm["chart"], helm["version"]) == (chart, version)
    assert "latest" not in helm["version"]


def test_gateway_api_crds_are_the_pinned_standard_channel():
    crds = edge_plan().one("kubernetes:yaml/v2:ConfigFile").inputs
    assert crds["file"] == "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"


def test_load_balancer_controller_release_and_pod_identity():
    plan = edge_plan()
    helm = plan.helm("aws-load-balancer-controller")
    assert helm["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    assert helm["namespace"] == "kube-system"
    values = helm["values"]
    assert (values["clusterName"], values["region"], values["vpcId"]) == ("llm-test", "us-east-1", "vpc-0123456789abcdef0")
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller"}
    assert values["replicaCount"] == 2 and values["podDisruptionBudget"] == {"maxUnavailable": 1}

    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "edge-lbc").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("kube-system", "aws-load-balancer-controller")
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "edge-lbc-inline").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"elasticloadbalancing:CreateLoadBalancer", "ec2:AuthorizeSecurityGroupIngress"} <= actions


def test_ngf_control_and_data_plane_settings():
    values = edge_plan().helm("ngf")["values"]
    assert edge_plan().helm("ngf")["namespace"] == "nginx-gateway"
    assert values["nginxGateway"]["replicas"] == 2
    assert values["nginxGateway"]["productTelemetry"] == {"enable": False}
    assert values["nginxGateway"]["metrics"]["enable"] is True
    assert values["nginx"]["replicas"] == 3
    assert values["nginx"]["container"]["resources"]["requests"]


def test_everything_runs_on_system_nodes():
    plan = edge_plan()
    selectors = [
        plan.helm("aws-load-balancer-controller")["values"]["nodeSelector"],
        plan.helm("cert-manager")["values"]["nodeSelector"],
        plan.helm("ngf")["values"]["nginxGateway"]["nodeSelector"],
        plan.helm("ngf")["values"]["nginx"]["pod"]["nodeSelector"],
    ]
    for selector in selectors:
        assert selector["node.llm-platform.io/role"] == "system"


def test_every_kubernetes_object_is_named_and_namespaced_and_uses_the_given_provider():
    plan = edge_plan()
    objects = [r for r in plan.recording.resources
               if r.type.startswith("kubernetes:") and not r.type.startswith(("kubernetes:helm", "kubernetes:yaml", "pulumi:"))]
    assert len(objects) >= 10
    for obj in objects:
        assert obj.inputs["metadata"]["name"]
        assert "test-k8s" in obj.provider
        if obj.inputs["kind"] not in ("ClusterIssuer", "Namespace"):
            assert obj.inputs["metadata"]["namespace"]


def test_data_plane_pods_get_nlb_readiness_gates():
    namespace = edge_plan().k8s("Namespace", "nginx-gateway")
    assert namespace["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert not edge_plan().helm("ngf").get("createNamespace")


def test_the_nlb_carries_the_cost_tags():
    values = edge_plan().helm("aws-load-balancer-controller")["values"]
    assert values["defaultTags"] == {"llm-platform/stack": "shadow", "CostCenter": "ml-platform"}


def test_destroy_lets_the_controller_delete_the_nlb_first():
    from tools.order import Order

    plan = edge_plan()
    order = Order(plan.recording)
    lbc = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "aws-load-balancer-controller"][0]
    namespace = [r for r in plan.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "nginx-gateway"][0]
    ngf = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "ngf"][0]
    gateway = [r for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")][0]
    # Created in this order, destroyed in reverse: Gateway (and its NLB Service), NGF, the namespace (waits for the
    # Service's finalizer), and only then the controller that removes the finalizer by deleting the NLB.
    assert lbc.urn in order.waits_for(namespace.urn)
    assert namespace.urn in order.waits_for(ngf.urn) and ngf.urn in order.waits_for(gateway.urn)


def test_outputs_hostname_and_gateway_name():
    captured = {}

    def build() -> None:
        edge = Edge("edge", EdgeArgs(
            cluster_name="llm-test", region="us-east-1", vpc_id="vpc-1", edge=EdgeConfig.model_validate(EDGE),
            router=ROUTER, system_node_selector=SYSTEM,
            k8s_provider=k8s_test_provider(), phase="dev"))
        edge.hostname.apply(lambda v: captured.__setitem__("hostname", v))
        edge.gateway_name.apply(lambda v: captured.__setitem__("gateway", v))

    plan_of(build)
    assert captured == {"hostname": "api.example.com", "gateway": "edge"}


@pytest.mark.parametrize("read_timeout, idle", [(30, 60), (600, 600), (900.5, 901), (6000, 6000)])
def test_the_nlb_waits_at_least_as_long_as_nginx_within_what_an_nlb_allows(read_timeout, idle):
    from workloads.edge.gateway import HTTPS_IDLE_TIMEOUT_ANNOTATION, nlb_annotations

    assert nlb_annotations(read_timeout)[HTTPS_IDLE_TIMEOUT_ANNOTATION] == f"tcp.idle_timeout.seconds={idle}"
