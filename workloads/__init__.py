"""Kubernetes workloads: serving, edge, router, observability."""
