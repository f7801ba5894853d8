"""Creation-order policies, on the wait-for rules the engine follows (components, parents, providers)."""

from policies.rules import ordering
from policies.rules.graph import WaitGraph

from .helpers import Stack

RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
MONITOR = {"metadata": {"name": "api", "namespace": "apps"}, "spec": {"endpoints": [{"port": "http"}]}}


def prometheus_release(stack, parent=None, **values):
    return stack.add(RELEASE, {"name": "kube-prometheus-stack", "chart": "kube-prometheus-stack", "version": "88.5.3",
                               "values": values}, "monitoring", parent=parent)


def test_a_custom_resource_that_does_not_wait_for_its_crds_is_rejected():
    stack = Stack()
    prometheus_release(stack)
    monitor = stack.add(SERVICE_MONITOR, MONITOR, "api-metrics")
    ((message, where),) = stack.check(ordering.definitions_first)
    assert where == monitor.urn
    assert "ServiceMonitor apps/api does not wait for Helm release kube-prometheus-stack" in message
    assert "depends_on" in message


def test_waiting_through_a_parent_component_counts():
    stack = Stack()
    release = prometheus_release(stack)
    component = stack.add("llm-platform:workloads:Vllm", {}, "vllm", depends_on=(release,), custom=False)
    stack.add(SERVICE_MONITOR, MONITOR, "api-metrics", parent=component)
    assert stack.check(ordering.definitions_first) == []


def test_waiting_on_a_component_means_waiting_for_everything_below_it():
    stack = Stack()
    monitoring = stack.add("llm-platform:workloads:Monitoring", {}, "monitoring", custom=False)
    prometheus_release(stack, parent=monitoring)
    stack.add(SERVICE_MONITOR, MONITOR, "api-metrics", depends_on=(monitoring,))
    assert stack.check(ordering.definitions_first) == []


def test_a_custom_resource_whose_crds_nobody_installs_is_rejected():
    stack = Stack()
    stack.add(SERVICE_MONITOR, MONITOR, "api-metrics")
    ((message, _),) = stack.check(ordering.definitions_first)
    assert "nothing in this stack installs the monitoring.coreos.com CRDs" in message


def test_a_release_that_skips_or_switches_off_its_crds_defines_nothing():
    stack = Stack()
    prometheus_release(stack, crds={"enabled": False})
    stack.add(SERVICE_MONITOR, MONITOR, "api-metrics")
    assert "nothing in this stack installs" in stack.check(ordering.definitions_first)[0][0]
    cert = Stack()
    cert.add(RELEASE, {"name": "cert-manager", "chart": "oci://quay.io/jetstack/charts/cert-manager", "version": "v1.21.1"}, "cm")
    assert ordering.defined_groups(cert.resources[0]) == set()  # the chart's default is crds.enabled: false
    cert.resources[0].props["values"] = {"crds": {"enabled": True}}
    assert ordering.defined_groups(cert.resources[0]) == {"cert-manager.io", "acme.cert-manager.io"}


def test_crd_objects_and_manifest_files_define_their_groups():
    stack = Stack()
    crd = stack.add("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
                    {"spec": {"group": "gateway.networking.k8s.io"}}, "gateways")
    manifest = stack.add("kubernetes:yaml/v2:ConfigFile", {
        "file": "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"}, "api", custom=False)
    assert ordering.defined_groups(crd) == ordering.defined_groups(manifest) == {"gateway.networking.k8s.io"}
    stack.add("kubernetes:gateway.networking.k8s.io/v1:Gateway", {"metadata": {"name": "edge"}}, "edge", depends_on=(manifest,))
    assert stack.check(ordering.definitions_first) == []


def test_built_in_kinds_are_not_custom_resources():
    assert not ordering.is_custom_resource("kubernetes:apps/v1:Deployment")
    assert not ordering.is_custom_resource("kubernetes:core/v1:Service")
    assert not ordering.is_custom_resource("kubernetes:helm.sh/v3:Release")
    assert ordering.is_custom_resource("kubernetes:keda.sh/v1alpha1:ScaledObject")


def karpenter(stack):
    crds = stack.add(RELEASE, {"name": "karpenter-crd", "chart": "oci://public.ecr.aws/karpenter/karpenter-crd", "version": "1.14.1"}, "crd")
    controller = stack.add(RELEASE, {"name": "karpenter", "chart": "oci://public.ecr.aws/karpenter/karpenter",
                                     "version": "1.14.1", "skipCrds": True}, "karpenter", depends_on=(crds,))
    return crds, controller


def test_karpenter_objects_must_wait_for_the_controller():
    stack = Stack()
    crds, _ = karpenter(stack)
    pool = stack.add(NODE_POOL, {"metadata": {"name": "gpu-spot"}}, "gpu-spot", depends_on=(crds,))
    ((message, where),) = stack.check(ordering.karpenter_after_controller)
    assert where == pool.urn
    assert "does not wait for the Karpenter controller" in message and "depend on the controller release" in message
    assert stack.check(ordering.definitions_first) == []  # the CRDs themselves are there first

    compliant = Stack()
    _, controller = karpenter(compliant)
    compliant.add(NODE_POOL, {"metadata": {"name": "gpu-spot"}}, "gpu-spot", depends_on=(controller,))
    assert compliant.check(ordering.karpenter_after_controller) == []


def test_the_wait_graph_follows_custom_parents_and_providers():
    stack = Stack()
    provider = stack.add("pulumi:providers:aws", {}, "aws", custom=False)
    role = stack.add("aws:iam/role:Role", {}, "role")
    role.provider.urn = provider.urn
    attachment = stack.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {}, "attach", parent=role)
    graph = WaitGraph(stack.resources)
    assert graph.waits_for(attachment.urn) == {role.urn, provider.urn}
