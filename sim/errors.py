"""The errors a planner can cause, as opposed to the machine or a bug.

Everything the library raises for bad input derives from :class:`InputError`, carries
one line per problem, and names the scenario field or file it is about. The CLI turns
any of them into exit code 2 and prints the lines; it alone speaks of command-line flags.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(Exception):
    """Input that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(InputError):
    """A scenario that cannot be run (schema, map, or references between them)."""


class OutputError(InputError):
    """A results location the tool may not write: a file, or a folder it does not own.

    ``forceable`` says whether asking explicitly (``force``) would let the write go on.
    """

    def __init__(self, problems: Sequence[str], forceable: bool = False) -> None:
        super().__init__(problems)
        self.forceable = forceable


class ResourceError(InputError):
    """A scenario whose world or run would not fit in the memory allowed for it."""
