"""Pins stay consistent with each other and with docs/versions.md; `make versions` never fails offline."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT
from tools import versions
from workloads.edge import gateway_api


def test_every_pin_in_the_code_is_documented_with_the_same_version():
    pins, notes = versions.code_pins(), versions.notes()["components"]
    assert set(pins) == set(notes)
    mismatched = {name: (pins[name], notes[name]["pinned"]) for name in pins if pins[name] != notes[name]["pinned"]}
    assert not mismatched, f"tools/versions.yaml names other versions than the code: {mismatched}"


def test_versions_doc_is_current():
    assert (ROOT / "docs" / "versions.md").read_text() == versions.render(), "run python -m tools.versions --write"


def test_gateway_api_crds_are_the_ones_nginx_gateway_fabric_supports():
    assert versions.notes()["components"]["nginx-gateway-fabric"]["supports_gateway_api"] == gateway_api.GATEWAY_API_VERSION


def test_the_weights_job_installs_the_boto3_the_project_pins():
    job = dict(line.split(" ")[0].split("==") for line in
               (ROOT / "workloads/serving/sync_weights_requirements.txt").read_text().splitlines() if "==" in line)
    assert job["boto3"] == versions.python_pins()["boto3"][0]


def test_no_compromised_litellm_anywhere():
    compromised = {"1.82.7", "1.82.8", "1.107.0"}
    assert versions.python_pins()["litellm"][0] not in compromised
    assert versions.code_pins()["litellm"].lstrip("v") not in compromised
    assert versions.code_pins()["litellm"] not in ("latest", "main-latest", "main-stable")


def test_offline_it_says_so_and_exits_0(monkeypatch, capsys):
    def no_network(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, stdout="", stderr="ERROR: Could not find a version")

    monkeypatch.setattr(versions.subprocess, "run", no_network)
    assert versions.main([]) == 0
    printed = capsys.readouterr().out
    assert "| KEDA chart and operator | 2.20.2 |" in printed
    assert "package index unreachable: nothing checked" in printed


def test_behind_packages_are_named(monkeypatch):
    def index(args, **kwargs):
        package = args[5]
        newest = {"boto3": "9.0.0", "litellm": "1.110.2"}.get(package, "0.0.1")
        return subprocess.CompletedProcess(args, 0, stdout=f"{package} ({newest})\nAvailable versions: {newest}\n", stderr="")

    monkeypatch.setattr(versions.subprocess, "run", index)
    report = {line.split()[0]: line for line in versions.index_report()}
    assert report["boto3"].endswith("behind")
    assert report["litellm"].endswith("behind (kept: see litellm above)")
    assert report["pytest"].endswith("current")
