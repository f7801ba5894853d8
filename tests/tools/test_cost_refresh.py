"""`make prices`: the Price List API answer becomes tools/cost/ec2/<region>.yaml (botocore Stubber, no network)."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
import yaml
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from tools.cost import refresh


def product(usd: str) -> str:
    """A GetProducts entry as the API returns it: one product, its On-Demand term, one hourly dimension."""
    return json.dumps({
        "product": {"attributes": {"instanceType": "x"}},
        "terms": {"OnDemand": {"SKU.JRTCKXETXF": {"priceDimensions": {
            "SKU.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": usd}, "description": "On Demand Linux"},
        }}}},
    })


@pytest.fixture
def pricing():
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    with Stubber(client) as stubber:
        yield client, stubber


def test_writes_the_region_file(pricing, tmp_path, monkeypatch, capsys):
    client, stubber = pricing
    monkeypatch.setattr(refresh, "instance_types", lambda region: ["g6e.xlarge", "g7x.xlarge"])
    for name, answer in (("g6e.xlarge", [product("1.8610000000")]), ("g7x.xlarge", [])):
        stubber.add_response("get_products", {"PriceList": answer, "FormatVersion": "aws_v1"},
                             {"ServiceCode": "AmazonEC2", "Filters": refresh.product_filters("eu-west-1", name), "MaxResults": 10})
    status = refresh.main(["--region", "eu-west-1", "--out-dir", str(tmp_path)], client=client, today=datetime.date(2026, 11, 27))
    assert status == 0
    written = yaml.safe_load((tmp_path / "eu-west-1.yaml").read_text())
    assert written == {"region": "eu-west-1", "retrieved": "2026-11-27",
                       "source": "AWS Price List API, pricing:GetProducts, 2026-11-27",
                       "onDemandHourlyUsd": {"g6e.xlarge": 1.861}}
    assert "not offered in eu-west-1: g7x.xlarge" in capsys.readouterr().out
    stubber.assert_no_pending_responses()


def test_filters_pick_the_linux_shared_on_demand_sku():
    fields = {f["Field"]: f["Value"] for f in refresh.product_filters("us-east-1", "g5.xlarge")}
    assert fields == {"regionCode": "us-east-1", "instanceType": "g5.xlarge", "operatingSystem": "Linux",
                      "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
                      "licenseModel": "No License required"}


def test_bad_region_and_missing_credentials_are_one_line_exit_2(tmp_path, capsys):
    assert refresh.main(["--region", "us-moon-1", "--out-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1

    class NoCredentials:
        def get_products(self, **kwargs):
            raise NoCredentialsError()

    assert refresh.main(["--region", "us-east-1", "--out-dir", str(tmp_path)], client=NoCredentials()) == 2
    err = capsys.readouterr().err
    assert err.startswith("prices: no AWS credentials") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_the_shipped_table_covers_every_gpu_type():
    table = yaml.safe_load((refresh.EC2_PRICES / "us-east-1.yaml").read_text())
    assert set(refresh.hardware()) <= set(table["onDemandHourlyUsd"])
    assert table["retrieved"] and table["source"]
