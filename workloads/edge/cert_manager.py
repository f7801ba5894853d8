"""cert-manager and the ClusterIssuer that signs the Gateway's certificate (self-signed, or ACME via Route 53 DNS-01)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.pod_identity import PodIdentityRole, PodIdentityRoleArgs, load_policy

from .args import EdgeArgs
from .common import k8s_opts, metadata, node_selector

CHART = "oci://quay.io/jetstack/charts/cert-manager"
CHART_VERSION = "v1.21.1"
NAMESPACE = "cert-manager"
# Pinned as well as the release name: the Pod Identity association names this service account.
SERVICE_ACCOUNT = "cert-manager"
ISSUER_NAMES = {"selfSigned": "edge-selfsigned", "acme": "edge-acme"}


@dataclass(frozen=True)
class CertManager:
    release: k8s.helm.v3.Release
    issuer: k8s.apiextensions.CustomResource
    issuer_name: str


def cert_manager(
    name: str, args: EdgeArgs, parent: pulumi.Resource, gateway_api: pulumi.Resource
) -> CertManager:
    tls = args.edge.tls
    # cert-manager only needs AWS for DNS-01; a self-signed stack gets no role at all.
    route53 = _route53_role(name, args, parent) if tls.issuer == "acme" else None
    everywhere = node_selector(args)
    release = k8s.helm.v3.Release(
        f"{name}-cert-manager",
        name="cert-manager",
        chart=CHART,
        version=CHART_VERSION,
        namespace=NAMESPACE,
        create_namespace=True,
        values={
            # The CRDs are chart templates here; keep them on uninstall so Certificates survive a release replace.
            "crds": {"enabled": True, "keep": True},
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
            "config": {
                "apiVersion": "controller.config.cert-manager.io/v1alpha1",
                "kind": "ControllerConfiguration",
                "gatewayAPI": {"enabled": True},
            },
            "prometheus": {"servicemonitor": {"enabled": True}},
            "nodeSelector": everywhere,
            "webhook": {"nodeSelector": everywhere},
            "cainjector": {"nodeSelector": everywhere},
            "startupapicheck": {"nodeSelector": everywhere},
        },
        # cert-manager starts its Gateway informers at boot: the CRDs must exist before it does.
        opts=k8s_opts(parent, args, gateway_api, *([route53] if route53 else [])),
    )

    issuer_name = ISSUER_NAMES[tls.issuer]
    if tls.issuer == "selfSigned":
        spec: dict = {"selfSigned": {}}
    else:
        spec = {
            "acme": {
                "email": tls.acme_email,
                "server": tls.acme_server,
                "privateKeySecretRef": {"name": f"{issuer_name}-account-key"},
                "solvers": [
                    {
                        # No credentials: ClusterIssuers use the controller's ambient ones, i.e. its Pod Identity role.
                        "dns01": {"route53": {"region": args.region, "hostedZoneID": tls.route53_hosted_zone_id}}
                    }
                ],
            }
        }
    issuer = k8s.apiextensions.CustomResource(
        f"{name}-issuer",
        api_version="cert-manager.io/v1",
        kind="ClusterIssuer",
        metadata=metadata(issuer_name, None, args),
        spec=spec,
        opts=k8s_opts(parent, args, release),
    )
    return CertManager(release=release, issuer=issuer, issuer_name=issuer_name)


def _route53_role(name: str, args: EdgeArgs, parent: pulumi.Resource) -> PodIdentityRole:
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return PodIdentityRole(
        f"{name}-cert-manager",
        PodIdentityRoleArgs(
            cluster_name=args.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            inline_policy=load_policy(
                "cert-manager-route53.json",
                Partition=partition.partition,
                HostedZoneId=args.edge.tls.route53_hosted_zone_id,
                # Route 53 compares normalized names: lower case, no trailing dot. cert-manager UPSERTs the
                # challenge TXT record and DELETEs it afterwards; nothing else in the zone may change.
                Hostname=args.edge.hostname.lower().rstrip("."),
                # Grafana's host name where the edge serves it; else the API's again, which _one_record_each drops.
                GrafanaHostname=(args.grafana.hostname if args.grafana else args.edge.hostname).lower().rstrip("."),
            ).apply(_one_record_each),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _one_record_each(policy: str) -> str:
    document = json.loads(policy)
    for statement in document["Statement"]:
        for condition in statement.get("Condition", {}).values():
            names = condition.get("route53:ChangeResourceRecordSetsNormalizedRecordNames")
            if names is not None:
                condition["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = list(dict.fromkeys(names))
    return json.dumps(document)
