"""The weights Job: what it runs and where, and its script against a fake Hugging Face (127.0.0.1) and moto's S3."""

from __future__ import annotations

import hashlib
import http.server
import json
from contextlib import contextmanager

import boto3
import moto
import pytest

from tests.conftest import plan_with
from tools.fake_openai import in_thread
from workloads.serving import sync_weights

MODEL = "org/tiny-model"
REVISION = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "config.json": b'{"architectures": ["Tiny"]}',
    "model-00001-of-00002.safetensors": bytes(range(256)) * 48_000,  # 12 MB: three 5 MiB parts (patched below)
    "model-00002-of-00002.safetensors": b"\x01" * 1_000_000,
    "tokenizer.json": b'{"model": {}}',
    "README.md": b"# not needed to serve",
}


class FakeHub(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = FILES
    corrupt: set[str] = set()
    served: list[str] = []

    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        api = f"/api/models/{MODEL}/revision/{REVISION}?blobs=true"
        prefix = f"/{MODEL}/resolve/{REVISION}/"
        if self.path == api:
            siblings = [{"rfilename": name, "size": len(body),
                         **({"lfs": {"sha256": hashlib.sha256(body).hexdigest()}} if name.endswith(".safetensors") else {})}
                        for name, body in self.files.items()]
            self._send(json.dumps({"sha": REVISION, "siblings": siblings}).encode())
        elif self.path.startswith(prefix):
            name = self.path[len(prefix):]
            self.served.append(name)
            body = self.files[name]
            self._send(bytes(len(body)) if name in self.corrupt else body)
        else:
            self.send_response(404)
            self.end_headers()

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def fake_hub():
    FakeHub.served, FakeHub.corrupt = [], set()
    with in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)) as url:
        yield url


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setattr(sync_weights, "CHUNK_BYTES", 5 * 1024 * 1024)  # S3's smallest part: multipart on small files
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="weights")
        yield client


def test_copies_the_revision_and_checks_every_byte(s3):
    with fake_hub() as endpoint:
        counts = sync_weights.sync(s3, "weights", "models/org/tiny-model/" + REVISION, MODEL, REVISION, endpoint, None)
    assert counts == {"copied": 4, "skipped": 0}
    prefix = f"models/org/tiny-model/{REVISION}"
    for name, body in FILES.items():
        key = f"{prefix}/{name}"
        if name == "README.md":
            assert "Contents" not in s3.list_objects_v2(Bucket="weights", Prefix=key), "only what vLLM loads"
        else:
            assert s3.get_object(Bucket="weights", Key=key)["Body"].read() == body
    marker = json.loads(s3.get_object(Bucket="weights", Key=f"{prefix}/.complete")["Body"].read())
    assert marker == {"model": MODEL, "revision": REVISION}


def test_a_second_run_copies_nothing(s3):
    with fake_hub() as endpoint:
        sync_weights.sync(s3, "weights", "p", MODEL, REVISION, endpoint, None)
        FakeHub.served.clear()
        assert sync_weights.sync(s3, "weights", "p", MODEL, REVISION, endpoint, None) == {"copied": 0, "skipped": 0}
        assert FakeHub.served == []


def test_a_run_that_died_half_way_resumes(s3):
    s3.put_object(Bucket="weights", Key="p/model-00002-of-00002.safetensors", Body=FILES["model-00002-of-00002.safetensors"])
    with fake_hub() as endpoint:
        assert sync_weights.sync(s3, "weights", "p", MODEL, REVISION, endpoint, None) == {"copied": 3, "skipped": 1}
        assert "model-00002-of-00002.safetensors" not in FakeHub.served


def test_a_corrupt_download_is_removed_and_fails_without_the_marker(s3):
    with fake_hub() as endpoint:
        FakeHub.corrupt = {"model-00002-of-00002.safetensors"}
        with pytest.raises(sync_weights.SyncError, match="SHA-256"):
            sync_weights.sync(s3, "weights", "p", MODEL, REVISION, endpoint, None)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="weights", Prefix="p/").get("Contents", [])}
    assert "p/model-00002-of-00002.safetensors" not in keys and "p/.complete" not in keys


def test_an_unknown_revision_is_one_clear_line(s3):
    with fake_hub() as endpoint:
        with pytest.raises(sync_weights.SyncError, match="answered 404"):
            sync_weights.sync(s3, "weights", "p", MODEL, "f" * 40, endpoint, None)


# --- the Job as the cluster runs it ------------------------------------------------------------------------


def job(plan) -> dict:
    (resource,) = plan.of_type("kubernetes:batch/v1:Job")
    return resource.inputs


def test_the_token_is_read_from_the_mounted_file_first(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("hf_from_file\n")
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    assert sync_weights.hf_token() == "hf_from_file"
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "absent"))
    assert sync_weights.hf_token() == "hf_from_env", "run by hand, HF_TOKEN still works"
    monkeypatch.delenv("HF_TOKEN")
    assert sync_weights.hf_token() is None, "public models need no token"


def test_job_runs_small_on_a_system_node_with_hash_pinned_boto3(any_plan):
    spec = job(any_plan)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert spec["nodeSelector"] == {"node.llm-platform.io/role": "system"}
    assert "vllm" not in container["image"] and "@sha256:" in container["image"], "a small pinned image, not vLLM's 20 GB"
    assert "--require-hashes" in container["command"][-1]
    assert container["resources"]["limits"]["memory"] == "1Gi" and container["resources"]["requests"]["cpu"] == "250m"
    (work,) = [v for v in spec["volumes"] if v["name"] == "work"]
    assert work["emptyDir"]["sizeLimit"] == "1Gi", "the model never lands on the node's disk"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["AWS_REGION"] == "us-east-1"
    assert env["MODEL_REVISION"] == "a09a35458c702b33eeacc393d103063234e8bc28"
    assert env["S3_PREFIX"].endswith("/a09a35458c702b33eeacc393d103063234e8bc28")
    assert env["HF_TOKEN_PATH"] == "/var/run/secrets/huggingface/token" and "HF_TOKEN" not in env
    assert {"name": "hf-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True} in container["volumeMounts"]
    assert spec["automountServiceAccountToken"] is False, "the Job talks to Hugging Face and S3 only"
    config_map = any_plan.k8s("ConfigMap", "sync-weights")["data"]
    assert set(config_map) == {"sync_weights.py", "requirements.txt"}
    assert all("--hash=sha256:" in line for line in config_map["requirements.txt"].splitlines() if not line.startswith("#"))


def test_everything_that_should_resync_renames_the_job(plans):
    base = job(plans["dev"])["metadata"]["name"]
    revision = job(plan_with("dev", {"llm-platform:serving.model.revision": "b" * 40}))["metadata"]["name"]
    image = job(plan_with("dev", {"llm-platform:serving.weightsSync.image": "python:3.12.7-slim-bookworm@sha256:" + "c" * 64}))["metadata"]["name"]
    assert len({base, revision, image}) == 3
    assert job(plans["dev"])["metadata"]["name"] == base, "the name is stable while nothing changes"


def test_timeout_from_config():
    plan = plan_with("dev", {"llm-platform:serving.weightsSync.timeoutMinutes": 180})
    (resource,) = plan.of_type("kubernetes:batch/v1:Job")
    assert resource.custom_timeouts["create"] == "180m"
    assert resource.inputs["spec"]["activeDeadlineSeconds"] == 180 * 60


def test_another_model_needs_its_own_revision():
    from stackconfig import ConfigError

    with pytest.raises(ConfigError) as refused:
        plan_with("dev", {"llm-platform:serving.model.id": "meta-llama/Llama-3.1-8B-Instruct"})
    assert refused.value.key == "llm-platform:serving.model.revision"
