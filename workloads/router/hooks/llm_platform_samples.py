"""Replayed pairs kept for human review: batched as JSONL objects under an S3 prefix of the stack's samples bucket.

Shipped in the router's ConfigMap and used by llm_platform_shadow when `traffic.shadow.sampleStore` is enabled. The
bucket's lifecycle rule deletes the objects after `expireDays`. Pairs hold user content: they go to S3 only,
never to a log line, and a failed upload drops its batch (counted, not retried into memory without bound).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

BUCKET_ENV = "SHADOW_SAMPLES_BUCKET"
PREFIX_ENV = "SHADOW_SAMPLES_PREFIX"


class SampleStore:
    """Buffers records, hands out batches as (object key, JSONL bytes). The caller uploads them (off the event loop)."""

    def __init__(self, prefix: str, max_batch: int = 200, max_age_seconds: float = 60.0, max_buffered: int = 2000,
                 clock: Callable[[], float] = time.time, host: Optional[str] = None):
        self.prefix = prefix.strip("/")
        self.max_batch, self.max_age_seconds = max_batch, max_age_seconds
        self.clock = clock
        self.host = host or socket.gethostname()
        self.records: deque[dict[str, Any]] = deque(maxlen=max_buffered)  # the oldest go first when uploads fail
        self.oldest: Optional[float] = None
        self.sequence = 0
        self.lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> bool:
        """Buffer one record; False when the buffer was full and the oldest record was dropped for it."""
        with self.lock:
            dropped = len(self.records) == self.records.maxlen
            self.records.append(record)
            if self.oldest is None:
                self.oldest = self.clock()
            return not dropped

    def due(self) -> bool:
        with self.lock:
            return bool(self.records) and (
                len(self.records) >= self.max_batch or self.clock() - (self.oldest or 0) >= self.max_age_seconds
            )

    def take_batch(self) -> Optional[tuple[str, bytes, int]]:
        """(object key, body, record count) of up to max_batch records, or None when empty."""
        with self.lock:
            if not self.records:
                return None
            batch = [self.records.popleft() for _ in range(min(self.max_batch, len(self.records)))]
            self.oldest = self.clock() if self.records else None
            self.sequence += 1
            now = self.clock()
            day = time.strftime("%Y-%m-%d", time.gmtime(now))
            key = f"{self.prefix}/dt={day}/{self.host}-{int(now * 1000)}-{self.sequence:06d}.jsonl"
        body = "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in batch).encode()
        return key, body, len(batch)


def s3_uploader(bucket: str) -> Callable[[str, bytes], None]:
    """put_object into ``bucket`` with the pod's credentials (EKS Pod Identity); boto3 ships in the LiteLLM image."""
    import boto3

    client = boto3.client("s3")

    def upload(key: str, body: bytes) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    return upload


def from_environment(max_age_seconds: float = 60.0) -> Optional[tuple[SampleStore, Callable[[str, bytes], None]]]:
    """The store and its uploader, when the router Deployment names a bucket; None otherwise."""
    bucket = os.environ.get(BUCKET_ENV)
    if not bucket:
        return None
    return SampleStore(os.environ.get(PREFIX_ENV, "shadow-samples"), max_age_seconds=max_age_seconds), s3_uploader(bucket)
