"""Exceptions meant for people: the CLI prints their message as one line and exits.

Library code raises these for bad user input (missing files, bad config values,
corrupt data); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UnpairedError(Exception):
    """Base class for user-facing errors. ``exit_code`` is what the CLI exits with."""

    exit_code: int = 2


class ConfigError(UnpairedError):
    """A bad recipe name, config key or config value."""


class DataError(UnpairedError):
    """A dataset is missing, unreadable or malformed."""


class DataNotFoundError(DataError):
    """A dataset's files are not where they were looked for."""


class NonFiniteError(UnpairedError):
    """A loss or a gradient became NaN or infinite during training."""

    exit_code = 3

    def __init__(self, what: str, step: int) -> None:
        self.what = what
        self.step = step
        super().__init__(
            f"non-finite value in {what} at step {step}; "
            "training stopped, the last good checkpoint is kept"
        )
