"""Copies one pinned model revision from Hugging Face to S3, file by file, streaming: nothing touches the disk.

Runs as a Kubernetes Job on a system node, in a small Python image (not the ~20 GB vLLM image), with boto3
installed from hash-pinned wheels at start. Each file is read from Hugging Face and written to S3 as a
multipart upload in bounded chunks, so memory stays at a few hundred MiB whatever the model's size, and its
SHA-256 is checked against the one Hugging Face publishes. Files already in S3 at the right size are skipped,
so a Job that failed half-way resumes; a ``.complete`` marker naming the revision is written last, and vLLM
is only started once it exists (its Deployment waits for this Job).

Environment: MODEL_ID, MODEL_REVISION (a commit), S3_BUCKET, S3_PREFIX, AWS_REGION, HF_TOKEN_PATH (optional: the
file holding the Hugging Face token, as huggingface_hub reads it; else HF_TOKEN), HF_ENDPOINT (optional, default
https://huggingface.co).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.parse
import urllib.request
from typing import Any, BinaryIO

# Everything vLLM loads: weights, configs, tokenizer files; not the repository's other artefacts.
WANTED_SUFFIXES = (".json", ".safetensors", ".model", ".txt", ".py", ".tiktoken", ".jinja")
CHUNK_BYTES = 32 * 1024 * 1024
PARALLEL_PARTS = 4
MARKER = ".complete"


class SyncError(Exception):
    """A failure worth one line in the Job's log (no traceback)."""


class HashingReader:
    """A read-only stream that hashes what passes through it."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, amount: int = -1) -> bytes:
        data = self.stream.read(amount)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _request(url: str, token: str | None) -> urllib.request.Request:
    headers = {"User-Agent": "llm-platform-weights-sync"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, headers=headers)


def list_files(endpoint: str, model_id: str, revision: str, token: str | None) -> list[dict[str, Any]]:
    """The revision's files with size and, for LFS files, their SHA-256 (Hugging Face's model API)."""
    url = f"{endpoint}/api/models/{model_id}/revision/{urllib.parse.quote(revision, safe='')}?blobs=true"
    try:
        with urllib.request.urlopen(_request(url, token), timeout=60) as response:
            info = json.load(response)
    except urllib.error.HTTPError as err:
        raise SyncError(f"{model_id}@{revision}: Hugging Face answered {err.code} (gated model without HF_TOKEN, or no such revision)")
    files = []
    for sibling in info.get("siblings", []):
        name = sibling["rfilename"]
        if name.endswith(WANTED_SUFFIXES):
            files.append({"name": name, "size": sibling.get("size"), "sha256": (sibling.get("lfs") or {}).get("sha256")})
    if not any(f["name"].endswith(".safetensors") for f in files):
        raise SyncError(f"{model_id}@{revision} has no .safetensors weights; allowed: models published as safetensors")
    return files


def _already_there(s3, bucket: str, key: str, size: int | None) -> bool:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return size is not None and head["ContentLength"] == size


def sync(s3, bucket: str, prefix: str, model_id: str, revision: str, endpoint: str, token: str | None) -> dict[str, int]:
    """Copy the revision into s3://bucket/prefix/; returns counts of files copied and skipped."""
    from boto3.s3.transfer import TransferConfig

    prefix = prefix.strip("/")
    marker = f"{prefix}/{MARKER}"
    if _marker_matches(s3, bucket, marker, revision):
        print(f"s3://{bucket}/{prefix} already holds {model_id}@{revision}")
        return {"copied": 0, "skipped": 0}
    transfer = TransferConfig(multipart_chunksize=CHUNK_BYTES, multipart_threshold=CHUNK_BYTES,
                              max_concurrency=PARALLEL_PARTS, use_threads=True)
    counts = {"copied": 0, "skipped": 0}
    for file in list_files(endpoint, model_id, revision, token):
        key = f"{prefix}/{file['name']}"
        if _already_there(s3, bucket, key, file["size"]):
            counts["skipped"] += 1
            continue
        url = f"{endpoint}/{model_id}/resolve/{urllib.parse.quote(revision, safe='')}/{urllib.parse.quote(file['name'])}"
        with urllib.request.urlopen(_request(url, token), timeout=300) as response:
            reader = HashingReader(response)
            s3.upload_fileobj(reader, bucket, key, Config=transfer)
        if file["sha256"] and reader.sha256.hexdigest() != file["sha256"]:
            s3.delete_object(Bucket=bucket, Key=key)
            raise SyncError(f"{file['name']}: SHA-256 {reader.sha256.hexdigest()} differs from Hugging Face's {file['sha256']}")
        if file["size"] is not None and reader.size != file["size"]:
            s3.delete_object(Bucket=bucket, Key=key)
            raise SyncError(f"{file['name']}: {reader.size} bytes copied, {file['size']} expected")
        counts["copied"] += 1
        print(f"copied {file['name']} ({reader.size} bytes)")
    s3.put_object(Bucket=bucket, Key=marker, Body=json.dumps({"model": model_id, "revision": revision}).encode())
    return counts


def _marker_matches(s3, bucket: str, marker: str, revision: str) -> bool:
    try:
        body = s3.get_object(Bucket=bucket, Key=marker)["Body"].read()
    except s3.exceptions.ClientError:
        return False
    return json.loads(body or b"{}").get("revision") == revision


def hf_token() -> str | None:
    """The token from the file HF_TOKEN_PATH names (the Job mounts the Secret there), else from HF_TOKEN."""
    path = os.environ.get("HF_TOKEN_PATH")
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as token_file:
            return token_file.read().strip() or None
    return os.environ.get("HF_TOKEN") or None


def main() -> int:
    import boto3

    try:
        env = {name: os.environ[name] for name in ("MODEL_ID", "MODEL_REVISION", "S3_BUCKET", "S3_PREFIX", "AWS_REGION")}
    except KeyError as missing:
        print(f"weights sync: environment variable {missing} is not set", file=sys.stderr)
        return 2
    s3 = boto3.client("s3", region_name=env["AWS_REGION"])
    try:
        counts = sync(s3, env["S3_BUCKET"], env["S3_PREFIX"], env["MODEL_ID"], env["MODEL_REVISION"],
                      os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/"), hf_token())
    except SyncError as err:
        print(f"weights sync: {err}", file=sys.stderr)
        return 1
    print(f"done: {counts['copied']} files copied, {counts['skipped']} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
