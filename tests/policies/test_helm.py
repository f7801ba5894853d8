"""Helm policies: exact chart versions; no retired charts or images."""

import pytest

from policies.rules import helm

from .helpers import check

RELEASE = "kubernetes:helm.sh/v3:Release"
CHART_V4 = "kubernetes:helm.sh/v4:Chart"


def release(chart="oci://public.ecr.aws/karpenter/karpenter", version="1.14.1", values=None, repo=None):
    props = {"name": "thing", "chart": chart, "namespace": "kube-system", "values": values or {}}
    if version is not None:
        props["version"] = version
    if repo:
        props["repositoryOpts"] = {"repo": repo}
    return props


@pytest.mark.parametrize("version", [None, "", "^1.14.0", "~1.14", ">=1.0.0", "1.x", "*", "latest"])
def test_chart_versions_must_be_exact(version):
    (message,) = check(helm.helm_pinned_chart, RELEASE, release(version=version))
    assert "Helm release thing (oci://public.ecr.aws/karpenter/karpenter)" in message and "exact chart release" in message


@pytest.mark.parametrize("version", ["1.14.1", "v1.21.1", "v26.7.0", "2.6.7", "1.0.0-rc.1"])
def test_exact_versions_pass(version):
    assert check(helm.helm_pinned_chart, RELEASE, release(version=version)) == []
    assert check(helm.helm_pinned_chart, CHART_V4, release(version=version)) == []


def test_a_chart_component_without_inputs_is_not_judged():
    assert check(helm.helm_pinned_chart, CHART_V4, {}) is None


@pytest.mark.parametrize("chart,repo,fragment", [
    ("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "kubernetes/ingress-nginx was retired"),
    ("oci://ghcr.io/example/charts/ingress-nginx", None, "NGINX Gateway Fabric"),
    ("promtail", "https://grafana.github.io/helm-charts", "Grafana Alloy"),
])
def test_retired_charts_are_rejected(chart, repo, fragment):
    (message,) = check(helm.no_retired_components, RELEASE, release(chart=chart, repo=repo, version="4.0.0"))
    assert "installs the retired chart" in message and fragment in message


def test_retired_images_are_rejected_in_values_and_workloads():
    values = {"controller": {"image": {"registry": "registry.k8s.io", "repository": "ingress-nginx/controller", "tag": "v1.12.0"}}}
    (message,) = check(helm.no_retired_components, RELEASE, release(chart="my-edge", values=values))
    assert "values controller.image runs registry.k8s.io/ingress-nginx/controller:v1.12.0" in message
    deployment = {"metadata": {"name": "logs", "namespace": "monitoring"},
                  "spec": {"template": {"spec": {"containers": [{"name": "p", "image": "docker.io/grafana/promtail:3.5.0"}]}}}}
    assert "Promtail reached end of life" in check(helm.no_retired_components, "kubernetes:apps/v1:DaemonSet", deployment)[0]


def test_maintained_nginx_charts_and_alloy_pass():
    assert check(helm.no_retired_components, RELEASE, release(chart="oci://ghcr.io/nginx/charts/nginx-gateway-fabric", version="2.6.7")) == []
    assert check(helm.no_retired_components, RELEASE, release(chart="nginx-ingress", repo="https://helm.nginx.com/stable", version="2.2.0")) == []
    assert check(helm.no_retired_components, RELEASE, release(chart="alloy", repo="https://grafana.github.io/helm-charts", version="1.11.1")) == []
