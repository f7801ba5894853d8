"""make diff on the shipped stacks, planned for real (about ten seconds: `make test-promote`)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_shadow_to_rollout_prints_the_promotion_and_nothing_that_only_names_the_other_stack(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.diff", "--from", "shadow", "--to", "rollout", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"\* self-hosted share\s+0 %\s+25 %", out), out
    assert re.search(r"\* fallback to OpenAI\s+off\s+on: 1 retry", out), out
    assert re.search(r"\* gpu-reserved: capacity types\s+-\s+reserved", out), out
    assert re.search(r"\* gpu-spot: GPU cap\s+4\s+6", out), out
    assert re.search(r"\+ kubernetes:karpenter.sh/v1:NodePool\s+gpu-reserved", out), out
    assert re.search(r"~ kubernetes:core/v1:ConfigMap\s+llm-router-config: data.config.yaml", out), out
    # Planned under one name: the cluster, its log group and the stack tag are the same on both sides.
    assert "pulumi:pulumi:Stack" not in out and "clusterName" not in out and "llm-platform/stack" not in out
    gpu = re.search(r"GPU nodes\s+([\d,.]+)\s+([\d,.]+)\s+\+([\d,.]+)", out)
    assert gpu and float(gpu.group(3).replace(",", "")) > 0, out
    assert (tmp_path / "shadow" / "shadow" / "resources.json").is_file()
    assert (tmp_path / "rollout-as-shadow" / "shadow" / "cost.json").is_file()
