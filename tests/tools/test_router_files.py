"""`python -m tools.router_files`: a stack's router files with one key changed, as the real-LiteLLM tests use them."""

import json

import yaml

from tools import router_files


def test_renders_what_the_plan_deploys(plans, tmp_path):
    assert router_files.main(["--stack", "shadow", "--out", str(tmp_path)]) == 0
    deployed: dict = plans["shadow"].k8s("ConfigMap", "llm-router-config")["data"]
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == deployed


def test_a_changed_key_is_validated_and_applied(tmp_path):
    assert router_files.main(["--stack", "prod", "--set", "traffic.killSwitch=true",
                              "--set", "traffic.shadow.reverseCheck.percent=2", "--out", str(tmp_path)]) == 0
    settings = json.loads((tmp_path / "llm_platform.json").read_text())
    assert settings["shadow"]["percent"] == 0 and settings["public_models"] == ["gpt-4o-mini"]
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert {m["model_info"]["backend"] for m in config["model_list"]} == {"openai"}


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert router_files.main(["--stack", "prod", "--set", "traffic.killSwitch=maybe", "--out", str(tmp_path)]) == 2
    assert router_files.main(["--stack", "prod", "--set", "killSwitch", "--out", str(tmp_path)]) == 2
    assert router_files.main(["--stack", "staging", "--out", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        "config error: llm-platform:traffic.killSwitch: 'maybe' is not a boolean; allowed: true or false",
        "config error: --set: 'killSwitch' has no '='; allowed: KEY=VALUE, e.g. traffic.killSwitch=true",
        "config error: stack: unknown stack 'staging' (no Pulumi.staging.yaml); allowed: dev, prod, rollout, shadow",
    ]
    assert not list(tmp_path.iterdir())
