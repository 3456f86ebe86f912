"""The one error of reading a case log: the planner's input, exit code 2."""

from __future__ import annotations

from sim.errors import InputError


class LogError(InputError):
    """A case log that cannot be used, one line per problem."""
