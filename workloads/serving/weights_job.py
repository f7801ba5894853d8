"""The Job that fills the weights bucket once per model revision (script: sync_weights.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import ServingConfig

SCRIPT = Path(__file__).with_name("sync_weights.py")


def weights_prefix(serving: ServingConfig) -> str:
    return f"models/{serving.model.id}/{serving.model.revision or 'main'}"


@dataclass(frozen=True)
class WeightsSyncArgs:
    namespace: str
    serving: ServingConfig
    bucket: pulumi.Input[str]
    service_account: str
    has_hf_token: bool
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider


class WeightsSync(pulumi.ComponentResource):
    def __init__(self, name: str, args: WeightsSyncArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("llm-platform:workloads:WeightsSync", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        k8s.core.v1.ServiceAccount(f"{name}-sa", metadata={"name": args.service_account, "namespace": args.namespace}, opts=k8s_opts)
        script = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata={"name": "sync-weights", "namespace": args.namespace},
            data={"sync_weights.py": SCRIPT.read_text()},
            opts=k8s_opts,
        )
        env = [
            {"name": "MODEL_ID", "value": args.serving.model.id},
            {"name": "MODEL_REVISION", "value": args.serving.model.revision or ""},
            {"name": "S3_BUCKET", "value": args.bucket},
            {"name": "S3_PREFIX", "value": weights_prefix(args.serving)},
            {"name": "HOME", "value": "/work"},
        ]
        if args.has_hf_token:
            env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}})
        k8s.batch.v1.Job(
            f"{name}-job",
            # A new model or revision gets a new Job; the script skips a revision already complete.
            metadata={"name": f"sync-weights-{hashlib.sha256(weights_prefix(args.serving).encode()).hexdigest()[:10]}", "namespace": args.namespace},
            spec={
                "backoffLimit": 3,
                "ttlSecondsAfterFinished": 86400,
                "template": {"spec": {
                    "serviceAccountName": args.service_account,
                    "restartPolicy": "OnFailure",
                    "nodeSelector": args.system_node_selector,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 2000, "fsGroup": 2000,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "sync",
                        "image": args.serving.image,
                        "command": ["python3", "/scripts/sync_weights.py"],
                        "env": env,
                        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "8Gi"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "scripts", "mountPath": "/scripts"}, {"name": "work", "mountPath": "/work"}],
                    }],
                    "volumes": [
                        {"name": "scripts", "configMap": {"name": "sync-weights"}},
                        {"name": "work", "emptyDir": {"sizeLimit": "200Gi"}},
                    ],
                }},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[script]),
        )
        self.register_outputs({})
