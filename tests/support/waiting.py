"""One way for a test to wait: poll a condition until it holds or a deadline passes.

Tests wait on what they are about to assert (a state, a file, a line in a log), never on a fixed
`time.sleep`, so they are as fast as the machine allows and fail with a message when it is too slow.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline."""


def wait_until(condition: Callable[[], T], timeout_s: float = 5.0, interval_s: float = 0.01,
               message: str = "") -> T:
    """Return the condition's first truthy value; raise `WaitTimeout` after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"waited {timeout_s} s for {message or getattr(condition, '__name__', 'a condition')}")
        time.sleep(interval_s)


async def wait_until_async(condition: Callable[[], T], timeout_s: float = 5.0, interval_s: float = 0.005,
                           message: str = "") -> T:
    """`wait_until` inside a coroutine: polls between turns of the event loop instead of blocking it."""
    import asyncio

    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"waited {timeout_s} s for {message or getattr(condition, '__name__', 'a condition')}")
        await asyncio.sleep(interval_s)
