"""Copies one model revision from Hugging Face to S3 once, so vLLM streams it from S3 on every start.

Runs inside the vLLM image (huggingface_hub and boto3 ship with it) as a Kubernetes Job.
Environment: MODEL_ID, MODEL_REVISION (optional), S3_BUCKET, S3_PREFIX, HF_TOKEN (optional).
"""

import os
import pathlib

import boto3
from huggingface_hub import snapshot_download

bucket, prefix = os.environ["S3_BUCKET"], os.environ["S3_PREFIX"].strip("/")
s3 = boto3.client("s3")
marker = f"{prefix}/.complete"
try:
    s3.head_object(Bucket=bucket, Key=marker)
    print(f"s3://{bucket}/{prefix} is already complete")
    raise SystemExit(0)
except s3.exceptions.ClientError:
    pass

local = pathlib.Path(snapshot_download(
    os.environ["MODEL_ID"],
    revision=os.environ.get("MODEL_REVISION") or None,
    local_dir="/work/model",
    allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.py", "*.tiktoken"],
))
for path in sorted(p for p in local.rglob("*") if p.is_file() and ".cache" not in p.parts):
    key = f"{prefix}/{path.relative_to(local)}"
    s3.upload_file(str(path), bucket, key)
    print(f"uploaded s3://{bucket}/{key}")
s3.put_object(Bucket=bucket, Key=marker, Body=b"")
