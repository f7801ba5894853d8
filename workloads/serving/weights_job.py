"""The Job that fills the weights bucket once per model revision (script: sync_weights.py).

It runs on a system node in a small Python image and streams the model to S3 (see sync_weights.py), so it
neither pulls the vLLM image nor stores the model on the node's disk. vLLM's Deployment waits for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import ServingConfig

from .namespace import hf_token_file

SCRIPT = Path(__file__).with_name("sync_weights.py")
REQUIREMENTS = Path(__file__).with_name("sync_weights_requirements.txt")
RUN_AS = 10001  # above the range images' own users take (checkov CKV_K8S_40)


def weights_prefix(serving: ServingConfig) -> str:
    return f"models/{serving.model.id}/{serving.model.revision}"


@dataclass(frozen=True)
class WeightsSyncArgs:
    namespace: str
    serving: ServingConfig
    bucket: pulumi.Input[str]
    region: str
    service_account: str
    has_hf_token: bool
    system_node_selector: dict[str, str]
    k8s_provider: k8s.Provider


def job_spec(args: WeightsSyncArgs, bucket: str) -> dict[str, Any]:
    sync = args.serving.weights_sync
    env = [
        {"name": "MODEL_ID", "value": args.serving.model.id},
        {"name": "MODEL_REVISION", "value": args.serving.model.revision},
        {"name": "S3_BUCKET", "value": bucket},
        {"name": "S3_PREFIX", "value": weights_prefix(args.serving)},
        # Pod Identity hands out credentials, not a region.
        {"name": "AWS_REGION", "value": args.region},
        {"name": "HOME", "value": "/work"},
        # pip stages every install in a temporary directory, and the root filesystem is read-only.
        {"name": "TMPDIR", "value": "/work"},
        {"name": "PYTHONPATH", "value": "/work/deps"},
        {"name": "PIP_DISABLE_PIP_VERSION_CHECK", "value": "1"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "scripts", "configMap": {"name": "sync-weights"}},
        # boto3's wheels and pip's scratch space: the model itself never lands here.
        {"name": "work", "emptyDir": {"sizeLimit": "1Gi"}},
    ]
    mounts = [{"name": "scripts", "mountPath": "/scripts"}, {"name": "work", "mountPath": "/work"}]
    if args.has_hf_token:
        token_env, token_volume, token_mount = hf_token_file()
        env.append(token_env)
        volumes.append(token_volume)
        mounts.append(token_mount)
    install = "pip install --quiet --no-cache-dir --only-binary=:all: --require-hashes --target /work/deps -r /scripts/requirements.txt"
    return {
        "backoffLimit": 4,
        "activeDeadlineSeconds": sync.timeout_minutes * 60,
        "template": {"spec": {
            "serviceAccountName": args.service_account,
            # The Job talks to Hugging Face and S3 only; Pod Identity mounts a token of its own for S3.
            "automountServiceAccountToken": False,
            "restartPolicy": "OnFailure",
            "nodeSelector": args.system_node_selector,
            "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "sync",
                "image": sync.image,
                "command": ["/bin/sh", "-c", f"{install} && exec python /scripts/sync_weights.py"],
                "env": env,
                # Network-bound: a fraction of a core and a few hundred MiB of part buffers (4 x 32 MiB in flight).
                "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": mounts,
            }],
            "volumes": volumes,
        }},
    }


class WeightsSync(pulumi.ComponentResource):
    job: k8s.batch.v1.Job

    def __init__(self, name: str, args: WeightsSyncArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("llm-platform:workloads:WeightsSync", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata={"name": args.service_account, "namespace": args.namespace}, opts=k8s_opts
        )
        script = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata={"name": "sync-weights", "namespace": args.namespace},
            data={"sync_weights.py": SCRIPT.read_text(), "requirements.txt": REQUIREMENTS.read_text()},
            opts=k8s_opts,
        )

        def job_with_name(bucket: str) -> dict[str, Any]:
            spec = job_spec(args, bucket)
            # A Job's template cannot change: whatever should re-sync (model, revision, bucket, image, script)
            # changes the hash, so the name, so Pulumi replaces the Job.
            digest = hashlib.sha256(
                json.dumps([spec, SCRIPT.read_text(), REQUIREMENTS.read_text()], sort_keys=True).encode()
            ).hexdigest()[:10]
            return {"name": f"sync-weights-{digest}", "namespace": args.namespace}

        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=pulumi.Output.from_input(args.bucket).apply(job_with_name),
            spec=pulumi.Output.from_input(args.bucket).apply(lambda bucket: job_spec(args, bucket)),
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider, depends_on=[script, service_account],
                # Pulumi waits for the Job to succeed; a multi-GB model takes longer than the 10-minute default.
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.serving.weights_sync.timeout_minutes}m",
                                                      update=f"{args.serving.weights_sync.timeout_minutes}m"),
            ),
        )
        self.register_outputs({"job": self.job.metadata["name"]})
