"""Critical traffic and model names with the real LiteLLM proxy: tag routing keeps tagged requests on OpenAI in every
phase, with the kill switch or not; keys reach the public names only. Each stack's rendered config loads.

The shadow phase (as shipped and under the kill switch) is covered in test_shadow_evaluation.py.
"""

from __future__ import annotations

import pytest

from tests.live_router.conftest import stack_files, start_routers, use_test_keys, with_test_keys
from tools import local_router
from tools.local_router import backend_requests, chat

ROUNDS = 12  # requests per way of tagging


@pytest.fixture(scope="module")
def routers(tmp_path_factory):
    base = tmp_path_factory.mktemp("critical")
    fleet = start_routers(base, {
        "dev": {"files": stack_files("dev")},
        # The rollout router takes the test keys (a stand-in for generated keys: see llm_platform_test_keys.py).
        "rollout": {"files": with_test_keys(stack_files("rollout")), "edit": use_test_keys},
        "prod": {"files": stack_files("prod")},
        "prod-kill-switch": {"files": stack_files("prod", "traffic.killSwitch=true", work_dir=base / "prod-kill")},
        # Self-hosted only, no fallback, vLLM failing: untagged requests must fail rather than reach OpenAI.
        "dev-no-fallback": {
            "files": stack_files("dev", "traffic.fallbackToOpenai=false", "serving.autoscaling.whileWaking=wait",
                                 work_dir=base / "dev-no-fallback"),
            "vllm": {"fail_rate": 1.0},
        },
    })
    yield fleet
    for router in fleet.values():
        router.stop()


def tagged_requests(url: str, key: str = local_router.MASTER_KEY) -> list[str]:
    """Who answered critical requests, tagged each way a client can: body tags, metadata tags, the x-litellm-tags
    header, among other tags, streamed or not."""
    answered = []
    for index in range(ROUNDS):
        for extra in ({"tags": ["critical"]}, {"metadata": {"tags": ["critical"]}}, {"tags": ["team-a", "critical"]},
                      {"headers": {"x-litellm-tags": "critical"}}):
            status, body, _ = chat(url, "gpt-4o-mini", f"critical {index}", key=key, stream=index % 2 == 0, **extra)
            assert status == 200, body
            answered.append(local_router.answered_by(body))
    return answered


def untagged_requests(url: str, count: int, key: str = local_router.MASTER_KEY, **extra) -> list[str]:
    answered = []
    for index in range(count):
        status, body, _ = chat(url, "gpt-4o-mini", f"plain {index}", key=key, **extra)
        assert status == 200, body
        answered.append(local_router.answered_by(body))
    return answered


@pytest.mark.parametrize("stack, untagged_to_vllm", [("dev", 1.0), ("rollout", 0.25), ("prod", 0.95), ("prod-kill-switch", 0.0)])
def test_critical_requests_reach_openai_in_every_phase(routers, stack, untagged_to_vllm):
    url = routers[stack].proxy.url
    assert set(tagged_requests(url)) == {"openai"}
    # The same requests untagged follow the phase's split: the tag is what kept the ones above on OpenAI.
    untagged = untagged_requests(url, 40)
    share = untagged.count("vllm") / len(untagged)
    if untagged_to_vllm in (0.0, 1.0):
        assert share == untagged_to_vllm
    else:  # 40 draws of the weighted split: within 0.25 of the share but for a chance of about 1e-4
        assert abs(share - untagged_to_vllm) <= 0.25, share


def test_a_tag_no_deployment_carries_does_not_change_who_answers(routers):
    """Clients tag requests for spend tracking too: an unknown tag keeps the request in the normal split."""
    answered = untagged_requests(routers["dev"].proxy.url, 10, tags=["team-a"])
    assert set(answered) == {"vllm"}


def test_a_key_carrying_the_critical_tag_keeps_all_its_requests_on_openai(routers):
    url = routers["rollout"].proxy.url
    assert set(untagged_requests(url, 40, key="sk-test-critical")) == {"openai"}
    assert "vllm" in untagged_requests(url, 40, key="sk-test-generated"), "the same key without the tag follows the split"


@pytest.mark.parametrize("internal", ["gpt-4o-mini-self-hosted", "gpt-4o-mini-openai", "gpt-4o-mini-openai-fallback",
                                      "qwen2.5-7b-instruct-direct"])
def test_keys_reach_the_public_names_only(routers, internal):
    url = routers["rollout"].proxy.url
    # A key as /key/generate makes it: LiteLLM's own model check refuses the internal name.
    status, body, _ = chat(url, internal, "bypass the split", key="sk-test-generated")
    assert status == 403 and "key_model_access_denied" in body, body
    # A key allowed every model, and the master key: the public_models_only hook refuses it.
    for key in ("sk-test-all-models", local_router.MASTER_KEY):
        status, body, _ = chat(url, internal, "bypass the split", key=key)
        assert status == 400 and "is not served here" in body, body
    for public in ("gpt-4o-mini", "qwen2.5-7b-instruct"):
        assert chat(url, public, "fine", key="sk-test-generated")[0] == 200


def test_a_critical_request_for_the_self_hosted_name_is_refused(routers):
    url = routers["rollout"].proxy.url
    vllm_before = backend_requests(routers["rollout"].backends["vllm"])
    status, body, _ = chat(url, "qwen2.5-7b-instruct", "critical but self-hosted", tags=["critical"])
    assert status == 400 and "critical requests are answered by OpenAI" in body
    status, body, _ = chat(url, "qwen2.5-7b-instruct", "critical key", key="sk-test-critical")
    assert status == 400
    assert backend_requests(routers["rollout"].backends["vllm"]) == vllm_before
    status, body, _ = chat(url, "qwen2.5-7b-instruct", "internal tester", key="sk-test-generated")
    assert status == 200 and local_router.answered_by(body) == "vllm"


def test_without_fallback_untagged_requests_never_reach_openai(routers):
    """dev's group holds a critical-only OpenAI deployment beside vLLM: vLLM failing must not hand it the untagged."""
    router = routers["dev-no-fallback"]
    for index in range(8):  # above allowedFails (3): a cooldown would have happened by now
        status, _, _ = chat(router.proxy.url, "gpt-4o-mini", f"plain {index}", timeout=60)
        assert status >= 500
    assert backend_requests(router.backends["openai"]) == 0
    status, body, _ = chat(router.proxy.url, "gpt-4o-mini", "critical", tags=["critical"])
    assert status == 200 and local_router.answered_by(body) == "openai"
