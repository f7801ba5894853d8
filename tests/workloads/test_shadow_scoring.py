"""The agreement score and the sample store the router's shadow evaluation ships (pure Python, tested here; the
callback that uses them is tested against the real LiteLLM proxy in tests/live_router)."""

from __future__ import annotations

import json
import random
import time

import boto3
import pytest
from moto import mock_aws

from workloads.router.hooks import llm_platform_agreement as agreement
from workloads.router.hooks import llm_platform_samples as samples

ANSWER = ("Rayleigh scattering sends short blue wavelengths across the sky by day; at sunset the light crosses more "
          "air, the blue is scattered away and the reds remain.")


def lcs_table(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def test_bit_parallel_lcs_matches_the_textbook_table():
    rng = random.Random(7)
    for _ in range(500):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 40))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 40))]
        assert agreement.lcs_length(a, b) == lcs_table(a, b)


def test_identical_answers_score_1_and_unrelated_ones_0():
    assert agreement.compare(ANSWER, ANSWER) == agreement.Agreement(1.0, "rouge_l")
    unrelated = agreement.compare(ANSWER, "Quarterly revenue rose eleven percent; cloud demand drove growth.")
    assert unrelated.score == 0.0


def test_a_paraphrase_scores_between():
    paraphrase = ("By day, Rayleigh scattering spreads blue light across the sky; at sunset the light travels "
                  "through more air, so the blue is scattered out and the reds remain.")
    assert 0.5 < agreement.compare(ANSWER, paraphrase).score < 1.0


def test_short_answers_need_an_exact_match_after_normalisation():
    assert agreement.compare("Paris", "paris.") == agreement.Agreement(1.0, "short", exact_match=True)
    missed = agreement.compare("Paris", "The capital of France is Paris.")
    assert missed.method == "short" and missed.exact_match is False and missed.score < 0.5
    assert agreement.compare("42", "42").score == 1.0 and agreement.compare("42", "41").score == 0.0


def test_json_answers_compare_as_values():
    fenced = '```json\n{"b": [1, 2], "a": "x"}\n```'
    assert agreement.compare('{"a": "x", "b": [1, 2]}', fenced, json_expected=True) == agreement.Agreement(
        1.0, "json", baseline_json_valid=True, candidate_json_valid=True)
    broken = agreement.compare('{"a": "x"}', '{"a": "x"', json_expected=True)
    assert (broken.score, broken.candidate_json_valid) == (0.0, False)
    close = agreement.compare('{"name": "Ada", "year": 1815}', '{"name": "Ada", "year": 1816}', json_expected=True)
    assert 0.5 < close.score < 1.0
    # The baseline not returning JSON either: compared as text, both validities reported.
    text = agreement.compare("no json here at all, sorry about that my friend", "no json", json_expected=True)
    assert text.baseline_json_valid is False and text.method == "rouge_l"


def test_refusals_are_recognised():
    assert agreement.looks_like_refusal("I'm sorry, but I can't help with that request.")
    assert agreement.looks_like_refusal("I cannot provide instructions for that.")
    assert not agreement.looks_like_refusal("Here is the recipe you asked for: ...")


def test_long_answers_stay_cheap_to_score():
    rng = random.Random(1)
    long_a = " ".join(str(rng.randint(0, 400)) for _ in range(20000))
    long_b = " ".join(str(rng.randint(0, 400)) for _ in range(20000))
    started = time.perf_counter()
    agreement.compare(long_a, long_b)
    assert time.perf_counter() - started < 0.5, "scored on the event loop's doorstep: must stay in milliseconds"


# --- sample store ---------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_batches_by_size_or_age_under_a_dated_prefix():
    clock = Clock()
    store = samples.SampleStore("shadow-samples", max_batch=3, max_age_seconds=60, clock=clock, host="router-0")
    assert not store.due() and store.take_batch() is None
    store.add({"n": 1})
    assert not store.due()
    clock.now += 61
    assert store.due(), "a lone pair is written once it is a minute old"
    store.add({"n": 2})
    store.add({"n": 3})
    store.add({"n": 4})
    key, body, count = store.take_batch()
    assert count == 3 and key.startswith("shadow-samples/dt=2027-01-15/router-0-") and key.endswith("-000001.jsonl")
    assert [json.loads(line)["n"] for line in body.decode().splitlines()] == [1, 2, 3]
    assert store.take_batch()[2] == 1


def test_a_full_buffer_drops_the_oldest_pairs():
    store = samples.SampleStore("p", max_buffered=2, clock=Clock())
    assert store.add({"n": 1}) and store.add({"n": 2})
    assert store.add({"n": 3}) is False
    _, body, _ = store.take_batch()
    assert [json.loads(line)["n"] for line in body.decode().splitlines()] == [2, 3]


@mock_aws
def test_uploads_land_in_the_bucket_named_by_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    boto3.client("s3").create_bucket(Bucket="llm-shadow-samples")
    monkeypatch.setenv(samples.BUCKET_ENV, "llm-shadow-samples")
    monkeypatch.setenv(samples.PREFIX_ENV, "shadow-samples")
    store, upload = samples.from_environment()
    store.add({"request": {"messages": [{"role": "user", "content": "hi"}]}, "agreement": {"score": 1.0}})
    key, body, _ = store.take_batch()
    upload(key, body)
    stored = boto3.client("s3").get_object(Bucket="llm-shadow-samples", Key=key)
    assert stored["ContentType"] == "application/x-ndjson"
    assert json.loads(stored["Body"].read())["agreement"] == {"score": 1.0}


def test_no_bucket_no_store(monkeypatch):
    monkeypatch.delenv(samples.BUCKET_ENV, raising=False)
    assert samples.from_environment() is None
