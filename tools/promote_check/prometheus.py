"""The few Prometheus HTTP API calls the gate makes: instant queries at one evaluation time."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional


class PrometheusError(Exception):
    """Prometheus could not be asked, or did not answer a query: one line for the user."""


class Prometheus:
    def __init__(self, url: str, at: Optional[float] = None, timeout: float = 30):
        self.url = url.rstrip("/")
        self.at = at
        self.timeout = timeout

    def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """An instant query at ``at`` (now when unset): (labels, value) per series; NaN values are left out."""
        params = {"query": expr}
        if self.at is not None:
            params["time"] = f"{self.at:.3f}"
        request = urllib.request.Request(
            f"{self.url}/api/v1/query", data=urllib.parse.urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = self._json(response.read())
        except urllib.error.HTTPError as err:
            payload = self._json(err.read(), status=err.code)
            raise PrometheusError(
                f"Prometheus at {self.url} refused a query ({payload.get('errorType', err.code)}: {payload.get('error', err.reason)})"
            ) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from None
        data = payload.get("data") or {}
        if payload.get("status") != "success" or data.get("resultType") not in ("vector", "scalar"):
            raise PrometheusError(f"Prometheus at {self.url} answered a query with {payload.get('error') or data.get('resultType')!r}")
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        samples = [(series.get("metric", {}), float(series["value"][1])) for series in data["result"]]
        return [(labels, value) for labels, value in samples if not math.isnan(value)]

    def total(self, expr: str) -> float:
        """The sum of a query's values; 0 when it returns nothing (no such series in the window)."""
        return sum(value for _, value in self.query(expr))

    def _json(self, body: bytes, status: int = 200) -> dict[str, Any]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            raise PrometheusError(f"{self.url} did not answer like Prometheus (HTTP {status}, not JSON from /api/v1/query)") from None
        if not isinstance(payload, dict):
            raise PrometheusError(f"{self.url} did not answer like Prometheus (HTTP {status})")
        return payload
