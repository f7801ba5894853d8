"""`make prices REGION=...`: rewrite tools/cost/ec2/<region>.yaml from the AWS Price List API.

    python -m tools.cost.refresh --region us-east-1 [--out-dir tools/cost/ec2]

Asks pricing:GetProducts (an endpoint in us-east-1, whatever region is priced) for the Linux, shared-tenancy
On-Demand price of every GPU instance type in hardware.yaml and every type the table already lists (the system
node group's CPU types). Needs AWS credentials with pricing:GetProducts; the plan itself never calls AWS.
Exit status: 0 written; 2 bad input or no credentials; 1 the API failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

import boto3
import yaml
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from stackconfig.regions import AWS_REGIONS

from .prices import EC2_PRICES, ec2_price_file, hardware

PRICING_ENDPOINT_REGION = "us-east-1"
HEADER = """# EC2 On-Demand prices in {region}: USD per instance-hour, Linux, shared tenancy.
#
# Written by `make prices REGION={region}` (tools/cost/refresh.py) from the AWS Price List API (pricing:GetProducts)
# on {date}. Run it again to refresh; the cost model and the policy pack read only this file and prices.yaml.
"""


def product_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """The one SKU a running Linux instance bills under: no pre-installed software, no license, shared tenancy,
    capacity used (not a reservation's unused part)."""
    terms = {"regionCode": region, "instanceType": instance_type, "operatingSystem": "Linux", "tenancy": "Shared",
             "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"}
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def on_demand_usd(price_list: Iterable[str]) -> Optional[float]:
    """The hourly USD price in a GetProducts answer (each entry is a JSON document of one product)."""
    for document in price_list:
        product = json.loads(document)
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                if dimension.get("unit") in ("Hrs", "Hours"):
                    usd = float(dimension["pricePerUnit"]["USD"])
                    if usd > 0:
                        return usd
    return None


def instance_types(region: str) -> list[str]:
    known = list(hardware())
    listed = ec2_price_file(region) or ec2_price_file("us-east-1") or {"onDemandHourlyUsd": {}}
    return known + [name for name in listed["onDemandHourlyUsd"] if name not in known]


def fetch(client: Any, region: str, names: list[str]) -> tuple[dict[str, float], list[str]]:
    prices: dict[str, float] = {}
    missing = []
    for name in names:
        answer = client.get_products(ServiceCode="AmazonEC2", Filters=product_filters(region, name), MaxResults=10)
        usd = on_demand_usd(answer.get("PriceList", []))
        if usd is None:
            missing.append(name)
        else:
            prices[name] = usd
    return prices, missing


def write(out_dir: Path, region: str, prices: dict[str, float], today: datetime.date) -> Path:
    path = out_dir / f"{region}.yaml"
    body = {
        "region": region,
        "retrieved": today.isoformat(),
        "source": f"AWS Price List API, pricing:GetProducts, {today.isoformat()}",
        "onDemandHourlyUsd": prices,
    }
    path.write_text(HEADER.format(region=region, date=today.isoformat()) + yaml.safe_dump(body, sort_keys=False))
    return path


def main(argv: Optional[list[str]] = None, client: Any = None, today: Optional[datetime.date] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost.refresh", description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--out-dir", type=Path, default=EC2_PRICES)
    args = parser.parse_args(argv)
    if args.region not in AWS_REGIONS:
        print(f"prices: --region {args.region!r} is not an AWS region; allowed: a region such as us-east-1", file=sys.stderr)
        return 2
    try:
        client = client or boto3.client("pricing", region_name=PRICING_ENDPOINT_REGION)
        prices, missing = fetch(client, args.region, instance_types(args.region))
    except (NoCredentialsError, NoRegionError) as err:
        print(f"prices: no AWS credentials ({err}); allowed: a profile or AWS_* variables with pricing:GetProducts", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as err:
        print(f"prices: the Price List API failed: {err}", file=sys.stderr)
        return 1
    if not prices:
        print(f"prices: the Price List API lists none of the instance types in {args.region}; nothing written", file=sys.stderr)
        return 1
    path = write(args.out_dir, args.region, prices, today or datetime.date.today())
    print(f"wrote {len(prices)} prices to {path}")
    if missing:
        print(f"not offered in {args.region}: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
