"""The prod router's reverse check (self-hosted answers also asked of OpenAI, within a monthly budget) and the
shadow sample store (pairs as JSONL in S3), with the real LiteLLM proxy, fakes, and moto's S3 on 127.0.0.1."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.live_router.conftest import stack_files, start_routers, with_shadow_settings
from tools import local_router
from tools.local_router import backend_requests, chat, metric_sum, metrics

BUDGET_USD = 0.00003  # a few reverse checks at gpt-4o-mini prices, then the month's budget is spent
BUCKET = "llm-shadow-samples-test"
SECRET_PROMPT = "canary-7f3a: what is the tallest mountain in Europe"


@pytest.fixture(scope="module")
def s3():
    port = local_router.free_port()
    server = ThreadedMotoServer(ip_address=local_router.LOOPBACK, port=port, verbose=False)
    server.start()
    endpoint = f"http://{local_router.LOOPBACK}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture(scope="module")
def prod(tmp_path_factory, s3):
    endpoint, _ = s3
    files = with_shadow_settings(stack_files("prod"), reverse_check_percent=100, reverse_check_monthly_budget_usd=BUDGET_USD,
                                 sample_store_percent=100, sample_store_flush_seconds=1)
    env = {"SHADOW_SAMPLES_BUCKET": BUCKET, "SHADOW_SAMPLES_PREFIX": "shadow-samples", "AWS_ENDPOINT_URL": endpoint,
           "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    router = start_routers(tmp_path_factory.mktemp("reverse"), {"prod": {"files": files, "proxy_env": env}})["prod"]
    yield router
    router.stop()


def test_reverse_checks_ask_openai_until_the_budget_is_spent(prod):
    openai_before = backend_requests(prod.backends["openai"])
    answered = []
    for index in range(30):
        status, body, _ = chat(prod.proxy.url, "gpt-4o-mini", f"{SECRET_PROMPT} ({index})?")
        assert status == 200
        answered.append(local_router.answered_by(body))
    time.sleep(1.0)
    text = metrics(prod.proxy.url)
    checked = metric_sum(text, "llm_shadow_replays_total", mode="reverse", backend="openai", outcome="ok")
    assert checked >= 1
    # Every request OpenAI received beyond the split's own share was a reverse check.
    assert backend_requests(prod.backends["openai"]) - openai_before == checked + answered.count("openai")
    spent = metric_sum(text, "llm_shadow_reverse_spend_usd_total", model="gpt-4o-mini")
    assert 0 < spent < BUDGET_USD + 0.00002, "stops once the budget is reached (at most one check beyond it)"
    assert metric_sum(text, "llm_shadow_dropped_total", mode="reverse", reason="budget") > 0
    assert metric_sum(text, "llm_shadow_agreement_count", mode="reverse") == checked


def test_sampled_pairs_land_in_s3_and_never_in_the_log(prod, s3):
    _, client = s3
    deadline = time.monotonic() + 15
    keys: list[str] = []
    while time.monotonic() < deadline and not keys:
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="shadow-samples/").get("Contents", [])]
        time.sleep(0.5)
    assert keys, "\n".join(l for l in metrics(prod.proxy.url).splitlines() if "llm_shadow_samples" in l)
    assert all(k.startswith("shadow-samples/dt=") and k.endswith(".jsonl") for k in keys)
    records = [json.loads(line) for key in keys
               for line in client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()]
    uploaded = metric_sum(metrics(prod.proxy.url), "llm_shadow_samples_total", outcome="uploaded")
    assert len(records) == uploaded > 0
    record = records[0]
    assert record["mode"] == "reverse" and record["model"] == "gpt-4o-mini"
    assert SECRET_PROMPT in record["request"]["messages"][0]["content"]
    assert record["baseline"]["backend"] == "openai" and record["candidate"]["backend"] == "self-hosted"
    assert record["baseline"]["text"].startswith("Answer: ") and record["agreement"]["score"] == 1.0
    assert SECRET_PROMPT not in prod.proxy.log.read_text(), "content goes to S3 only, never to the log"
