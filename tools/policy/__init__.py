"""The policy pack in the offline plan: the same policy objects, fed from the recording."""

from .report import build, summary
from .runner import Outcome, Violation, evaluate, run_validation

__all__ = ["Outcome", "Violation", "build", "evaluate", "run_validation", "summary"]
