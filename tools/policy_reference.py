"""Generates the policy reference (every policy, its level, what it checks, what to change) from the pack.

    python -m tools.policy_reference          # rewrite docs/policies.md
    python -m tools.policy_reference --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import StackValidationPolicy

from policies.rules import POLICIES

from .generated_doc import write_or_check

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "policies.md"
HEADER = """# Policy reference

Generated from `policies/rules/` by `python -m tools.policy_reference`; a test fails when it is stale.

The pack runs in two places with the same policy objects:

- `pulumi preview --policy-pack policies` (and `pulumi up`): the CrossGuard pack (`policies/PulumiPolicy.yaml`,
  entry point `policies/__main__.py`). It runs in the project's `.venv` and reads the stack's config the engine
  hands every policy pack, so the facts no single resource carries (the phase) come from the same validated
  config the program was built from. They reach the policies as policy config; `--policy-pack-config` can
  override a policy's level.
- `make plan STACK=<name>`: the offline plan runs every policy on the recorded resources, writes
  `build/plan/<name>/policy.json` (every violation) and prints a table; a mandatory violation makes it exit 1.

**mandatory** stops `pulumi up` (and fails the plan and the PR check); **advisory** is reported and does not stop
anything. A resource policy that does not concern a resource says it is not applicable, and the table counts
only the resources it judged ("checked"); stack policies judge the whole stack.

What each side sees differs in one place: a real preview sees the resources pulumi-eks builds inside
`eks:index:Cluster` with their inputs (for instance `aws:eks/cluster:Cluster`) and the component without inputs;
the offline plan sees the component's inputs and only the mocked outputs of its children. EKS policies read
whichever carries the settings. Values unknown during a preview (an ARN of a resource not created yet) make a
resource policy report "can't run policy during preview" instead of guessing.

| policy | level | checks | rule | what to change |
|---|---|---|---|---|
"""


def render() -> str:
    rows = []
    for policy in POLICIES:
        scope = "the stack" if isinstance(policy, StackValidationPolicy) else "each resource"
        facts = list(policy.config_schema.properties) if policy.config_schema else []
        if facts:
            scope += f" (uses {', '.join(facts)})"
        level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
        rows.append(f"| `{policy.name}` | {level} | {scope} | {policy.description} | {policy.remediation_steps} |")
    return HEADER + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(REFERENCE, render(), "python -m tools.policy_reference", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
