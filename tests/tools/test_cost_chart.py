"""`make cost-chart`: the lines it draws follow the cost model, and it writes a PNG."""

from __future__ import annotations

import pytest

from stackconfig import from_stack_file
from tests.conftest import ROOT
from tools.cost import chart

VOLUMES = [10 ** (4 + i / 2) for i in range(11)]  # 10k to 1B, a coarse grid keeps the test fast


@pytest.fixture(scope="module")
def prod_series():
    return chart.series(from_stack_file("prod", ROOT), VOLUMES)


def test_lines_cross_at_the_break_even(prod_series):
    s = prod_series
    assert s.break_even is not None
    below = [v for v in s.volumes if v < s.break_even]
    above = [v for v in s.volumes if v >= s.break_even]
    phase = dict(zip(s.volumes, s.phase_usd))
    openai = dict(zip(s.volumes, s.openai_usd))
    assert all(phase[v] > openai[v] for v in below) and all(phase[v] <= openai[v] for v in above)
    # OpenAI alone is proportional to the volume; the stack's own load is marked on its line.
    assert openai[VOLUMES[-1]] / openai[VOLUMES[0]] == pytest.approx(VOLUMES[-1] / VOLUMES[0])
    assert s.configured[0] == 1_000_000 and "95 % self-hosted" in s.label


def test_writes_a_png(prod_series, tmp_path):
    out = chart.draw([prod_series], tmp_path / "chart.png", "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000


def test_counts_read_as_people_write_them():
    assert [chart._count(v) for v in (950, 50_000, 1_000_000, 7_244_220, 37_377_551, 1e9)] == \
        ["950", "50k", "1M", "7.2M", "37M", "1B"]
