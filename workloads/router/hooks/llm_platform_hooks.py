"""The router's LiteLLM hooks, as config.yaml names them (``llm_platform_hooks.<instance>`` in litellm_settings.callbacks).

LiteLLM loads this file from beside config.yaml (the ConfigMap mounted at /etc/litellm, no image of our own), and
executes it afresh for every callback entry that names it. So the hooks live in sibling modules, imported once
through sys.path: each hook is one object with one set of metrics, however many entries point here.

- public_models_only (llm_platform_gate): only the public model names may be called; critical requests never
  reach a self-hosted-only name.
- readiness_gate (llm_platform_gate): while vLLM has no ready endpoint, answer from the OpenAI fallback at once.
- shadow_evaluation (llm_platform_shadow): replay a share of OpenAI's answers to vLLM (and, with the reverse
  check, of vLLM's to OpenAI), score the pairs, export llm_shadow_* metrics.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import llm_platform_gate  # noqa: E402 - needs the path above
import llm_platform_shadow  # noqa: E402

public_models_only = llm_platform_gate.public_models_only
readiness_gate = llm_platform_gate.readiness_gate
shadow_evaluation = llm_platform_shadow.shadow_evaluation
