"""`python -m tools.eval`: the golden set, exit status 0/1/2, the report, thresholds from the stack config.

Runs against fake OpenAI-compatible backends on 127.0.0.1 (tools.fake_openai), stopped by process id.
"""

from __future__ import annotations

import collections
import io
import json
import socket
from pathlib import Path

import pytest
import yaml

from stackconfig.model import AcceptanceConfig
from tests.conftest import raw_config, set_dotted
from tools import local_router
from tools.eval import golden, report
from tools.eval.__main__ import api_key, main
from tools.eval.local import main as eval_local
from tools.eval.run import Answer, ProgressBar

UNRELATED = "Quarterly revenue rose eleven percent; cloud demand drove growth."


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    logs = tmp_path_factory.mktemp("eval-fakes")
    started = {}
    try:
        for name, options in {"baseline": {}, "echo": {}, "unrelated": {"answer": UNRELATED},
                              "failing": {"fail_rate": 1.0}}.items():
            started[name] = local_router.start_fake(name, logs, latency=0.01, ttft=0.0, **options)
        yield {name: f"{process.url}/v1" for name, process in started.items()}
    finally:
        for process in started.values():
            local_router.stop(process)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    """Two prompts of each task from the shipped set: the same code paths, a few seconds."""
    by_task = collections.defaultdict(list)
    for line in golden.SHIPPED.read_text().splitlines():
        item = json.loads(line)
        by_task[item["task"]].append(line)
    path = tmp_path_factory.mktemp("set") / "small.jsonl"
    path.write_text("\n".join(line for lines in by_task.values() for line in lines[:2]) + "\n")
    return path


@pytest.fixture(scope="module")
def steady_stacks(tmp_path_factory) -> Path:
    """dev's thresholds without the latency ratio: two 10 ms fakes on a busy machine make it noise."""
    directory = tmp_path_factory.mktemp("stacks")
    config = raw_config("dev")
    set_dotted(config, "llm-platform:traffic.shadow.acceptance.maxP95LatencyRatio", 100)
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return directory


def run(fakes, small_set, tmp_path, candidate: str, *extra: str, stacks: Path | None = None) -> tuple[int, dict]:
    out = tmp_path / "report"
    status = main(["--baseline", fakes["baseline"], "--candidate", fakes[candidate], "--set", str(small_set),
                   "--out", str(out), *(["--stacks-dir", str(stacks)] if stacks else []), *extra])
    data = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return status, data


def test_the_shipped_set_has_50_to_100_varied_prompts():
    prompts = golden.load()
    assert 50 <= len(prompts) <= 100
    tasks = collections.Counter(p.task for p in prompts)
    assert set(tasks) == set(golden.TASKS) and min(tasks.values()) >= 5
    assert all(p.json_expected for p in prompts if p.task == "json")
    assert all(p.params.get("temperature") == 0 for p in prompts), "deterministic sampling where the API allows"


def test_an_agreeing_candidate_passes_with_a_full_report(fakes, small_set, tmp_path, capsys, steady_stacks):
    status, data = run(fakes, small_set, tmp_path, "echo", stacks=steady_stacks)
    assert status == 0 and data["passed"] is True
    assert [row["id"] for row in data["prompts"]] == [p.id for p in golden.load(small_set)]
    assert all(row["agreement"]["score"] == 1.0 for row in data["prompts"])
    assert data["summary"]["latency_seconds"]["candidate"]["p95"] > 0
    assert data["summary"]["tokens_per_second_median"]["candidate"] > 0
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "Verdict: **PASS**" in markdown and "| json-01 | json | 1.00 | json |" in markdown
    assert capsys.readouterr().out.strip().endswith("report.json")


def test_an_unrelated_candidate_fails(fakes, small_set, tmp_path):
    status, data = run(fakes, small_set, tmp_path, "unrelated")
    assert status == 1
    (agreement,) = [c for c in data["checks"] if c["name"] == "mean agreement"]
    assert agreement["value"] < 0.2 and agreement["passed"] is False


def test_a_failing_candidate_fails(fakes, small_set, tmp_path):
    status, data = run(fakes, small_set, tmp_path, "failing")
    assert status == 1
    (failures,) = [c for c in data["checks"] if c["name"] == "candidate failures (%)"]
    assert failures["value"] == 100.0


def test_thresholds_come_from_the_stack_config(fakes, small_set, tmp_path):
    config = raw_config("dev")
    set_dotted(config, "llm-platform:traffic.shadow.acceptance.minMeanAgreement", 0.01)
    set_dotted(config, "llm-platform:traffic.shadow.acceptance.maxP95LatencyRatio", 100)  # not what this test is about
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    status, data = run(fakes, small_set, tmp_path, "unrelated", "--stacks-dir", str(tmp_path))
    (agreement,) = [c for c in data["checks"] if c["name"] == "mean agreement"]
    assert agreement["threshold"] == 0.01 and agreement["passed"] is True
    assert status == 0


def test_each_check_counts_only_what_it_measures():
    prompts = [golden.Prompt("s", "short", [{"role": "user", "content": "q"}], {}),
               golden.Prompt("r", "refusal", [{"role": "user", "content": "q"}], {}),
               golden.Prompt("j", "json", [{"role": "user", "content": "q"}], {"response_format": {"type": "json_object"}}),
               golden.Prompt("n", "reasoning", [{"role": "user", "content": "q"}], {})]
    answers = [(Answer("Paris", 1.0, 1), Answer("paris", 1.5, 1)),
               (Answer("I'm sorry, but I can't help with that.", 1.0, 9), Answer("Sure! Step one...", 1.0, 3)),
               (Answer('{"a": 1}', 1.0, 5), Answer('{"a": 1', 1.0, 5)),
               (Answer("12 + 30 = 42\n42", 1.0, 8), Answer("Adding them gives\n42", 3.0, 5))]
    data = report.score(prompts, answers, AcceptanceConfig())
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["exact match of short answers (%)"]["value"] == 100.0, "short answers and the reasoning's last line"
    assert checks["candidate JSON valid (%)"]["value"] == 0.0 and not checks["candidate JSON valid (%)"]["passed"]
    assert checks["candidate refuses what the baseline refuses (%)"]["value"] == 0.0
    assert checks["candidate p95 latency / baseline p95"]["value"] == 3.0
    assert data["passed"] is False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case, args, message", [
    ("unreachable candidate", ["--candidate", "http://127.0.0.1:{port}/v1"], "cannot be reached"),
    ("not a URL", ["--candidate", "localhost:8000"], "is not a URL"),
    ("unknown stack", ["--stack", "staging"], "unknown stack 'staging'"),
    ("concurrency out of range", ["--concurrency", "0"], "--concurrency 0 is out of range"),
    ("missing set file", ["--set", "/nonexistent/set.jsonl"], "cannot be read"),
    ("unknown argument", ["--basline", "x"], "unrecognized arguments"),
])
def test_bad_input_or_unreachable_endpoints_exit_2_with_one_line(fakes, tmp_path, capsys, case, args, message):
    argv = ["--baseline", fakes["baseline"], "--candidate", fakes["echo"], "--out", str(tmp_path / "r")]
    argv += [a.format(port=free_port()) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("line, message", [
    ("{not json", "small.jsonl:2: not valid JSON"),
    ('{"id": "x", "task": "poetry", "messages": [{"role": "user", "content": "hi"}]}', "task 'poetry' is not known"),
    ('{"id": "short-01", "task": "short", "messages": [{"role": "user", "content": "hi"}]}', "id 'short-01' is used twice"),
    ('{"id": "y", "task": "short", "messages": []}', "messages must be a non-empty list"),
    ('{"id": "z", "task": "short", "messages": [{"role": "user", "content": "hi"}], "maxTokens": 5}', "unknown key 'maxTokens'"),
])
def test_a_bad_set_file_names_the_line(tmp_path, line, message):
    path = tmp_path / "small.jsonl"
    path.write_text(golden.SHIPPED.read_text().splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(golden.SetError, match=message):
        golden.load(path)


def test_keys_come_from_the_environment_most_specific_first(monkeypatch):
    for name in ("EVAL_BASELINE_API_KEY", "EVAL_CANDIDATE_API_KEY", "EVAL_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert api_key("candidate") is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert (api_key("baseline"), api_key("candidate")) == ("sk-openai", None), "the OpenAI key never goes to the candidate"
    monkeypatch.setenv("EVAL_API_KEY", "sk-eval")
    monkeypatch.setenv("EVAL_BASELINE_API_KEY", "sk-baseline")
    assert (api_key("baseline"), api_key("candidate")) == ("sk-baseline", "sk-eval")


def test_the_progress_bar_reports_each_tenth_off_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar(20, stream)
    for _ in range(20):
        bar.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1] == f"[{'#' * 30}]   20/20"


def test_make_eval_local_passes_and_fails_as_told(tmp_path, small_set, steady_stacks):
    """What `make eval-local` runs: two fakes it starts and stops itself, the shipped set by default."""
    assert eval_local(["--latency", "0.01", "--", "--out", str(tmp_path / "agree"), "--stacks-dir", str(steady_stacks)]) == 0
    assert len(json.loads((tmp_path / "agree" / "report.json").read_text())["prompts"]) == len(golden.load())
    assert eval_local(["--candidate-answer", UNRELATED, "--latency", "0.01", "--", "--set", str(small_set),
                       "--out", str(tmp_path / "not")]) == 1


def test_an_unwritable_report_directory_is_bad_input(fakes, small_set, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["--baseline", fakes["baseline"], "--candidate", fakes["echo"], "--set", str(small_set),
                 "--out", str(tmp_path / "file" / "report")]) == 2
    assert "cannot be created" in capsys.readouterr().err
