"""Every object the offline plan writes, checked the way a cluster and Helm would check it (docs/validation.md).

- Built-in kinds: the strict OpenAPI schemas of the stack's Kubernetes version (``cluster.version``), as packaged
  by kubernetes-validate (``v<version>.0-local-strict``): an unknown field, a wrong type or a missing required
  field is an error, as with server-side field validation ``Strict``.
- Custom resources: our own strict schemas of the CRDs at the pinned versions (``tests/data/crd-schemas``),
  written from the upstream CRD each file cites. CEL rules (``x-kubernetes-validations``) are not evaluated.
- Helm values: our own strict values contracts of the pinned charts (``tests/data/helm-values``), because Helm
  ignores a values key it does not know. The charts' templates themselves are not rendered.
- checkov's kubernetes checks over the four stacks at once, with every skip explained in
  ``tests/data/checkov-skips.yaml``.

Validators are built once per schema and Kubernetes version; the plans are the session's cached recordings.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import importlib.resources
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from stackconfig import from_stack_file
from stackconfig.versions import SUPPORTED_CLUSTER_VERSIONS
from tests.conftest import ROOT, STACKS, planned
from tools.artifacts import HELM_RELEASE, helm_release, is_kubernetes_object, manifest
from tools.versions import code_pins

DATA = Path(__file__).parent / "data"
CRD_SCHEMAS = DATA / "crd-schemas"
VALUES_CONTRACTS = DATA / "helm-values"
CHECKOV_SKIPS = DATA / "checkov-skips.yaml"
CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
K8S_SCHEMAS = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
DEFINITIONS = "_definitions.json"
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


# --- schemas and validators, built once -------------------------------------------------------------


def _k8s_dir(k8s_version: str):
    return K8S_SCHEMAS / f"v{k8s_version}.0-local-strict"


@functools.lru_cache(maxsize=None)
def _registry(k8s_version: str) -> Registry:
    """The version's shared definitions (ObjectMeta, PodSpec, ...), which every kind's schema refers to."""
    definitions = json.loads((_k8s_dir(k8s_version) / DEFINITIONS).read_text())
    return Resource.from_contents(definitions) @ Registry()


def _builtin_schema_file(api_version: str, kind: str) -> str:
    """kubernetes-validate's file naming: apps/v1 Deployment -> deployment-apps-v1.json, v1 Secret -> secret-v1.json.
    The schema's own apiVersion enum rejects a custom group that happens to share the first label."""
    group, _, version = api_version.rpartition("/")
    return f"{kind.lower()}-{group.split('.')[0]}-{version}.json" if group else f"{kind.lower()}-{version}.json"


@functools.lru_cache(maxsize=None)
def _builtin_validator(k8s_version: str, file_name: str) -> jsonschema.Draft202012Validator | None:
    path = _k8s_dir(k8s_version) / file_name
    if not path.is_file():
        return None
    return jsonschema.Draft202012Validator(json.loads(path.read_text()), registry=_registry(k8s_version))


@functools.lru_cache(maxsize=None)
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> our schema document for it."""
    documents = {}
    for path in sorted(CRD_SCHEMAS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        document["file"] = path.relative_to(ROOT).as_posix()
        documents[(document["apiVersion"], document["kind"])] = document
    return documents


def _crd_object_schema(document: dict[str, Any]) -> dict[str, Any]:
    """A whole object of the kind: its apiVersion and kind, ObjectMeta, and the modelled spec; nothing else."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": document["apiVersion"]},
            "kind": {"const": document["kind"]},
            "metadata": {"$ref": OBJECT_META},
            "spec": document["spec"],
        },
        "$defs": document.get("$defs", {}),
    }


@functools.lru_cache(maxsize=None)
def _crd_validator(k8s_version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    schema = _crd_object_schema(crd_schemas()[(api_version, kind)])
    return jsonschema.Draft202012Validator(schema, registry=_registry(k8s_version))


@functools.lru_cache(maxsize=None)
def values_contracts() -> dict[str, dict[str, Any]]:
    """chart name -> our values contract for it."""
    contracts = {}
    for path in sorted(VALUES_CONTRACTS.glob("*.yaml")):
        contract = yaml.safe_load(path.read_text())
        contract["file"] = path.relative_to(ROOT).as_posix()
        contracts[contract["chart"]] = contract
    return contracts


@functools.lru_cache(maxsize=None)
def _values_validator(chart: str, k8s_version: str) -> jsonschema.Draft202012Validator:
    """Kubernetes-typed values (resources, tolerations, ...) refer to the cluster version's definitions."""
    contract = values_contracts()[chart]
    schema = {**contract["values"], "$defs": contract.get("$defs", {})}
    return jsonschema.Draft202012Validator(schema, registry=_registry(k8s_version))


# --- problems, one line each -------------------------------------------------------------------------


def _dotted(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: jsonschema.ValidationError, prefix: str, unknown: str) -> Iterator[str]:
    """``prefix.path: what is wrong``; an unknown key is named, with what the schema allows in its place."""
    path = [prefix, *error.absolute_path] if prefix else list(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        for key in error.instance:
            if key not in allowed:
                yield f"{_dotted([*path, key])}: {unknown} (allowed here: {', '.join(allowed) or 'none'})"
        return
    message = error.message if len(error.message) <= 240 else error.message[:237] + "..."
    yield f"{_dotted(path) or '(top level)'}: {message}"


def _problems(validator: jsonschema.Draft202012Validator, instance: Any, where: str, prefix: str,
              unknown: str) -> list[str]:
    """One line per problem, ``where: path: what is wrong``, in path order."""
    return sorted(f"{where}: {line}" for error in validator.iter_errors(instance)
                  for line in _describe(error, prefix, unknown))


def object_name(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{obj.get('kind')} {namespace}{metadata.get('name')}"


def object_problems(obj: dict[str, Any], k8s_version: str) -> list[str]:
    """What a Kubernetes ``k8s_version`` API server (strict field validation) would reject in ``obj``."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    if (api_version, kind) in crd_schemas():
        validator = _crd_validator(k8s_version, api_version, kind)
    else:
        if not _k8s_dir(k8s_version).is_dir():
            return [f"{object_name(obj)}: kubernetes-validate has no schemas for Kubernetes {k8s_version}"]
        validator = _builtin_validator(k8s_version, _builtin_schema_file(api_version, kind))
        if validator is None:
            return [f"{object_name(obj)}: no schema for {api_version} {kind}: not a built-in kind of Kubernetes "
                    f"{k8s_version}, and no file in {CRD_SCHEMAS.relative_to(ROOT)} models it"]
    return _problems(validator, obj, object_name(obj), "", "unknown field")


def values_problems(release: dict[str, Any], k8s_version: str) -> list[str]:
    """What our contract of the release's chart rejects: unknown keys (Helm would ignore them), wrong types."""
    where = f"Helm release {release['release']} ({release['chart']} {release['version']})"
    contract = values_contracts().get(release["chart"])
    if contract is None:
        return [f"{where}: no values contract for chart {release['chart']} in {VALUES_CONTRACTS.relative_to(ROOT)}"]
    if contract["pin"]["version"] != release["version"]:
        return [f"{where}: {contract['file']} describes version {contract['pin']['version']}; read the chart's "
                f"values at {release['version']} and update the contract"]
    validator = _values_validator(release["chart"], k8s_version)
    return _problems(validator, release["values"], where, "values", "unknown key, which Helm would ignore")


# --- the four stacks' rendered objects ---------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def rendered(stack: str) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(the stack's Kubernetes version, its objects as manifests/ holds them, its Helm releases)."""
    recording = planned(stack)
    objects = [manifest(r) for r in recording.resources if is_kubernetes_object(r)]
    releases = [helm_release(r) for r in recording.resources if r.type == HELM_RELEASE]
    return from_stack_file(stack, ROOT).cluster.version, objects, releases


def _fail_on(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def stack_problems(stack: str, k8s_version: str) -> list[str]:
    _, objects, _ = rendered(stack)
    return [f"{stack}: {problem}" for obj in objects for problem in object_problems(obj, k8s_version)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stacks_kubernetes_version(stack):
    k8s_version, objects, _ = rendered(stack)
    assert objects, f"{stack} renders no Kubernetes object"
    _fail_on(stack_problems(stack, k8s_version))


@pytest.mark.parametrize("stack", STACKS)
def test_every_helm_release_keeps_to_its_charts_values(stack):
    k8s_version, _, releases = rendered(stack)
    assert releases, f"{stack} installs no Helm release"
    _fail_on([f"{stack}: {problem}" for release in releases for problem in values_problems(release, k8s_version)])


@pytest.mark.parametrize("k8s_version", SUPPORTED_CLUSTER_VERSIONS)
def test_every_object_stays_valid_on_the_other_supported_cluster_versions(k8s_version):
    """Moving a stack to another supported EKS version is a config change: its objects must be valid there too."""
    _fail_on([f"on Kubernetes {k8s_version}: {problem}" for stack in STACKS if rendered(stack)[0] != k8s_version
              for problem in stack_problems(stack, k8s_version)])


def test_every_schema_names_the_version_the_code_pins():
    pins = code_pins()
    documents = [*crd_schemas().values(), *values_contracts().values()]
    assert len(documents) == len(list(CRD_SCHEMAS.glob("*.yaml"))) + len(list(VALUES_CONTRACTS.glob("*.yaml")))
    wrong = []
    for document in documents:
        pin, source = document["pin"], document["source"]
        if pins.get(pin["component"]) != pin["version"]:
            wrong.append(f"{document['file']}: written for {pin['component']} {pin['version']}, the code pins "
                         f"{pins.get(pin['component'], 'nothing of that name')}: read the upstream files at the new "
                         "version and update the schema")
        if not all(source.get(key) for key in ("repository", "tag", "path")):
            wrong.append(f"{document['file']}: source must name the upstream repository, tag and path it was written from")
        elif pin["version"].lstrip("v") not in source["tag"]:
            wrong.append(f"{document['file']}: source tag {source['tag']} is not version {pin['version']}")
    _fail_on(wrong)


def test_every_schema_and_contract_is_in_use():
    """A kind or chart the program no longer renders takes its schema with it."""
    kinds = {(obj["apiVersion"], obj["kind"]) for stack in STACKS for obj in rendered(stack)[1]}
    charts = {release["chart"] for stack in STACKS for release in rendered(stack)[2]}
    _fail_on([f"{document['file']}: no stack renders {key[0]} {key[1]}" for key, document in crd_schemas().items()
              if key not in kinds]
             + [f"{contract['file']}: no stack installs chart {chart}" for chart, contract in values_contracts().items()
                if chart not in charts])


def test_settings_no_shipped_stack_uses_render_valid_objects_too():
    """A Bottlerocket AMI with reservations also selected by tags, and Grafana served through the edge."""
    from infra.karpenter.node_pools import GpuNodePoolsArgs, node_class_spec
    from workloads.observability.grafana import GrafanaArgs, grafana_values

    k8s_version = rendered("prod")[0]
    config = from_stack_file("prod", ROOT)
    reserved = config.gpu_pools.reserved.model_copy(update={"capacity_reservation_tags": {"team": "ml-platform"}})
    karpenter = config.karpenter.model_copy(update={"ami_alias": "bottlerocket@v1.40.0"})
    spec = node_class_spec(GpuNodePoolsArgs("llm-platform-prod", "karpenter-node", "sg-0123abcd", karpenter,
                                            config.gpu_pools.spot, reserved))
    assert {"tags": {"team": "ml-platform"}} in spec["capacityReservationSelectorTerms"]
    assert [device["deviceName"] for device in spec["blockDeviceMappings"]] == ["/dev/xvda", "/dev/xvdb"]
    node_class = {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "gpu"}, "spec": spec}
    monitoring = _release("prod", "kube-prometheus-stack")
    monitoring["values"]["grafana"] = grafana_values(
        GrafanaArgs(admin_password="unused", storage_gib=10, storage_class="gp3", loki_url="http://loki-gateway.logging",
                    public_hostname="grafana.example.com"),
        {"node.llm-platform.io/role": "system"},
    )
    assert "server" in monitoring["values"]["grafana"]["grafana.ini"]
    _fail_on(object_problems(node_class, k8s_version) + values_problems(monitoring, k8s_version))


# --- what a broken object looks like ----------------------------------------------------------------


def _object(stack: str, kind: str, name: str) -> dict[str, Any]:
    (found,) = [obj for obj in rendered(stack)[1] if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return copy.deepcopy(found)


def _release(stack: str, name: str) -> dict[str, Any]:
    (found,) = [release for release in rendered(stack)[2] if release["release"] == name]
    return copy.deepcopy(found)


def test_an_unknown_field_in_a_node_pool_is_named_with_what_is_allowed():
    k8s_version = rendered("prod")[0]
    pool = _object("prod", "NodePool", "gpu-spot")
    node = pool["spec"]["template"]["spec"]
    node["expireAfterr"] = node.pop("expireAfter")
    assert object_problems(pool, k8s_version) == [
        "NodePool gpu-spot: spec.template.spec.expireAfterr: unknown field (allowed here: expireAfter, nodeClassRef, "
        "requirements, taints, terminationGracePeriod)"
    ]
    pool = _object("prod", "NodePool", "gpu-spot")
    pool["spec"]["disruption"]["consolidationPolicy"] = "Never"
    assert object_problems(pool, k8s_version) == [
        "NodePool gpu-spot: spec.disruption.consolidationPolicy: 'Never' is not one of "
        "['WhenEmpty', 'WhenEmptyOrUnderutilized', 'Balanced']"
    ]


def test_a_misspelt_helm_values_key_is_named_with_the_release():
    k8s_version = rendered("prod")[0]
    karpenter = _release("prod", "karpenter")
    settings = karpenter["values"]["settings"]
    settings["clusterNmae"] = settings.pop("clusterName")
    assert values_problems(karpenter, k8s_version) == [
        "Helm release karpenter (karpenter 1.14.1): values.settings.clusterNmae: unknown key, which Helm would ignore "
        "(allowed here: clusterName, featureGates, interruptionQueue)"
    ]
    karpenter = _release("prod", "karpenter")
    karpenter["values"]["replicas"] = "2"
    resources = karpenter["values"]["controller"]["resources"]
    resources["limit"] = resources.pop("limits")  # Kubernetes-typed values are checked against the cluster's schema
    assert values_problems(karpenter, k8s_version) == [
        "Helm release karpenter (karpenter 1.14.1): values.controller.resources.limit: unknown key, which Helm "
        "would ignore (allowed here: claims, limits, requests)",
        "Helm release karpenter (karpenter 1.14.1): values.replicas: '2' is not of type 'integer'",
    ]


def test_a_wrong_type_or_unknown_field_in_a_built_in_object_is_named():
    k8s_version = rendered("prod")[0]
    vllm = _object("prod", "Deployment", "vllm")
    container = vllm["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "8000"
    container["resourcez"] = container.pop("resources")
    assert object_problems(vllm, k8s_version) == [
        "Deployment llm-serving/vllm: spec.template.spec.containers[0].ports[0].containerPort: "
        "'8000' is not of type 'integer'",
        "Deployment llm-serving/vllm: spec.template.spec.containers[0].resourcez: unknown field (allowed here: args, "
        "command, env, envFrom, image, imagePullPolicy, lifecycle, livenessProbe, name, ports, readinessProbe, "
        "resizePolicy, resources, restartPolicy, restartPolicyRules, securityContext, startupProbe, stdin, stdinOnce, "
        "terminationMessagePath, terminationMessagePolicy, tty, volumeDevices, volumeMounts, workingDir)",
    ]


def test_a_kind_without_a_schema_fails_rather_than_passing_unchecked():
    k8s_version = rendered("prod")[0]
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    assert object_problems(widget, k8s_version) == [
        f"Widget w: no schema for example.com/v1 Widget: not a built-in kind of Kubernetes {k8s_version}, and no file "
        "in tests/data/crd-schemas models it"
    ]
    # A custom group whose first label names a built-in one is not taken for it.
    policy = {"apiVersion": "networking.example.com/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"}, "spec": {}}
    assert object_problems(policy, k8s_version) == [
        "NetworkPolicy p: apiVersion: 'networking.example.com/v1' is not one of ['networking.k8s.io/v1']"
    ]
    assert object_problems(_object("prod", "Namespace", "llm-serving"), "1.19") == [
        "Namespace llm-serving: kubernetes-validate has no schemas for Kubernetes 1.19"
    ]


def test_a_chart_version_the_contract_was_not_written_for_fails():
    karpenter = _release("prod", "karpenter")
    karpenter["version"] = "1.15.0"
    assert values_problems(karpenter, rendered("prod")[0]) == [
        "Helm release karpenter (karpenter 1.15.0): tests/data/helm-values/karpenter.yaml describes version 1.14.1; "
        "read the chart's values at 1.15.0 and update the contract"
    ]


# --- checkov -------------------------------------------------------------------------------------------


def _checkov_skips() -> list[dict[str, Any]]:
    return yaml.safe_load(CHECKOV_SKIPS.read_text())["skips"]


def _skipped(failure: dict[str, Any], skips: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((skip for skip in skips if skip["check"] == failure["check_id"]
                 and any(fnmatch.fnmatchcase(failure["resource"], pattern) for pattern in skip["resources"])), None)


# checkov's kubernetes runner without the command line, which imports every other framework first (a third of the
# time): the same checks (checkov runs all of its own when no platform key is set), nothing fetched, no network.
CHECKOV_SCAN = """
import json, sys
from checkov.kubernetes.runner import Runner
from checkov.runner_filter import RunnerFilter
report = Runner().run(root_folder=sys.argv[1], runner_filter=RunnerFilter(framework=["kubernetes"]))
print(json.dumps({"summary": report.get_summary(), "failed_checks": [
    {"check_id": r.check_id, "check_name": r.check_name, "resource": r.resource, "file_path": r.file_path}
    for r in report.failed_checks]}))
"""


def checkov_report(folder: Path) -> dict[str, Any]:
    """checkov's kubernetes checks over every stack's objects (one JSON file each, a folder per stack), in one run.
    Nothing from the caller's environment (CKV_* variables) changes the checks."""
    assert CHECKOV_PYTHON.exists(), (
        f"{CHECKOV_PYTHON.relative_to(ROOT)} is missing: `make test` builds .venv-checkov from requirements-checkov.txt")
    for stack in STACKS:
        (folder / stack).mkdir()
        for obj in rendered(stack)[1]:
            metadata = obj["metadata"]
            name = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{obj['kind']}-{metadata.get('namespace', '')}-{metadata['name']}")
            (folder / stack / f"{name}.json").write_text(json.dumps(obj))
    run = subprocess.run([str(CHECKOV_PYTHON), "-c", CHECKOV_SCAN, str(folder)], capture_output=True, text=True,
                         timeout=300, cwd=folder, env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder)})
    assert run.returncode == 0 and run.stdout.strip(), f"checkov failed ({run.returncode}): {run.stderr[-2000:]}"
    return json.loads(run.stdout)


def test_checkov_finds_nothing_unexplained_and_every_skip_still_applies(tmp_path):
    """One test, so that one checkov run serves both checks whichever pytest worker runs it."""
    report = checkov_report(tmp_path)
    assert report["summary"]["parsing_errors"] == 0 and report["summary"]["resource_count"] > 0
    failures, skips = report["failed_checks"], _checkov_skips()
    problems = sorted({
        f"{failure['check_id']} ({failure['check_name']}): {failure['resource']} in "
        f"{failure['file_path'].split('/')[1]}: fix it in the program, or explain it in {CHECKOV_SKIPS.relative_to(ROOT)}"
        for failure in failures if _skipped(failure, skips) is None
    })
    for skip in skips:
        if not re.fullmatch(r"CKV2?_K8S_\d+", skip.get("check", "")) or not skip.get("resources"):
            problems.append(f"{skip}: name a check (CKV_K8S_<n>) and the resources it is skipped for")
        if not skip.get("reason", "").strip() or "\n" in skip["reason"].strip():
            problems.append(f"{skip.get('check')}: give a one-line reason")
        for pattern in skip.get("resources", []):
            if not any(f["check_id"] == skip["check"] and fnmatch.fnmatchcase(f["resource"], pattern) for f in failures):
                problems.append(f"{skip['check']} {pattern}: checkov no longer fails it; remove the skip")
    _fail_on(problems)
