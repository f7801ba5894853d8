"""Secret canary: every secret gets a unique value; none may appear in plaintext in any plan file or output."""

import json
import uuid

import pytest
import yaml

from tests.conftest import raw_config
from tools import plan

SECRET_KEYS = ("llm-platform:openaiApiKey", "llm-platform:routerMasterKey", "llm-platform:hfToken", "llm-platform:grafanaAdminPassword")


@pytest.mark.parametrize("stack", ["dev", "shadow", "rollout", "prod"])
def test_no_canary_in_plan_files_or_outputs(stack, tmp_path, capsys):
    config = raw_config(stack)
    canaries = {}
    for key in SECRET_KEYS:
        # Given as plain values, as the engine passes them after decryption: still secrets.
        canaries[key] = f"canary-{uuid.uuid4().hex}"
        config[key] = canaries[key]
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "plan"
    assert plan.main(["--stack", stack, "--stacks-dir", str(tmp_path), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        text = path.read_text()
        for key, canary in canaries.items():
            assert canary not in text, f"{key} leaked into {path.relative_to(out)}"
    for canary in canaries.values():
        assert canary not in printed.out and canary not in printed.err
    assert "[secret]" in (out / stack / "resources.json").read_text()
    assert json.loads((out / stack / "outputs.json").read_text())["kubeconfig"] == "[secret]"


def test_missing_required_secret_is_a_config_error(tmp_path, capsys):
    config = raw_config("dev")
    del config["llm-platform:openaiApiKey"]
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    assert plan.main(["--stack", "dev", "--stacks-dir", str(tmp_path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "config error: llm-platform:openaiApiKey: is required but missing"
