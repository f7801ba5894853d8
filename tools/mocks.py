"""Engine mocks for the offline plan: what AWS and the pulumi-eks component would answer.

The mocks answer like the real services would (ARNs, ids, a kubeconfig, the
typed resource references pulumi-eks returns), so the program runs unchanged.
They never shape the program: every value here is one a real deployment
produces, in the real format.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks

from stackconfig.regions import zone_id_prefix

ACCOUNT_ID = "123456789012"
_SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"  # pulumi.runtime.rpc._special_resource_sig


class UnmockedCall(Exception):
    """The program called a provider function the offline plan does not know."""


def _suffix(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def _ec2_style_id(prefix: str):
    """Answers with an id in EC2's form (vpc-0123..., subnet-0123...)."""

    def answer(mocks: "PlanMocks", name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        resource_id = f"{prefix}-0{_suffix(prefix, name)}{_suffix(name, prefix)}"
        return resource_id, {"arn": f"arn:aws:ec2:{mocks.region}:{ACCOUNT_ID}:{prefix}/{resource_id}"}

    return answer


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str):
        self.region = region
        self.monitor = runtime_mocks.MockMonitor(self)
        # Per registering thread (the SDK registers from a thread pool): the URN being registered, and the
        # children a remote component created for it (type, name, state), which the recorder lists below it.
        self._registering = threading.local()

    def start_registration(self, urn: str) -> None:
        self._registering.urn = urn
        self._registering.children = []

    def remote_children(self) -> list[tuple[str, str, dict]]:
        return getattr(self._registering, "children", [])

    # --- provider functions -------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token = args.token
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            # Each account maps zone names to zone IDs its own way; this one maps them in order.
            letters = "abcdef"
            return {
                "names": [f"{self.region}{c}" for c in letters],
                "zoneIds": [f"{zone_id_prefix(self.region)}-az{i + 1}" for i in range(len(letters))],
                "id": self.region,
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
                "id": ACCOUNT_ID,
            }
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        raise UnmockedCall(f"the offline plan has no answer for {token}")

    # --- resources ----------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        outputs = dict(inputs)
        handler = _OUTPUTS.get(typ)
        physical = inputs.get("name") if isinstance(inputs.get("name"), str) else f"{name}-{_suffix(typ, name)}"
        resource_id = physical
        if handler is not None:
            resource_id, extra = handler(self, name, physical, inputs)
            outputs.update(extra)
        elif typ.startswith("aws:"):
            service = typ.split(":")[1].split("/")[0]
            outputs.setdefault("arn", f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{physical}")
            outputs.setdefault("name", physical)
        return resource_id, outputs

    def register_child(self, typ: str, name: str, resource_id: str, state: dict) -> dict:
        """Record a resource a remote component creates, and return a reference to it."""
        urn = self.monitor.make_urn(self._registering.urn, typ, name)
        self.monitor.resources[urn] = runtime_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        self._registering.children.append((typ, name, state))
        return {_SIG_KEY: _RESOURCE_SIG, "urn": urn, "id": resource_id}

    # --- per-type answers ---------------------------------------------------

    def _eks_cluster(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        cluster_name = physical
        endpoint = f"https://{_suffix(cluster_name).upper()}.gr7.{self.region}.eks.amazonaws.com"
        issuer = f"https://oidc.eks.{self.region}.amazonaws.com/id/{_suffix('oidc', cluster_name).upper()}"
        cluster_sg = f"sg-{_suffix('cluster-sg', cluster_name)}"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": "LS0tLS1CRUdJTg=="}}],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "current-context": "aws",
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", self.region],
                        }
                    },
                }
            ],
        }
        eks_cluster = self.register_child(
            "aws:eks/cluster:Cluster",
            f"{name}-eksCluster",
            cluster_name,
            {
                "name": cluster_name,
                "arn": f"arn:aws:eks:{self.region}:{ACCOUNT_ID}:cluster/{cluster_name}",
                "endpoint": endpoint,
                "version": inputs.get("version"),
                "vpcConfig": {"clusterSecurityGroupId": cluster_sg, "vpcId": inputs.get("vpcId")},
                "identities": [{"oidcs": [{"issuer": issuer}]}],
            },
        )
        return f"{cluster_name}-cluster", {
            "eksCluster": eks_cluster,
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
            "clusterSecurityGroupId": cluster_sg,
            "nodeSecurityGroupId": cluster_sg,
            "oidcIssuer": issuer.removeprefix("https://"),
            "oidcProviderUrl": issuer,
            "oidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer.removeprefix('https://')}",
        }

    def _iam_role(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        return physical, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}", "name": physical, "uniqueId": f"AROA{_suffix(physical).upper()}"}

    def _sqs_queue(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        url = f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        return url, {"arn": f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{physical}", "name": physical, "url": url}

    def _kms_key(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        key_id = f"{_suffix('a', name)}-{_suffix('b', name)[:4]}-{_suffix('c', name)[:4]}-{_suffix('d', name)[:4]}-{_suffix('e', name)}{_suffix('f', name)[:4]}"
        return key_id, {"arn": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{key_id}", "keyId": key_id}

    def _sns_topic(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        arn = f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:{physical}"
        return arn, {"arn": arn, "name": physical}

    def _s3_bucket(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        bucket = inputs.get("bucket") or physical
        return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "bucketRegionalDomainName": f"{bucket}.s3.{self.region}.amazonaws.com"}

    def _launch_template(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        resource_id = f"lt-{_suffix('lt', name)}{_suffix(name, 'lt')[:9]}"
        return resource_id, {"latestVersion": 1, "defaultVersion": 1}

    def _node_group(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        group = inputs.get("nodeGroupName") or physical
        return f"{inputs.get('clusterName')}:{group}", {"nodeGroupName": group, "status": "ACTIVE"}

    def _event_rule(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        return physical, {"arn": f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{physical}", "name": physical}

    def _anomaly_monitor(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        arn = f"arn:aws:ce::{ACCOUNT_ID}:anomalymonitor/{_suffix('monitor', name)}"
        return arn, {"arn": arn}

    def _db_instance(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        identifier = inputs.get("identifier") or physical.lower()
        address = f"{identifier}.{_suffix('rds', self.region)}abcd.{self.region}.rds.amazonaws.com"
        port = int(inputs.get("port") or 5432)
        version = str(inputs.get("engineVersion") or "17")
        return identifier, {
            "arn": f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:db:{identifier}",
            "identifier": identifier,
            "address": address,
            "endpoint": f"{address}:{port}",
            "port": port,
            "engineVersionActual": version if "." in version else f"{version}.6",  # RDS resolves a major to its default minor
            "resourceId": f"db-{_suffix('db', name).upper()}{_suffix(name, 'db').upper()}",
        }

    def _replication_group(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        group_id = inputs.get("replicationGroupId") or physical.lower()
        short = zone_id_prefix(self.region)  # ElastiCache abbreviates regions the same way
        host = f"{group_id}.{_suffix('cache', name)[:6]}.{short}.cache.amazonaws.com"
        return group_id, {
            "arn": f"arn:aws:elasticache:{self.region}:{ACCOUNT_ID}:replicationgroup:{group_id}",
            "primaryEndpointAddress": f"master.{host}",
            "readerEndpointAddress": f"replica.{host}",
            "port": int(inputs.get("port") or 6379),
            "memberClusters": [f"{group_id}-{i + 1:03d}" for i in range(int(inputs.get("numCacheClusters") or 1))],
        }

    def _random_password(self, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        length = int(inputs.get("length") or 16)
        seed = hashlib.sha256(f"password/{name}".encode()).digest() * (length // 32 + 1)
        return "none", {"result": "".join(alphabet[b % len(alphabet)] for b in seed[:length])}


_OUTPUTS: dict[str, Any] = {
    "eks:index:Cluster": PlanMocks._eks_cluster,
    "aws:iam/role:Role": PlanMocks._iam_role,
    "aws:sqs/queue:Queue": PlanMocks._sqs_queue,
    "aws:kms/key:Key": PlanMocks._kms_key,
    "aws:sns/topic:Topic": PlanMocks._sns_topic,
    "aws:s3/bucket:Bucket": PlanMocks._s3_bucket,
    "aws:ec2/vpc:Vpc": _ec2_style_id("vpc"),
    "aws:ec2/subnet:Subnet": _ec2_style_id("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_style_id("sg"),
    "aws:ec2/internetGateway:InternetGateway": _ec2_style_id("igw"),
    "aws:ec2/natGateway:NatGateway": _ec2_style_id("nat"),
    "aws:ec2/eip:Eip": _ec2_style_id("eipalloc"),
    "aws:ec2/routeTable:RouteTable": _ec2_style_id("rtb"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2_style_id("vpce"),
    "aws:ec2/launchTemplate:LaunchTemplate": PlanMocks._launch_template,
    "aws:eks/nodeGroup:NodeGroup": PlanMocks._node_group,
    "aws:cloudwatch/eventRule:EventRule": PlanMocks._event_rule,
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": PlanMocks._anomaly_monitor,
    "aws:rds/instance:Instance": PlanMocks._db_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": PlanMocks._replication_group,
    "random:index/randomPassword:RandomPassword": PlanMocks._random_password,
}
