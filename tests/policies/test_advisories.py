"""Policies that close known vulnerabilities of pinned components (docs/versions.md, "Advisories")."""

from policies.rules import advisories

from .helpers import check

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SAFE = "ghcr.io/berriai/litellm:v1.103.2@sha256:f63fb81b831b170ec16851e23c36ac5bf52ef106b271406429524a2ed730bbfd"


def router(image: str, init_image: str | None = None) -> dict:
    spec = {"containers": [{"name": "litellm", "image": image}]}
    if init_image:
        spec["initContainers"] = [{"name": "wait-for-valkey", "image": init_image}]
    return {"metadata": {"name": "llm-router", "namespace": "llm-router"}, "spec": {"template": {"spec": spec}}}


def test_a_trigger_authentication_is_rejected_while_keda_is_vulnerable():
    vault = {"metadata": {"name": "vault", "namespace": "team-a"},
             "spec": {"hashiCorpVault": {"address": "https://vault.example", "authentication": "kubernetes"}}}
    for kind in ("TriggerAuthentication", "ClusterTriggerAuthentication"):
        (message,) = check(advisories.no_trigger_authentication, f"kubernetes:keda.sh/v1alpha1:{kind}", vault)
        assert message.startswith(f"{kind} team-a/vault: ") and "CVE-2026-77524" in message and "2.21.0" in message


def test_scaled_objects_are_not_its_business():
    assert check(advisories.no_trigger_authentication, "kubernetes:keda.sh/v1alpha1:ScaledObject", {"spec": {}}) is None


def test_compromised_litellm_releases_and_moving_tags_are_rejected():
    for image in ("ghcr.io/berriai/litellm:v1.107.0", "ghcr.io/berriai/litellm:main-stable",
                  "ghcr.io/berriai/litellm:v1.82.8@sha256:" + "0" * 64,
                  "ghcr.io/berriai/litellm@sha256:1bbcb1443bc962e45f5aad53fe3d2c30600e0379715fb6c664cdd3ac126c339e"):
        (message,) = check(advisories.no_compromised_litellm, DEPLOYMENT, router(image))
        assert message.startswith("Deployment llm-router/llm-router (containers): ") and "traffic.router.image" in message
    (message,) = check(advisories.no_compromised_litellm, DEPLOYMENT, router(SAFE, init_image="ghcr.io/berriai/litellm:latest"))
    assert "(initContainers)" in message


def test_a_safe_digest_pin_and_other_images_pass():
    assert check(advisories.no_compromised_litellm, DEPLOYMENT, router(SAFE, init_image=SAFE)) == []
    assert check(advisories.no_compromised_litellm, DEPLOYMENT, router("vllm/vllm-openai:v0.33.0")) == []
