from tools import config_reference


def test_reference_is_current():
    assert config_reference.main(["--check"]) == 0, "run: python -m tools.config_reference"


def test_reference_names_every_section():
    text = config_reference.render()
    for key in ("llm-platform:network.azCount", "llm-platform:gpuPools.reserved.capacityReservations[].id",
                "llm-platform:gpuPools.spot.disruptionBudgets[].nodes", "llm-platform:budget.monthlyLimitUsd"):
        assert f"`{key}`" in text
