"""Pulumi entry point: validate this stack's config, then build the platform from it."""

import sys

import pulumi

from program import build_platform
from stackconfig import ConfigError, from_pulumi_runtime
from stackconfig.placeholders import deploy_gate
from tools.cost.model import check as check_cost

try:
    config = from_pulumi_runtime(pulumi.get_stack())
    check_cost(config)  # a model that does not fit the pools' GPUs, or a missing price, stops here too
except ConfigError as err:
    # One line, no traceback; exit status 2 before any resource is registered.
    print(err, file=sys.stderr)
    sys.exit(2)

shipped_examples = deploy_gate(config)
if shipped_examples and not pulumi.runtime.is_dry_run():
    print(shipped_examples, file=sys.stderr)
    sys.exit(2)
if shipped_examples:
    pulumi.log.warn(shipped_examples)  # a preview may look; `pulumi up` stops

for name, value in build_platform(config).items():
    pulumi.export(name, value)
