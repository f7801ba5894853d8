"""`make rehearse STACK=<stack>`: a stack's request path, rehearsed on this machine (`python -m tools.rehearse`).

The real LiteLLM proxy (the router image's version, from .venv-router) runs the router config and hooks the stack's
plan rendered, with two fake OpenAI-compatible backends standing in for OpenAI and vLLM and a real Prometheus
scraping all of them, everything on 127.0.0.1. A bounded amount of traffic goes through it (a few hundred
requests from a few clients, streamed and not); the report says which backend answered what share against the
config, what clients see while vLLM fails, what the kill switch does (a second router rendered with it on), how
the shadow evaluation scores the answers, and what the promotion gate makes of the metrics. Exit 0 when the phase
behaves as configured, 1 otherwise, 2 on bad input.
"""
