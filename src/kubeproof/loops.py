"""The end of an event loop that a kubeproof thread owns (the server's, the process runtime's)."""

from __future__ import annotations

import asyncio


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending, let it finish, then close: tasks destroyed with a closed loop are
    reported as "Task was destroyed but it is pending!" at exit."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
