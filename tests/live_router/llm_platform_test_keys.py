"""A stand-in for LiteLLM's database-backed virtual keys in the real-proxy tests (general_settings.custom_auth).

Generated keys live in PostgreSQL through Prisma, whose query engine is downloaded at `prisma generate` time and
cannot be fetched here. LiteLLM's custom_auth hook returns the same UserAPIKeyAuth object a key lookup returns,
and with custom_auth_run_common_checks and enable_post_custom_auth_checks the proxy applies the checks a
database key gets (its model allowlist among them); its metadata tags merge into requests as a key's do. Each
test key mirrors a key the router could really hold:

- sk-test-generated: what POST /key/generate gives a key created without a model list
  (litellm_settings.default_key_generate_params.models, read from the rendered config.yaml beside this file);
- sk-test-all-models: a key an admin created for every model (models: []);
- sk-test-critical: a generated key whose metadata carries the critical tag by default.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth

_CONFIG = yaml.safe_load(Path(__file__).with_name("config.yaml").read_text())
GENERATED_MODELS = list(_CONFIG["litellm_settings"]["default_key_generate_params"]["models"])
KEYS = {
    "sk-test-generated": {"models": GENERATED_MODELS},
    "sk-test-all-models": {"models": []},
    "sk-test-critical": {"models": GENERATED_MODELS, "metadata": {"tags": ["critical"]}},
}


async def user_api_key_auth(request, api_key: str) -> UserAPIKeyAuth:
    api_key = api_key.removeprefix("Bearer ").strip()
    if api_key == os.environ["LITELLM_MASTER_KEY"]:
        return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN)
    if api_key in KEYS:
        return UserAPIKeyAuth(api_key=api_key, user_id=api_key, user_role=LitellmUserRoles.INTERNAL_USER, **KEYS[api_key])
    raise ValueError("unknown key")
