"""`make cost-chart`: cost per month against requests per month, each phase against OpenAI alone.

    python -m tools.cost.chart [--out build/cost-chart.png] [--stacks dev,rollout,prod]

Each phase's line is what it costs at that volume (AWS plus the OpenAI share it leaves), with replicas and GPU limits
grown to the load; the OpenAI line is everything sent to OpenAI. Break-even points are marked, and so is the volume
each stack is configured for. Nothing here calls AWS.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from stackconfig import ConfigError, StackConfig, from_stack_file, known_stacks

from .model import at_volume, break_even_requests

VOLUMES = [10 ** (4 + i / 12) for i in range(12 * 5 + 1)]  # 10,000 to 1 billion requests a month
COLORS = {"dev": "#1b9e77", "shadow": "#7570b3", "rollout": "#d95f02", "prod": "#e7298a"}


@dataclass(frozen=True)
class Series:
    stack: str
    label: str
    volumes: list[float]
    phase_usd: list[float]
    openai_usd: list[float]
    openai_label: str
    break_even: Optional[float]
    configured: tuple[float, float]  # (requests, phase USD) at the stack's own load


def series(config: StackConfig, volumes: list[float] = VOLUMES) -> Series:
    estimates = [at_volume(config, v) for v in volumes]
    own = at_volume(config, config.load.requests_per_month)
    share = config.traffic.effective_self_hosted_percent
    label = f"{config.stack} ({config.phase}, {share} % self-hosted)"
    models = ", ".join(m.name for m in config.traffic.openai_models)
    return Series(
        stack=config.stack,
        label=label,
        volumes=volumes,
        phase_usd=[e.phase_monthly_usd for e in estimates],
        openai_usd=[e.all_openai_monthly_usd for e in estimates],
        openai_label=f"OpenAI only ({models}, {config.load.input_tokens_per_request} in / "
                     f"{config.load.output_tokens_per_request} out tokens)",
        break_even=break_even_requests(config),
        configured=(float(config.load.requests_per_month), own.phase_monthly_usd),
    )


def draw(all_series: list[Series], out: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, axes = plt.subplots(figsize=(11, 6.5), dpi=120)
    drawn_openai: set[str] = set()
    for s in all_series:
        color = COLORS.get(s.stack, None)
        axes.step(s.volumes, s.phase_usd, where="post", color=color, linewidth=2, label=s.label)
        if s.openai_label not in drawn_openai:
            drawn_openai.add(s.openai_label)
            axes.plot(s.volumes, s.openai_usd, color="black", linestyle="--", linewidth=1.5, label=s.openai_label)
        axes.plot(*s.configured, marker="o", markersize=7, color=color, markeredgecolor="white")
        if s.break_even and s.break_even <= s.volumes[-1]:
            cost = s.break_even * s.openai_usd[-1] / s.volumes[-1]  # the OpenAI line is proportional to volume
            axes.plot(s.break_even, cost, marker="X", markersize=11, color=color, markeredgecolor="black", zorder=5)
            axes.annotate(f"{s.stack} breaks even at\n{_count(s.break_even)} requests/month", (s.break_even, cost),
                          textcoords="offset points", xytext=(14, -34), fontsize=9, color=color, zorder=6,
                          bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(all_series[0].volumes[0], all_series[0].volumes[-1])
    # Below the cheapest phase the OpenAI line alone would run on for decades of the axis: start near the phases.
    axes.set_ylim(bottom=0.4 * min(min(s.phase_usd) for s in all_series))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _count(x)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"${y:,.0f}"))
    axes.set_xlabel("requests per month")
    axes.set_ylabel("cost per month (USD)")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.4)
    axes.grid(True, which="minor", alpha=0.12)
    handles, labels = axes.get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="o", color="grey", linestyle="none"))
    labels.append("the stack's configured load")
    handles.append(plt.Line2D([], [], marker="X", color="grey", markeredgecolor="black", linestyle="none", markersize=9))
    labels.append("break-even: the phase costs less than OpenAI alone")
    axes.legend(handles, labels, loc="upper left", fontsize=9, framealpha=0.95)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


def _phase_order(stack: str) -> tuple[int, str]:
    order = list(COLORS)  # dev, shadow, rollout, prod: the migration's order
    return (order.index(stack) if stack in order else len(order), stack)


def _count(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            number = value / size
            return f"{number:.1f}{suffix}".replace(".0", "") if number < 10 else f"{number:.0f}{suffix}"
    return f"{value:.0f}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost.chart", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/cost-chart.png"))
    parser.add_argument("--stacks", default="", help="comma-separated stacks; default every Pulumi.<stack>.yaml")
    parser.add_argument("--stacks-dir", type=Path)
    args = parser.parse_args(argv)
    names = [s for s in args.stacks.split(",") if s] or sorted(known_stacks(args.stacks_dir), key=_phase_order)
    try:
        configs = [from_stack_file(name, args.stacks_dir) for name in names]
        all_series = [series(config) for config in configs]
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    models = sorted({c.serving.model.id for c in configs})
    regions = sorted({c.region for c in configs})
    title = f"Self-hosted phases against OpenAI: {', '.join(models)} in {', '.join(regions)}"
    print(f"wrote {draw(all_series, args.out, title)}")
    for s in all_series:
        verdict = f"breaks even at {_count(s.break_even)} requests/month" if s.break_even else "never breaks even"
        print(f"    {s.label}: ${s.configured[1]:,.0f}/month at its {_count(s.configured[0])} requests; {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
