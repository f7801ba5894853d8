"""Pulumi entry point: validate this stack's config, then build the platform from it."""

import sys

import pulumi

from program import build_platform
from stackconfig import ConfigError, from_pulumi_runtime

try:
    config = from_pulumi_runtime(pulumi.get_stack())
except ConfigError as err:
    # One line, no traceback; exit status 2 before any resource is registered.
    print(err, file=sys.stderr)
    sys.exit(2)

for name, value in build_platform(config).items():
    pulumi.export(name, value)
