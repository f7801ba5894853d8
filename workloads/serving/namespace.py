"""The serving namespace and what both vLLM and the weights Job read from it (the Hugging Face token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

HF_TOKEN_SECRET = "hf-token"
HF_TOKEN_DIR = "/var/run/secrets/huggingface"


def hf_token_file() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The token as a read-only file, not an environment variable (which child processes, crash reports and
    ``/proc/<pid>/environ`` would carry): (the env var naming it, the pod volume, the container's mount).
    huggingface_hub, and so vLLM, reads the file named by HF_TOKEN_PATH; sync_weights.py does the same."""
    env = {"name": "HF_TOKEN_PATH", "value": f"{HF_TOKEN_DIR}/token"}
    volume = {"name": "hf-token", "secret": {"secretName": HF_TOKEN_SECRET, "items": [{"key": "token", "path": "token"}],
                                              "defaultMode": 0o440}}
    mount = {"name": "hf-token", "mountPath": HF_TOKEN_DIR, "readOnly": True}
    return env, volume, mount


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
