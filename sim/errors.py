"""The errors a planner can cause, as opposed to the machine or a bug.

Everything the library raises for bad input derives from :class:`InputError`, carries
one line per problem, and names the scenario field or file it is about. The CLI turns
any of them into exit code 2 and prints the lines; it alone speaks of command-line flags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path


class InputError(Exception):
    """Input that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(InputError):
    """A scenario that cannot be run (schema, map, or references between them)."""


class ResultsError(InputError):
    """A folder given to ``report`` or ``replay`` that is not, or no longer, a readable
    results folder of this tool."""


class OutputError(InputError):
    """A results location the tool may not write: a file, or a folder it does not own.

    ``forceable`` says whether asking explicitly (``force``) would let the write go on.
    """

    def __init__(self, problems: Sequence[str], forceable: bool = False) -> None:
        super().__init__(problems)
        self.forceable = forceable


class ResourceError(InputError):
    """A scenario whose world or run would not fit in the memory allowed for it."""


def require_file(path: Path, where: str, what: str = "file") -> Path:
    """``path`` if it is a readable file; else a :class:`ScenarioError` naming ``where``.

    Every error the file system can give (missing, a folder, no permission, a name
    too long) becomes the planner's problem with a one-line reason, not a traceback.
    """
    shown = str(path) if len(str(path)) <= 200 else str(path)[:200] + "…"
    try:
        if not path.is_file():
            raise ScenarioError([f"{where}: no such {what}: {shown}"])
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ScenarioError(
            [f"{where}: cannot read the {what} {shown} ({exc.strerror or exc})"]
        ) from None
    return path


class ArgumentError(InputError):
    """A bad argument of a library call (``replications``, ``target``, ``scheduler``, ...).

    Each problem names the arguments it is about by their Python names, listed in
    ``arguments``; the CLI, which alone knows them as flags, spells them as flags.
    """

    def __init__(self, problems: Sequence[str], arguments: Sequence[str]) -> None:
        super().__init__(problems)
        self.arguments = tuple(arguments)

    def spelled(self, spell: Mapping[str, str]) -> list[str]:
        """The problems with each argument name ``a`` written ``spell[a]`` (names not in
        ``spell`` as they are); a name counts as a whole word, not inside a dotted path."""
        names = [a for a in self.arguments if a in spell]
        if not names:
            return list(self.problems)
        alternatives = "|".join(re.escape(a) for a in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w.-])({alternatives})(?![\w.])")
        return [pattern.sub(lambda m: spell[m.group(1)], p) for p in self.problems]

    def renamed(self, names: Mapping[str, str]) -> ArgumentError:
        """The same problems, with some arguments called by a caller's own names (say a
        CLI whose option for ``target`` is ``shift_target``)."""
        return ArgumentError(self.spelled(names), [names.get(a, a) for a in self.arguments])


class ClusterError(InputError):
    """A Dask cluster that cannot be reached or has no workers."""
