"""Errors the CLI turns into a message and an exit code.

Exit codes: 1 = a check ran and failed (model does not fit), 2 = bad input,
3 = nothing fits the budgets.
"""


class AdvisorError(Exception):
    """Bad input: the message names the problem and the fix."""

    exit_code = 2


class DoesNotFit(AdvisorError):
    """A model was checked against a board and does not fit."""

    exit_code = 1


class CheckFailed(AdvisorError):
    """A check ran on something the tool produced, and it failed."""

    exit_code = 1


class NothingFits(AdvisorError):
    """No configuration satisfies the budgets."""

    exit_code = 3
