"""A real deployment refuses the example values the shipped stack files carry; the offline plan accepts them."""

import pytest

from stackconfig import parse
from stackconfig.placeholders import deploy_gate, find_placeholders
from tests.conftest import STACKS, raw_config, set_dotted

NS = "llm-platform"

REAL = {
    f"{NS}:cluster.publicAccessCidrs": ["198.18.10.0/24"],
    f"{NS}:cluster.adminPrincipals": ["arn:aws:iam::210987654321:role/PlatformAdmin"],
    f"{NS}:budget.notificationEmails": ["oncall@llm.acme.io"],
    f"{NS}:traffic.edge.hostname": "llm.acme.io",
    f"{NS}:traffic.edge.tls": {"issuer": "acme", "acmeEmail": "oncall@llm.acme.io", "route53HostedZoneId": "Z08123456ABCDEFXYZ"},
    f"{NS}:observability.runbookUrl": "https://git.acme.io/platform/llm-platform/blob/main/docs/runbook.md",
}


def config_with(stack: str, changes: dict):
    raw = raw_config(stack)
    for dotted, value in changes.items():
        set_dotted(raw, dotted, value)
    return parse(stack, raw)


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_is_refused_for_a_real_deploy(stack):
    message = deploy_gate(config_with(stack, {}))
    assert message.startswith("config error: replace the shipped example values before deploying for real: ")
    assert "\n" not in message
    assert f"{NS}:cluster.publicAccessCidrs[0] (203.0.113.0/24: a documentation address range)" in message
    assert f"{NS}:cluster.adminPrincipals[0] (arn:aws:iam::111122223333:role/PlatformAdmin: an example account id)" in message
    assert f"{NS}:traffic.edge.hostname" in message and f"{NS}:budget.notificationEmails[0]" in message
    assert f"{NS}:observability.runbookUrl (https://git.example.com/" in message, "pages would link to a runbook nobody has"


def test_reservation_ids_and_hosted_zone_are_named():
    found = " ".join(find_placeholders(config_with("prod", {})))
    assert "capacityReservations[0].id (cr-0a1b2c3d4e5f60718: an example id)" in found
    assert "capacityReservations[1].id" in found
    assert "tls.route53HostedZoneId (Z0123456789ABCDEFGHIJ: an example id)" in found
    assert "tls.acmeEmail" in found


def test_real_values_pass():
    changes = {**REAL, f"{NS}:gpuPools.reserved.capacityReservations": [
        {"id": "cr-0123456789abcdef0", "zoneId": "use1-az1", "instanceType": "g6e.xlarge"}]}
    assert find_placeholders(config_with("prod", changes)) == []
    assert deploy_gate(config_with("dev", REAL)) is None


def test_the_open_internet_is_not_a_documentation_range():
    config = config_with("dev", {**REAL, f"{NS}:traffic.edge.allowedCidrs": ["0.0.0.0/0"]})
    assert find_placeholders(config) == []


def test_secrets_are_never_read():
    raw = raw_config("dev")
    for key, value in REAL.items():
        set_dotted(raw, key, value)
    raw[f"{NS}:openaiApiKey"] = "sk-example.com-111122223333"
    assert find_placeholders(parse("dev", raw)) == []


def run_entry_point(monkeypatch, stack: str, preview: bool, changes: dict | None = None):
    """Run __main__.py as the Pulumi language host would, with the engine's view of the stack's config."""
    import json
    import runpy

    from tests.conftest import ROOT, engine_view
    from tools.recorder import record_program

    config = engine_view(stack)
    for key, value in (changes or {}).items():
        config[key] = value if isinstance(value, str) else json.dumps(value)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    return record_program(stack, "us-east-1", lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                          preview=preview)


def real_values(stack: str) -> dict:
    raw = raw_config(stack)
    for key, value in REAL.items():
        set_dotted(raw, key, value)
    return {key: raw[key] for key in {dotted.split(".")[0] for dotted in REAL}}


def test_pulumi_up_stops_before_creating_anything(monkeypatch, capsys):
    with pytest.raises(SystemExit) as stopped:
        run_entry_point(monkeypatch, "dev", preview=False)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("config error: replace the shipped example values"), err


def test_pulumi_preview_warns_and_builds(monkeypatch, caplog):
    recording = run_entry_point(monkeypatch, "dev", preview=True)
    assert any(r.type == "aws:ec2/vpc:Vpc" for r in recording.resources)
    warnings = [r.message for r in caplog.records if r.levelname == "WARNING"]
    assert any(m.startswith("config error: replace the shipped example values") for m in warnings), warnings


def test_pulumi_up_goes_ahead_with_real_values(monkeypatch, capsys):
    recording = run_entry_point(monkeypatch, "dev", preview=False, changes=real_values("dev"))
    assert "config error" not in capsys.readouterr().err
    assert any(r.type == "aws:ec2/vpc:Vpc" for r in recording.resources)
    assert recording.outputs["phase"] == "dev"
