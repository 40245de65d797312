"""One scheduler per event loop for the clients that were not given one.

A web app that builds a client per request (a common habit) must not give each request a
discipline of its own: five requests with five schedulers would call the vendor five times at
once for one company. Clients created without ``scheduler=`` therefore share the default
scheduler of their event loop; it lives as long as the loop.
"""

from __future__ import annotations

import asyncio
import weakref

from .scheduler import Scheduler

__all__ = ["default_scheduler"]

_DEFAULTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Scheduler] = (
    weakref.WeakKeyDictionary()
)


def default_scheduler(loop: asyncio.AbstractEventLoop | None = None) -> Scheduler:
    """The scheduler shared by the clients of ``loop`` (the running loop by default)."""
    loop = loop or asyncio.get_running_loop()
    scheduler = _DEFAULTS.get(loop)
    if scheduler is None or scheduler.closed:
        scheduler = _DEFAULTS[loop] = Scheduler()
    return scheduler
