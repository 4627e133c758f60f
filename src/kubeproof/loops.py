"""The event loops that kubeproof's own threads run (the server's, the process runtime's): their start
and their end."""

from __future__ import annotations

import asyncio


def new_server_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux and macOS): the API server spends most of each request in
    the event loop and the socket calls, and uvloop's libuv loop takes about a tenth off a GET
    (docs/benchmarks.md); the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending, let it finish, then close: tasks destroyed with a closed loop are
    reported as "Task was destroyed but it is pending!" at exit."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
