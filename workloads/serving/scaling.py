"""KEDA ScaledObject: vLLM replicas follow its queue of waiting requests.

A scaled-to-zero vLLM exports no metrics, so when the minimum is zero the
router's request rate is a second trigger that wakes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from stackconfig.model import ServingConfig


@dataclass(frozen=True)
class VllmScalingArgs:
    namespace: str
    deployment: str
    serving: ServingConfig
    prometheus_url: str
    router_namespace: str
    k8s_provider: k8s.Provider


def scaled_object_spec(args: VllmScalingArgs) -> dict[str, Any]:
    scaling, replicas = args.serving.autoscaling, args.serving.replicas
    waiting = (
        f'sum(vllm:num_requests_waiting{{namespace="{args.namespace}",model_name="{args.serving.model.served_name}"}})'
    )
    triggers: list[dict[str, Any]] = [{
        "type": "prometheus",
        "name": "queue-depth",
        "metadata": {
            "serverAddress": args.prometheus_url,
            "query": waiting,
            "threshold": str(scaling.queue_depth_target),
            "activationThreshold": str(scaling.activation_queue_depth),
            "ignoreNullValues": "true",
        },
    }]
    if replicas.min == 0:
        triggers.append({
            "type": "prometheus",
            "name": "router-requests",
            "metadata": {
                "serverAddress": args.prometheus_url,
                "query": f'sum(rate(litellm_proxy_total_requests_metric_total{{namespace="{args.router_namespace}"}}[2m]))',
                # Any request wakes it; afterwards the queue depth drives the count.
                "threshold": str(args.serving.model.max_num_seqs),
                "activationThreshold": "0",
                "ignoreNullValues": "true",
            },
        })
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": args.deployment},
        "minReplicaCount": replicas.min,
        "maxReplicaCount": replicas.max,
        "pollingInterval": scaling.polling_interval_seconds,
        "cooldownPeriod": scaling.cooldown_seconds,
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    # A GPU node takes minutes to come back: add fast, remove slowly, one at a time.
                    "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
                    "scaleDown": {
                        "stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
                    },
                }
            }
        },
        # When Prometheus cannot be read (failureThreshold polls in a row) KEDA neither freezes nor strands serving:
        # it keeps the current count if that is higher, else scales to at least one replica (the minimum if above).
        "fallback": {"failureThreshold": 3, "replicas": max(replicas.min, 1), "behavior": "currentReplicasIfHigher"},
        "triggers": triggers,
    }


class VllmScaling(pulumi.ComponentResource):
    def __init__(self, name: str, args: VllmScalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-platform:workloads:VllmScaling", name, None, opts)
        k8s.apiextensions.CustomResource(
            name,
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": args.deployment, "namespace": args.namespace},
            spec=scaled_object_spec(args),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
        self.register_outputs({})
