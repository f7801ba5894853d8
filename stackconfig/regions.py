"""AWS regions, from the endpoint data botocore ships (no network needed)."""

import boto3

_PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

AWS_REGIONS: frozenset[str] = frozenset(
    region
    for partition in _PARTITIONS
    for region in boto3.session.Session().get_available_regions("eks", partition_name=partition)
)

_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
               "southeast": "se", "northwest": "nw", "southwest": "sw", "gov": "g", "iso": "i", "isob": "ib"}


def zone_id_prefix(region: str) -> str:
    """The prefix of the region's zone IDs (us-east-1 -> use1, eu-central-2 -> euc2, us-gov-west-1 -> usgw1)."""
    geo, *middle, number = region.split("-")
    return geo + "".join(_DIRECTIONS.get(part, part[:1]) for part in middle) + number
