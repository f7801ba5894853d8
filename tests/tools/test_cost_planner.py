"""The capacity planner against hand-worked cases: what fits, how many sequences, how fast, how many replicas."""

from __future__ import annotations

import math

import pytest

from stackconfig import ConfigError, from_stack_file
from tests.conftest import ROOT
from tests.stackconfig.test_validation import assert_one_line_error, run_plan, write_stack
from tests.tools.test_cost_prices import config_with
from tests.conftest import raw_config, set_dotted
from tools.cost.planner import gpu_requests_share, plan_capacity
from tools.cost.model import at_volume

NS = "llm-platform"
GIB = 1024**3
REVISION = "0123456789abcdef0123456789abcdef01234567"  # another model needs its own pinned revision

# Qwen2.5-7B-Instruct in bf16 on one L4 (g6.2xlarge, the smallest L4 node that holds the pod; EC2 reports 22,888 MiB) at gpuMemoryUtilization 0.9:
#   weights     7.62e9 params x 2 bytes                      = 15.24e9 B  = 14.193 GiB
#   usable      22,888 / 1,024 GiB x 0.9 - 1.5 GiB overhead             = 18.616 GiB
#   KV cache    18.616 - 14.193                                          =  4.423 GiB
#   per token   2 (K, V) x 28 layers x 4 KV heads x 128 x 2 bytes        = 57,344 B
#   tokens      4.423 GiB / 57,344 B                                     = 82,819 -> 5 sequences of 16,384
#   one stream  300 GB/s / (15.24e9 + 600 x 57,344) B x 0.5 efficiency  =  9.82 tokens/s
#   32 streams  32 x 300e9 / (15.24e9 + 32 x 600 x 57,344) x 0.5        = 293.7 tokens/s  (600 = 500 in + 200/2 out)
L4_WEIGHTS, L4_KV_GIB, L4_TOKENS, L4_STREAM, L4_BATCH32 = 14.1934, 4.4231, 82_819, 9.820, 293.74


def test_default_model_on_an_l4_by_hand():
    plan = plan_capacity(from_stack_file("dev", ROOT))
    fit = plan.fits["g6.2xlarge"]
    assert plan.spot_fit is fit, "the cheapest type the spot pool may launch serves"
    assert fit.weights_gib_per_gpu == pytest.approx(L4_WEIGHTS, abs=1e-3)
    assert fit.kv_gib_per_gpu == pytest.approx(L4_KV_GIB, abs=1e-3)
    assert fit.kv_tokens == L4_TOKENS
    assert fit.sequences_at_max_len == 5
    assert fit.batch == 32, "maxNumSeqs (32) binds before the KV cache (118 requests of 700 tokens)"
    assert fit.stream_tokens_per_second == pytest.approx(L4_STREAM, abs=0.01)
    assert fit.replica_tokens_per_second == pytest.approx(L4_BATCH32, abs=0.05)


def test_bandwidth_sets_the_speed_across_gpus():
    fits = plan_capacity(from_stack_file("prod", ROOT)).fits
    # Same weights, so one stream's speed scales with memory bandwidth: A10G 600, L40S 864 against L4's 300 GB/s.
    assert fits["g5.2xlarge"].stream_tokens_per_second == pytest.approx(2 * fits["g6.2xlarge"].stream_tokens_per_second, rel=0.01)
    assert fits["g6e.xlarge"].stream_tokens_per_second == pytest.approx(2.88 * fits["g6.2xlarge"].stream_tokens_per_second, rel=0.01)
    # The L40S's 44.7 GiB leave 24.5 GiB of KV cache: 28 sequences of 16,384 tokens.
    assert fits["g6e.xlarge"].sequences_at_max_len == 28


def test_13b_in_fp16_does_not_fit_one_a10g(tmp_path, capsys):
    # The migration plan's example: a 13B model on g5.2xlarge. 13.02e9 x 2 bytes = 24.25 GiB of weights, more than
    # the A10G's 22.35 GiB before any KV cache or overhead.
    config = raw_config("dev")
    set_dotted(config, f"{NS}:serving.model.id", "meta-llama/Llama-2-13b-chat-hf")
    set_dotted(config, f"{NS}:serving.model.revision", REVISION)
    set_dotted(config, f"{NS}:serving.model.maxModelLen", 4096)
    set_dotted(config, f"{NS}:gpuPools.spot", {"instanceTypes": ["g5.2xlarge"], "maxGpusPerNode": 1, "gpuLimit": 2})
    write_stack(tmp_path, config)
    status, stderr = run_plan(tmp_path, capsys)
    assert_one_line_error(status, stderr, f"{NS}:serving.model.id")
    assert "24.3 GiB" in stderr and "g5.2xlarge" in stderr and "A10G" in stderr


def test_a_pool_that_may_launch_a_gpu_too_small_is_refused():
    # 13B fits an L40S (44.7 GiB), but the pool may also launch A10G nodes, where Karpenter might put it.
    changes = {f"{NS}:serving.model.id": "meta-llama/Llama-2-13b-chat-hf", f"{NS}:serving.model.maxModelLen": 4096,
               f"{NS}:serving.model.revision": REVISION,
               f"{NS}:gpuPools.spot.instanceFamilies": ["g5", "g6e"]}
    with pytest.raises(ConfigError) as err:
        plan_capacity(config_with("dev", changes))
    assert err.value.key == f"{NS}:serving.model.id"
    assert "g5.2xlarge" in str(err.value) and "g6e" not in str(err.value).split("does not fit on")[1].split(",")[0]
    only_l40s = plan_capacity(config_with("dev", {**changes, f"{NS}:gpuPools.spot.instanceFamilies": ["g6e"]}))
    assert only_l40s.spot_fit.instance.name == "g6e.xlarge" and only_l40s.spot_fit.fits


def test_13b_fits_an_a10g_in_4_bit():
    # 0.33e9 embedding params x 2 bytes + 12.69e9 x 4.16 bits = 6.75 GiB.
    changes = {f"{NS}:serving.model": {"id": "meta-llama/Llama-2-13b-chat-hf", "maxModelLen": 4096, "quantization": "awq",
                                                 "revision": REVISION},
               f"{NS}:gpuPools.spot.instanceFamilies": ["g5"]}
    plan = plan_capacity(config_with("dev", changes))
    assert plan.weights_gib == pytest.approx(6.755, abs=0.01)
    assert plan.spot_fit.fits


def test_13b_over_two_a10gs_splits_weights_and_kv_heads():
    changes = {f"{NS}:serving.model": {"id": "meta-llama/Llama-2-13b-chat-hf", "maxModelLen": 4096, "tensorParallelSize": 2,
                                                 "revision": REVISION},
               f"{NS}:gpuPools.spot": {"instanceTypes": ["g5.12xlarge"], "maxGpusPerNode": 4, "gpuLimit": 4}}
    fit = plan_capacity(config_with("dev", changes)).spot_fit
    assert fit.weights_gib_per_gpu == pytest.approx(24.2516 / 2, abs=1e-3)
    # 40 KV heads over 2 GPUs: 2 x 40 layers x 20 heads x 128 x 2 bytes = 409,600 B a token on each GPU.
    assert fit.kv_tokens == int((22888 / 1024 * 0.9 - 1.5 - 24.2516 / 2) * GIB // 409_600)
    assert fit.replicas_per_node == 2


def test_a_context_the_kv_cache_cannot_hold_names_max_model_len():
    with pytest.raises(ConfigError) as err:
        plan_capacity(config_with("dev", {f"{NS}:serving.model.maxModelLen": 131072}))
    assert err.value.key == f"{NS}:serving.model.maxModelLen"
    assert f"at most {L4_TOKENS}" in str(err.value)


def test_an_unknown_model_needs_its_architecture():
    with pytest.raises(ConfigError) as err:
        plan_capacity(config_with("dev", {f"{NS}:serving.model.id": "acme/tiny-chat", f"{NS}:serving.model.revision": REVISION}))
    assert err.value.key == f"{NS}:serving.model.architecture"
    architecture = {"paramsBillion": 3.0, "embeddingParamsBillion": 0.3, "layers": 24, "kvHeads": 4, "headDim": 128}
    plan = plan_capacity(config_with("dev", {f"{NS}:serving.model.id": "acme/tiny-chat", f"{NS}:serving.model.revision": REVISION,
                                             f"{NS}:serving.model.architecture": architecture}))
    assert plan.weights_gib == pytest.approx(3.0e9 * 2 / GIB)


def test_compressed_tensors_needs_the_weights_size():
    with pytest.raises(ConfigError) as err:
        plan_capacity(config_with("dev", {f"{NS}:serving.model.quantization": "compressed-tensors"}))
    assert err.value.key == f"{NS}:serving.model.architecture.weightsGib"


def test_requests_longer_than_the_context_are_refused(tmp_path, capsys):
    config = raw_config("dev")
    set_dotted(config, f"{NS}:load.inputTokensPerRequest", 16300)  # + 200 out > 16,384
    write_stack(tmp_path, config)
    assert_one_line_error(*run_plan(tmp_path, capsys), f"{NS}:load.inputTokensPerRequest")


# Answered self-hosted, plus the shadow replays of OpenAI's answers: 10 % in shadow, 2 % of the rest in rollout and prod.
@pytest.mark.parametrize("stack, share", [("dev", 1.0), ("shadow", 0.10), ("rollout", 0.25 + 0.75 * 0.02),
                                          ("prod", 0.95 + 0.05 * 0.02)])
def test_share_of_requests_on_vllm(stack, share):
    assert gpu_requests_share(from_stack_file(stack, ROOT)) == pytest.approx(share)


def test_kill_switch_leaves_vllm_idle():
    assert gpu_requests_share(config_with("prod", {f"{NS}:traffic.killSwitch": True})) == 0


def test_replicas_at_peak_and_gpu_hours_by_hand():
    # 10M requests x 200 tokens over 730 h: 761.0 tokens/s on average, 2,283.1 at the 3x peak; an L4 replica
    # decodes 293.7 tokens/s at 32 sequences: 3 replicas on average, 8 at peak.
    config = config_with("dev", {f"{NS}:load": {"requestsPerMonth": 10_000_000}})
    average, peak = 10e6 * 200 / (730 * 3600), 3 * 10e6 * 200 / (730 * 3600)
    assert math.ceil(average / L4_BATCH32) == 3 and math.ceil(peak / L4_BATCH32) == 8
    capped = plan_capacity(config).load
    assert capped.average_demand_tps == pytest.approx(average) and capped.peak_demand_tps == pytest.approx(peak)
    # dev allows 2 replicas (serving.replicas.max, gpuPools.spot.gpuLimit): the rest is left to OpenAI, and said.
    assert (capped.average.spot, capped.peak.spot) == (2, 2)
    assert capped.peak_unserved_tps == pytest.approx(peak - 2 * L4_BATCH32, rel=1e-3)
    assert capped.warnings and "unserved" in capped.warnings[0]
    assert capped.spot_replica_hours == 2 * 730
    grown = at_volume(config, 10_000_000).capacity.load
    assert (grown.average.spot, grown.peak.spot) == (3, 8)
    assert grown.spot_replica_hours == 3 * 730


def test_active_hours_and_scale_to_zero():
    # dev: 50,000 requests in 10 h a day; replicas.min is 0, so no GPU runs outside those hours.
    plan = plan_capacity(from_stack_file("dev", ROOT)).load
    assert plan.active_hours == pytest.approx(730 * 10 / 24)
    assert plan.idle.total == 0 and plan.average.total == 1
    assert plan.spot_replica_hours == pytest.approx(730 * 10 / 24)


def test_reserved_capacity_is_filled_first():
    plan = plan_capacity(from_stack_file("prod", ROOT))
    assert plan.reserved_fit.instance.name == "g6e.xlarge"
    # replicas.min 3 on a reserved pool of 4 GPUs: all three on reservations, none on spot.
    assert (plan.load.average.reserved, plan.load.average.spot) == (3, 0)
    big = at_volume(from_stack_file("prod", ROOT), 200_000_000).capacity.load
    assert big.average.reserved == 4 and big.average.spot > 0, "past the reservations, spot takes the rest"


def test_spot_replicas_go_on_the_cheapest_type_that_holds_the_vllm_pod(plans):
    from stackconfig import from_stack_file
    from tools.cost.planner import serving_type

    config = from_stack_file("dev")
    # g6.xlarge has the GPU but 16 GiB of memory: the pod asks for 18 GiB, so Karpenter launches a g6.2xlarge.
    assert (config.serving.replica_cpu, config.serving.replica_memory_gib) == (3, 18)
    assert serving_type(config, "spot").name == "g6.2xlarge"


def test_a_pool_that_cannot_hold_a_replica_is_a_config_error():
    from stackconfig import ConfigError
    from tests.conftest import raw_config, set_dotted
    from stackconfig import parse
    from tools.cost.planner import serving_type

    raw = raw_config("dev")
    set_dotted(raw, "llm-platform:gpuPools.spot.instanceFamilies", ["g6"])
    set_dotted(raw, "llm-platform:gpuPools.spot.instanceSizes", ["xlarge"])
    with pytest.raises(ConfigError) as refused:
        serving_type(parse("dev", raw), "spot")
    assert refused.value.key == "llm-platform:gpuPools.spot"
    assert "holds a vLLM replica (3 vCPU, 18 GiB" in str(refused.value)
