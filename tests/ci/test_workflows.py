"""The GitHub workflows, offline: the GitHub workflow schema (check-jsonschema's vendored copy), actions pinned
by commit SHA with their release noted, minimal permissions, one Pulumi operation per stack at a time, and the
deploy order by phase."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackconfig import known_stacks
from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*(-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")
PULUMI_PIN = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)


def load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub means the string.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def schema_check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True, text=True, timeout=60,
    )


def steps(document: dict):
    for job_name, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def test_there_are_pull_request_and_deploy_workflows():
    assert {p.name for p in WORKFLOWS} == {"pull-request.yml", "deploy.yml", "pulumi-up.yml"}


def test_every_workflow_matches_the_github_workflow_schema():
    result = schema_check(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text())
    broken["jobs"]["test"]["runs-on"] = {"labels": 3}
    broken["jobs"]["test"]["timeout"] = 10  # not a job key (timeout-minutes is)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    assert schema_check(path).returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_release(path):
    uses_lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    for line in uses_lines:
        if "./.github/workflows/" in line:
            continue  # a reusable workflow of this repository, pinned by the checkout itself
        assert PINNED.match(line), f"not pinned by a 40-hex SHA with a '# vX.Y.Z' comment: {line.strip()}"
    # The same action is pinned to one SHA everywhere.
    shas: dict[str, set[str]] = {}
    for other in WORKFLOWS:
        for line in other.read_text().splitlines():
            if match := PINNED.match(line):
                shas.setdefault(match["action"], set()).add(match["sha"])
    assert all(len(found) == 1 for found in shas.values()), shas


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_minimal(path):
    document = load(path)
    assert document.get("permissions") == {}, "grant nothing at the top; each job asks for what it needs"
    allowed_writes = {"id-token", "pull-requests"}
    for name, job in document["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"job {name} must list its permissions"
        assert permissions.get("contents") == "read", name
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= allowed_writes, f"job {name} writes {writes}"
        uses_pulumi = any("pulumi/actions@" in str(step.get("uses", "")) for step in job.get("steps", []))
        calls_deploy = "pulumi-up.yml" in str(job.get("uses", ""))
        if "id-token" in writes:
            assert uses_pulumi or calls_deploy, f"job {name} asks for an OIDC token it does not use"
        if "pull-requests" in writes:
            assert any(step.get("with", {}).get("comment-on-pr") for step in job.get("steps", [])), name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_pulumi_runs_one_operation_per_stack_with_the_pinned_cli_and_the_policy_pack(path):
    for name, job, step in steps(load(path)):
        if "pulumi/actions@" not in step.get("uses", ""):
            continue
        concurrency = job.get("concurrency") or {}
        assert concurrency.get("cancel-in-progress") is False, name
        # Updates queue per stack; previews per stack and pull request, never in the updates' group (a run queued
        # in a group cancels the one pending there: a preview must never cancel a deploy).
        group = concurrency.get("group", "")
        if step["with"]["command"] == "up":
            assert group == "pulumi-up-${{ inputs.stack }}", name
        else:
            assert group == "pulumi-preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}", name
        settings = step["with"]
        assert settings["pulumi-version"] == PULUMI_PIN
        assert settings["policyPacks"] == "policies"
        assert "${{ secrets.PULUMI_ACCESS_TOKEN }}" == step["env"]["PULUMI_ACCESS_TOKEN"]
        assert settings.get("comment-on-summary") is True  # the job summary


def aws_credentials(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if "aws-actions/configure-aws-credentials@" in s.get("uses", "")]
    return step["with"]


def test_pull_requests_test_plan_lint_and_preview_every_stack():
    document = load(ROOT / ".github/workflows/pull-request.yml")
    jobs = document["jobs"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    assert any("actionlint@v" in step.get("run", "") for step in jobs["actionlint"]["steps"])
    for job in ("plan", "preview"):
        assert sorted(jobs[job]["strategy"]["matrix"]["stack"]) == known_stacks(ROOT)
    assert any("make plan" in step.get("run", "") for step in jobs["plan"]["steps"])
    (upload,) = [s for s in jobs["plan"]["steps"] if "actions/upload-artifact@" in s.get("uses", "")]
    assert upload["with"]["path"] == "build/plan/${{ matrix.stack }}" and upload["if"] == "always()"
    (preview,) = [s for s in jobs["preview"]["steps"] if "pulumi/actions@" in s.get("uses", "")]
    assert preview["with"]["command"] == "preview" and preview["with"]["comment-on-pr"] is True
    assert aws_credentials(jobs["preview"])["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


def test_merges_deploy_every_stack_in_phase_order_through_its_environment():
    deploy = load(ROOT / ".github/workflows/deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    order = ["dev", "shadow", "rollout", "prod"]
    assert sorted(order) == known_stacks(ROOT)
    for previous, stack in zip([None, *order], order):
        job = deploy["jobs"][stack]
        assert job["uses"] == "./.github/workflows/pulumi-up.yml" and job["with"] == {"stack": stack}
        assert job.get("needs") == previous
    (up,) = load(ROOT / ".github/workflows/pulumi-up.yml")["jobs"].values()
    assert up["environment"] == "${{ inputs.stack }}"  # rollout and prod environments require approval
    (command,) = [s["with"]["command"] for s in up["steps"] if "pulumi/actions@" in s.get("uses", "")]
    assert command == "up"
    assert aws_credentials(up)["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
