"""Tooling around Pulumi: the offline plan (and, later, cost model and preflight checks)."""
