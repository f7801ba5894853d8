"""AWS regions, from the endpoint data botocore ships (no network needed)."""

import boto3

_PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

AWS_REGIONS: frozenset[str] = frozenset(
    region
    for partition in _PARTITIONS
    for region in boto3.session.Session().get_available_regions("eks", partition_name=partition)
)
