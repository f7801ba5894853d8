"""Containers with a read-only root filesystem still get a writable temporary directory (pip, Python's tempfile
and the CUDA/Triton caches all need one), on an emptyDir rather than the node's image layers."""

from __future__ import annotations

import posixpath

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def _within(path: str, mount: str) -> bool:
    return posixpath.commonpath([posixpath.normpath(path), posixpath.normpath(mount)]) == posixpath.normpath(mount)


def read_only_containers(plan):
    for resource in plan.recording.resources:
        body = resource.inputs
        if not resource.type.startswith("kubernetes:") or body.get("kind") not in WORKLOAD_KINDS:
            continue
        pod = body["spec"]["template"]["spec"]
        scratch = {volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume}
        for container in pod.get("initContainers", []) + pod["containers"]:
            if (container.get("securityContext") or {}).get("readOnlyRootFilesystem"):
                yield f"{body['kind']}/{body['metadata']['name']}:{container['name']}", container, scratch


def test_every_read_only_container_has_a_writable_temporary_directory(any_plan):
    checked = 0
    for where, container, scratch in read_only_containers(any_plan):
        env = {item["name"]: item.get("value") for item in container.get("env", [])}
        temporary = env.get("TMPDIR") or "/tmp"
        writable = [m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in scratch and not m.get("readOnly")]
        assert any(_within(temporary, mount) for mount in writable), f"{where}: {temporary} is not on a writable emptyDir"
        checked += 1
    assert checked >= 2  # vLLM and the weights Job at least


def test_a_read_only_container_without_one_is_caught(any_plan):
    where, container, scratch = next(read_only_containers(any_plan))
    bare = {**container, "env": [], "volumeMounts": []}
    writable = [m["mountPath"] for m in bare["volumeMounts"] if m["name"] in scratch]
    assert not any(_within("/tmp", mount) for mount in writable)
