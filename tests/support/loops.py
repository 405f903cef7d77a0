"""Run a coroutine to completion from a test, whatever else the test session has running.

Playwright's sync API (the session-wide Chromium of tests/ui) leaves an asyncio loop marked as
running in the main thread until the session ends, and `asyncio.run` refuses to start beside it.
A fresh thread has no running loop, so the coroutine gets its own there.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Coroutine


def run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
