"""Typed, validated stack config for llm-platform."""

from .errors import ConfigError
from .loader import from_pulumi_runtime, from_stack_file, known_stacks, parse
from .model import StackConfig

__all__ = ["ConfigError", "StackConfig", "from_pulumi_runtime", "from_stack_file", "known_stacks", "parse"]
