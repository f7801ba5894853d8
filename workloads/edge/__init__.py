"""The public edge: NLB → NGINX Gateway Fabric (Gateway API) → LLM router.

Pinned upstream versions, and where the literal values were taken from:
- AWS Load Balancer Controller chart 3.5.0 (eks-charts); its IAM policy in
  infra/policies/aws-load-balancer-controller.json is docs/install/iam_policy.json of
  kubernetes-sigs/aws-load-balancer-controller at tag v3.5.0, unchanged.
- Gateway API v1.5.1 standard channel (the version NGINX Gateway Fabric 2.6.7 is built against).
- cert-manager chart v1.21.1 (oci://quay.io/jetstack/charts/cert-manager).
- NGINX Gateway Fabric chart 2.6.7 (oci://ghcr.io/nginx/charts/nginx-gateway-fabric); its policies are
  gateway.nginx.org/v1alpha1 at that tag.
"""

from .args import BackendRef, EdgeArgs, PublicService
from .component import Edge

__all__ = ["BackendRef", "Edge", "EdgeArgs", "PublicService"]
