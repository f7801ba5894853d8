"""Observability: dashboards, alert rules, Alertmanager's paging, logs (Loki and Alloy) and the extra scrape targets.

Grafana, Prometheus and Alertmanager are one Helm release (workloads/monitoring.py); this package holds what
configures them and what comes after them.
"""
