"""Child processes that never outlive the process that started them.

Figures are drawn in forked children and sweeps run in worker processes; if the parent
is killed (even with ``kill -9``) they must stop too rather than run on unattended.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when ``parent`` ends (Linux); else do nothing."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
