"""The serving namespace and what both vLLM and the weights Job read from it (the Hugging Face token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

HF_TOKEN_SECRET = "hf-token"


@dataclass(frozen=True)
class ServingNamespaceArgs:
    name: str
    hf_token: Optional[pulumi.Input[str]]
    k8s_provider: k8s.Provider


class ServingNamespace(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: ServingNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:ServingNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            name,
            # vLLM and the weights Job run non-root, read-only, with no capabilities: the strictest standard holds.
            metadata={"name": args.name, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
        if args.hf_token is not None:
            k8s.core.v1.Secret(
                f"{name}-hf-token",
                metadata={"name": HF_TOKEN_SECRET, "namespace": args.name},
                type="Opaque",
                string_data={"token": pulumi.Output.secret(args.hf_token)},
                opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[self.namespace]),
            )
        self.register_outputs({"namespace": args.name})
