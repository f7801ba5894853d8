"""The policy pack's entry point: `pulumi preview --policy-pack policies` runs this file.

The engine starts it with the stack's config in the environment (as it does for every policy pack), so
the facts policies need about the stack (its phase, its maximum GPU spend) come from the same validated
config the program was built from, and reach the policies as their initial policy config.
Constructing ``PolicyPack`` starts the analyzer server: nothing imports this module.
"""

import os
import sys
from pathlib import Path

# The project root (policies, stackconfig, tools): the pack shares the project's code and virtualenv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.facts import policy_config  # noqa: E402
from policies.rules import POLICIES  # noqa: E402
from stackconfig import ConfigError, from_pulumi_runtime  # noqa: E402

# The engine names the stack in the environment; the SDK's own setting is only filled in for a program, and
# would say "stack" here.
STACK = os.environ.get("PULUMI_STACK") or pulumi.get_stack()

try:
    facts = policy_config(from_pulumi_runtime(STACK), POLICIES)
except ConfigError as err:
    print(err, file=sys.stderr)
    sys.exit(2)

PolicyPack(
    name="llm-platform",
    description="llm-platform: GPU capacity, EKS, nodes, workloads, Helm, data, money, network and creation order.",
    # Every policy sets its own level; this only applies to a policy that forgets to.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    # The level is restated beside the facts, so an entry never leaves a policy at the pack's default level.
    initial_config={
        policy.name: {"enforcementLevel": policy.enforcement_level, **facts[policy.name]}
        for policy in POLICIES
        if policy.name in facts
    },
)
