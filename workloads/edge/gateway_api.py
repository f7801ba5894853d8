"""The Gateway API CRDs (standard channel), which no chart here ships: NGINX Gateway Fabric and cert-manager need them."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .args import EdgeArgs

# The version NGINX Gateway Fabric 2.6.7 is built against; the bundle refuses downgrades below v1.5.0.
GATEWAY_API_VERSION = "v1.5.1"
STANDARD_INSTALL = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/standard-install.yaml"
)


def gateway_api_crds(name: str, args: EdgeArgs, parent: pulumi.Resource) -> k8s.yaml.v2.ConfigFile:
    return k8s.yaml.v2.ConfigFile(
        f"{name}-gateway-api",
        file=STANDARD_INSTALL,
        opts=pulumi.ResourceOptions(parent=parent, provider=args.k8s_provider),
    )
