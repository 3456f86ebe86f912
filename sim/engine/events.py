"""The engine's scheduled events: a callback and a value on SimPy's clock.

Everything the engine schedules (an instruction, a clocked stage, a unit back at its
post, a shift change) is one :class:`Call`: no process, no condition, just "at this
minute, call this with that". About half a million are scheduled per two simulated
months of Jinshui, so they are kept as light as SimPy allows.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import NORMAL

__all__ = ["NORMAL", "Call"]


class Call(simpy.Event):
    """An event triggered from the start that calls one callback, with ``value``.

    Scheduled with ``env.schedule(Call(env, callback, value), NORMAL, delay)`` it is a
    ``env.timeout(delay, value)`` with ``callback`` appended: the same queue entry, so
    events at one minute still run in the order they were scheduled; it only skips
    what a general timeout does on top (a delay check, a call).
    """

    def __init__(
        self, env: simpy.Environment, callback: Callable[[simpy.Event], None], value: object
    ) -> None:
        # Event.__init__ inlined and the event triggered at once, as Timeout does
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
