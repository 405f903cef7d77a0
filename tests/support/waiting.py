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


class _Poll:
    """One wait: asks the condition, and raises `WaitTimeout` once the deadline passes without a truthy answer."""

    def __init__(self, condition: Callable[[], T], timeout_s: float, message: str):
        self.condition, self.timeout_s = condition, timeout_s
        self.message = message or getattr(condition, "__name__", "a condition")
        self.deadline = time.monotonic() + timeout_s

    def ask(self) -> T:
        value = self.condition()
        if not value and time.monotonic() >= self.deadline:
            raise WaitTimeout(f"waited {self.timeout_s} s for {self.message}")
        return value


def wait_until(condition: Callable[[], T], timeout_s: float = 5.0, interval_s: float = 0.01,
               message: str = "") -> T:
    """Return the condition's first truthy value; raise `WaitTimeout` after `timeout_s` seconds."""
    poll = _Poll(condition, timeout_s, message)
    while not (value := poll.ask()):
        time.sleep(interval_s)
    return value


async def wait_until_async(condition: Callable[[], T], timeout_s: float = 5.0, interval_s: float = 0.005,
                           message: str = "") -> T:
    """`wait_until` inside a coroutine: pauses on the event loop between answers instead of blocking it."""
    import asyncio

    poll = _Poll(condition, timeout_s, message)
    while not (value := poll.ask()):
        await asyncio.sleep(interval_s)
    return value
