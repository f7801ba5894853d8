"""Capacity planner: does the model fit the GPUs the pools may launch, how much does a replica serve, and how many
replicas and GPU-hours does the stack's load need.

Memory (per GPU, tensor parallel splits weights and KV heads):
    usable   = GPU memory x gpuMemoryUtilization - runtime overhead
    KV cache = usable - weights / tensorParallelSize
    tokens   = KV cache / (2 x layers x KV heads per GPU x head dim x 2 bytes)
vLLM refuses to start when the weights do not fit, or when the KV cache cannot hold one maxModelLen sequence: both
are config errors here, naming the key, for every instance type a pool may launch (Karpenter may pick any of them).

Speed (the roofline): a decode step reads the weights once, plus the KV cache of every running sequence, so
    step time  = (weights + batch x context x KV bytes per token) per GPU / GPU memory bandwidth
    tokens/s   = batch / step time x costModel.decodeEfficiency
with batch = the sequences that fit at the request's length, at most maxNumSeqs. This is an upper bound in the
memory-bound regime decoding lives in; the efficiency factor says how much of it vLLM reaches.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Optional

import yaml

from stackconfig import ConfigError, StackConfig
from stackconfig.model import NODE_RESERVED_CPU, NODE_RESERVED_GIB, VLLM_CACHE_GIB, VLLM_COMPILE_CACHE_GIB

from .prices import DATA, InstanceType, hours_per_month, on_demand_hourly, pool_candidates, pools

GIB = 1024**3
KV_BYTES = 2  # vLLM's --kv-cache-dtype auto keeps the model's 16-bit dtype
FOUR_BIT = ("awq", "awq_marlin", "gptq", "gptq_marlin", "bitsandbytes")
# 4-bit weights with a 16-bit scale and a 4-bit zero point per group of 128: 4.16 bits a weight.
FOUR_BIT_BYTES = (4 + (16 + 4) / 128) / 8


@dataclass(frozen=True)
class ModelSpec:
    id: str
    params_billion: float
    embedding_params_billion: float
    layers: int
    kv_heads: int
    head_dim: int
    weights_gib: Optional[float]
    source: str


@functools.cache
def known_models() -> dict[str, dict]:
    return yaml.safe_load((DATA / "models.yaml").read_text())["models"]


def model_spec(config: StackConfig) -> ModelSpec:
    model = config.serving.model
    if model.architecture is not None:
        a = model.architecture
        return ModelSpec(model.id, a.params_billion, a.embedding_params_billion, a.layers, a.kv_heads, a.head_dim,
                         a.weights_gib, "llm-platform:serving.model.architecture")
    row = known_models().get(model.id)
    if row is None:
        raise ConfigError(
            "llm-platform:serving.model.architecture",
            f"is required: {model.id} is not in the planner's model table (tools/cost/models.yaml: "
            f"{', '.join(known_models())}); allowed: paramsBillion, layers, kvHeads, headDim from its config.json",
        )
    return ModelSpec(model.id, row["paramsBillion"], row["embeddingParamsBillion"], row["layers"], row["kvHeads"],
                     row["headDim"], None, row["source"])


def weights_gib(config: StackConfig, spec: ModelSpec) -> float:
    """The weights in GPU memory, by quantization: 16-bit, 8-bit (fp8) or 4-bit with group scales; the embedding and
    output head stay 16-bit."""
    if spec.weights_gib is not None:
        return spec.weights_gib
    quantization = config.serving.model.quantization
    embedding = spec.embedding_params_billion * 1e9 * 2
    rest = (spec.params_billion - spec.embedding_params_billion) * 1e9
    if quantization is None:
        return spec.params_billion * 1e9 * 2 / GIB
    if quantization == "fp8":
        return (embedding + rest) / GIB
    if quantization in FOUR_BIT:
        return (embedding + rest * FOUR_BIT_BYTES) / GIB
    raise ConfigError(
        "llm-platform:serving.model.architecture.weightsGib",
        f"is required with quantization {quantization}: its bit width is in the checkpoint, not the flag; allowed: the "
        "size of the weights in GiB (the model's safetensors files)",
    )


def kv_bytes_per_token_per_gpu(spec: ModelSpec, tensor_parallel: int) -> float:
    # Tensor parallel splits the KV heads; with fewer heads than GPUs vLLM replicates them.
    heads_per_gpu = max(1, math.ceil(spec.kv_heads / tensor_parallel))
    return 2 * spec.layers * heads_per_gpu * spec.head_dim * KV_BYTES


@dataclass(frozen=True)
class Fit:
    """One replica (tensorParallelSize GPUs) of the model on one instance type."""

    instance: InstanceType
    weights_gib_per_gpu: float
    usable_gib_per_gpu: float
    kv_gib_per_gpu: float
    kv_tokens: int
    sequences_at_max_len: int
    batch: int  # concurrent sequences at the request's length, at most maxNumSeqs
    stream_tokens_per_second: float  # one sequence alone
    replica_tokens_per_second: float  # the whole batch, decoding
    replicas_per_node: int

    @property
    def weights_fit(self) -> bool:
        return self.kv_gib_per_gpu > 0

    @property
    def fits(self) -> bool:
        return self.weights_fit and self.sequences_at_max_len >= 1


def fit_on(config: StackConfig, spec: ModelSpec, instance: InstanceType) -> Fit:
    model = config.serving.model
    tp = model.tensor_parallel_size
    weights = weights_gib(config, spec) / tp
    usable = instance.gpu_memory_gib * model.gpu_memory_utilization - config.cost_model.runtime_overhead_gib
    kv_gib = usable - weights
    per_token = kv_bytes_per_token_per_gpu(spec, tp)
    tokens = max(0, int(kv_gib * GIB // per_token))
    request = config.load.input_tokens_per_request + config.load.output_tokens_per_request
    batch = min(model.max_num_seqs, tokens // request)
    context = config.load.input_tokens_per_request + config.load.output_tokens_per_request / 2  # mean while decoding
    bandwidth = instance.gpu.memory_bandwidth_gbps * 1e9
    efficiency = config.cost_model.decode_efficiency

    def tokens_per_second(sequences: int) -> float:
        step = (weights * GIB + sequences * context * per_token) / bandwidth
        return sequences / step * efficiency

    return Fit(
        instance=instance,
        weights_gib_per_gpu=weights,
        usable_gib_per_gpu=usable,
        kv_gib_per_gpu=kv_gib,
        kv_tokens=tokens,
        sequences_at_max_len=tokens // model.max_model_len,
        batch=batch,
        stream_tokens_per_second=tokens_per_second(1) if kv_gib > 0 else 0.0,
        replica_tokens_per_second=tokens_per_second(batch) if batch > 0 else 0.0,
        replicas_per_node=instance.gpus // tp,
    )


def _hosts(config: StackConfig, pool_key: str) -> list[InstanceType]:
    """Instance types of a pool that can hold a replica (tensorParallelSize GPUs on one node)."""
    pool = pools(config)[pool_key]
    tp = config.serving.model.tensor_parallel_size
    reserved_types = {r.instance_type for r in pool.capacity_reservations if r.instance_type}
    candidates = [t for t in pool_candidates(pool, pool_key) if t.gpus >= tp]
    if pool_key == "reserved" and reserved_types and not pool.capacity_reservation_tags:
        candidates = [t for t in candidates if t.name in reserved_types]
    if not candidates:
        raise ConfigError(
            "llm-platform:serving.model.tensorParallelSize",
            f"{tp} GPUs per replica, but gpuPools.{pool_key} launches no node with that many GPUs; allowed: "
            f"a tensorParallelSize its nodes have, or instance sizes with more GPUs and maxGpusPerNode >= {tp}",
        )
    # Karpenter only launches a type whose CPU and memory, less what the node keeps, hold the vLLM pod's requests.
    serving = config.serving
    roomy = [t for t in candidates
             if t.vcpus - NODE_RESERVED_CPU >= serving.replica_cpu
             and t.memory_mib / 1024 - NODE_RESERVED_GIB >= serving.replica_memory_gib]
    if not roomy:
        raise ConfigError(
            f"llm-platform:gpuPools.{pool_key}",
            f"no instance type it may launch holds a vLLM replica ({serving.replica_cpu} vCPU, "
            f"{serving.replica_memory_gib} GiB plus {NODE_RESERVED_CPU} vCPU and {NODE_RESERVED_GIB} GiB for the node; "
            f"largest: {', '.join(sorted(t.name for t in candidates))}); allowed: larger instanceSizes or instanceTypes",
        )
    return roomy


def check_fit(config: StackConfig, spec: ModelSpec) -> dict[str, Fit]:
    """The fit on every instance type a pool may launch; raises ConfigError naming the key if any does not fit."""
    fits: dict[str, Fit] = {}
    for pool_key in pools(config):
        for instance in _hosts(config, pool_key):
            fits.setdefault(instance.name, fit_on(config, spec, instance))
    model = config.serving.model
    weights = weights_gib(config, spec)
    if config.serving.weights_cache == "none" and weights > VLLM_CACHE_GIB - VLLM_COMPILE_CACHE_GIB:
        raise ConfigError(
            "llm-platform:serving.weightsCache",
            f"none makes each replica download {spec.id}'s {weights:.1f} GiB of weights into its {VLLM_CACHE_GIB} GiB "
            f"cache volume, which keeps {VLLM_COMPILE_CACHE_GIB} GiB for compile caches (the pod would be evicted); "
            f"allowed: s3 (streamed from the weights bucket) for models above {VLLM_CACHE_GIB - VLLM_COMPILE_CACHE_GIB} GiB",
        )
    short = [f for f in fits.values() if not f.weights_fit]
    if short:
        worst = min(short, key=lambda f: f.usable_gib_per_gpu)
        raise ConfigError(
            "llm-platform:serving.model.id",
            f"{spec.id} does not fit: {weights:.1f} GiB of weights over tensorParallelSize "
            f"{model.tensor_parallel_size} is {worst.weights_gib_per_gpu:.1f} GiB per GPU, but {worst.instance.name} "
            f"({worst.instance.gpu.name}, {worst.instance.gpu_memory_gib:.1f} GiB) gives "
            f"{worst.usable_gib_per_gpu:.1f} GiB at gpuMemoryUtilization {model.gpu_memory_utilization:g} less "
            f"{config.cost_model.runtime_overhead_gib:g} GiB overhead; does not fit on "
            f"{', '.join(sorted(f.instance.name for f in short))}, which the GPU pools may launch; allowed: a "
            "quantization (fp8, awq), a larger tensorParallelSize, or pools that launch only larger GPUs",
        )
    no_room = [f for f in fits.values() if not f.fits]
    if no_room:
        tightest = min(no_room, key=lambda f: f.kv_tokens)
        raise ConfigError(
            "llm-platform:serving.model.maxModelLen",
            f"{model.max_model_len} tokens do not fit the KV cache on {tightest.instance.name}: "
            f"{tightest.kv_gib_per_gpu:.2f} GiB per GPU holds {tightest.kv_tokens} tokens; allowed: at most "
            f"{tightest.kv_tokens} on the instance types the GPU pools may launch, or more GPU memory per replica",
        )
    return fits


def serving_type(config: StackConfig, pool_key: str) -> InstanceType:
    """The type a pool most likely launches for vLLM: Karpenter picks the cheapest that fits the pod, per replica."""
    return min(_hosts(config, pool_key),
               key=lambda t: (on_demand_hourly(config, t.name) / (t.gpus // config.serving.model.tensor_parallel_size), t.name))


@dataclass(frozen=True)
class Placement:
    reserved: int = 0
    spot: int = 0

    @property
    def total(self) -> int:
        return self.reserved + self.spot


@dataclass(frozen=True)
class LoadPlan:
    requests_per_month: float  # answered by vLLM, or replayed to it by the shadow evaluation
    output_tokens_per_month: float
    active_hours: float
    average_demand_tps: float
    peak_demand_tps: float
    average: Placement  # replicas in an average active hour
    peak: Placement
    idle: Placement  # replicas outside the active hours
    peak_unserved_tps: float  # what the caps leave to OpenAI (or queues) at peak
    reserved_replica_hours: float
    spot_replica_hours: float
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CapacityPlan:
    spec: ModelSpec
    weights_gib: float
    fits: dict[str, Fit]
    reserved_fit: Optional[Fit]
    spot_fit: Fit
    load: LoadPlan


def gpu_requests_share(config: StackConfig) -> float:
    """Share of client requests vLLM works on: those it answers, plus the shadow replays of OpenAI's answers."""
    answered = config.traffic.effective_self_hosted_percent / 100
    return answered + (1 - answered) * config.traffic.effective_shadow_percent / 100


def place(config: StackConfig, demand_tps: float, reserved_fit: Optional[Fit], spot_fit: Fit,
          capped: bool) -> tuple[Placement, float]:
    """Replicas for a demand: reserved slots first (paid anyway), then spot; serving.replicas.min at least. With
    ``capped``, serving.replicas.max and the pools' gpuLimit hold, and the rest is returned as unserved tokens/s."""
    tp = config.serving.model.tensor_parallel_size
    replicas = config.serving.replicas
    reserved_slots = config.gpu_pools.reserved.gpu_limit // tp if reserved_fit is not None else 0
    if capped:
        reserved_slots = min(reserved_slots, replicas.max)
    reserved_rate = reserved_fit.replica_tokens_per_second if reserved_fit is not None else 0.0
    on_reserved = min(reserved_slots, math.ceil(demand_tps / reserved_rate)) if reserved_rate else 0
    rest = max(0.0, demand_tps - on_reserved * reserved_rate)
    on_spot = math.ceil(rest / spot_fit.replica_tokens_per_second) if rest > 0 else 0
    if on_reserved + on_spot < replicas.min:
        extra = replicas.min - on_reserved - on_spot
        more_reserved = min(extra, reserved_slots - on_reserved)
        on_reserved += more_reserved
        on_spot += extra - more_reserved
    unserved = 0.0
    if capped:
        spot_cap = config.gpu_pools.spot.gpu_limit // tp
        spot_cap = min(spot_cap, max(0, replicas.max - on_reserved))
        if on_spot > spot_cap:
            unserved = rest - spot_cap * spot_fit.replica_tokens_per_second
            on_spot = spot_cap
    return Placement(on_reserved, on_spot), max(0.0, unserved)


def plan_load(config: StackConfig, reserved_fit: Optional[Fit], spot_fit: Fit, capped: bool = True) -> LoadPlan:
    load = config.load
    hours = hours_per_month()
    requests = load.requests_per_month * gpu_requests_share(config)
    output_tokens = requests * load.output_tokens_per_request
    active_hours = hours * load.active_hours_per_day / 24
    average = output_tokens / (active_hours * 3600)
    peak = average * load.peak_hour_factor
    at_average, _ = place(config, average, reserved_fit, spot_fit, capped)
    at_peak, unserved = place(config, peak, reserved_fit, spot_fit, capped)
    idle, _ = place(config, 0.0, reserved_fit, spot_fit, capped)
    idle_hours = hours - active_hours
    warnings = []
    if unserved > 0:
        warnings.append(
            f"at peak the load needs {peak:,.0f} output tokens/s; serving.replicas.max and gpuPools.*.gpuLimit leave "
            f"{unserved:,.0f} tokens/s unserved (answered by OpenAI through the fallback, or queued)"
        )
    return LoadPlan(
        requests_per_month=requests,
        output_tokens_per_month=output_tokens,
        active_hours=active_hours,
        average_demand_tps=average,
        peak_demand_tps=peak,
        average=at_average,
        peak=at_peak,
        idle=idle,
        peak_unserved_tps=unserved,
        reserved_replica_hours=at_average.reserved * active_hours + idle.reserved * idle_hours,
        spot_replica_hours=at_average.spot * active_hours + idle.spot * idle_hours,
        warnings=warnings,
    )


def plan_capacity(config: StackConfig, capped: bool = True) -> CapacityPlan:
    """The whole plan for a stack; raises ConfigError naming the key when the model does not fit."""
    spec = model_spec(config)
    fits = check_fit(config, spec)
    reserved_fit = fits[serving_type(config, "reserved").name] if config.gpu_pools.reserved is not None else None
    spot_fit = fits[serving_type(config, "spot").name]
    return CapacityPlan(
        spec=spec,
        weights_gib=weights_gib(config, spec),
        fits=fits,
        reserved_fit=reserved_fit,
        spot_fit=spot_fit,
        load=plan_load(config, reserved_fit, spot_fit, capped),
    )
