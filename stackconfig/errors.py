"""The one error type bad input raises, and how it is shown to a person."""


class ConfigError(Exception):
    """Bad stack config: names the key, what is wrong and what is allowed.

    Every entry point (the Pulumi program, the offline plan) prints ``str(err)``
    as one line and exits with status 2; nothing is created.
    """

    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"config error: {key}: {problem}")


class CrossSectionError(ValueError):
    """A rule that spans config sections, raised from a model validator: it names its own key."""

    def __init__(self, key: str, problem: str):
        self.key = key
        super().__init__(problem)
