"""The promotion gate: may the next migration step go ahead? (`python -m tools.promote_check`, `make promote-check`).

It reads what the migration plan watches from the cluster's Prometheus over a window (per backend error rates, the
self-hosted TTFT p95 and end-to-end p99, the fallback rate, the shadow agreement, and the samples behind each),
compares each with the stack's `promotion` thresholds, and prints one line per criterion, a verdict and the next step.
It needs only the standard library and the stack config: no cluster credentials beyond a reachable Prometheus.
"""
