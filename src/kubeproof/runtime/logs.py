"""Container logs in the CRI format the kubelet keeps: one file per container instance, one entry a line,
``<RFC3339Nano time> <stdout|stderr> <F|P> <content>`` (``P`` marks a partial line: output without a newline
yet). Reading applies ``PodLogOptions`` as the kubelet's log reader does.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Longest piece of a line held back waiting for its newline (the CRI runtime splits at 16 KiB too).
MAX_PARTIAL = 16 * 1024


def rfc3339nano(ns: int) -> str:
    """Go's ``RFC3339Nano`` with fixed nine digits (kubelet's ``timeFormatOut`` for ``--timestamps``)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"


def parse_time(stamp: str) -> float:
    """An RFC 3339 time (``sinceTime``, or an entry's own) as seconds since the epoch."""
    m = _RFC3339.match(stamp.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    main, frac, zone = m.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    base = dt.datetime.fromisoformat(main + zone).timestamp()
    return base + (float("0." + frac) if frac else 0.0)


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$")


class LogWriter:
    """Appends entries to one container instance's log file; wakes followers after each write."""

    def __init__(self, path: Path, notify: Callable[[], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("ab")
        self._lock = threading.Lock()
        self._notify = notify
        self._partial: dict[str, bytes] = {}

    def feed(self, stream: str, data: bytes) -> None:
        """Raw output of ``stream``; complete lines are written at once, a long partial line as ``P``."""
        buffered = self._partial.get(stream, b"") + data
        lines = buffered.split(b"\n")
        rest = lines.pop()
        entries = [(line, "F") for line in lines]
        while len(rest) >= MAX_PARTIAL:
            entries.append((rest[:MAX_PARTIAL], "P"))
            rest = rest[MAX_PARTIAL:]
        self._partial[stream] = rest
        self._write(stream, entries)

    def flush_partial(self, stream: str) -> None:
        """The stream ended: its unterminated last line is an entry of its own (full, as a runtime writes it)."""
        rest = self._partial.pop(stream, b"")
        if rest:
            self._write(stream, [(rest, "F")])

    def _write(self, stream: str, entries: list[tuple[bytes, str]]) -> None:
        if not entries:
            return
        stamp = rfc3339nano(time.time_ns()).encode()
        out = b"".join(b"%s %s %s %s\n" % (stamp, stream.encode(), tag.encode(), line) for line, tag in entries)
        with self._lock:
            self._file.write(out)
            self._file.flush()
        self._notify()

    def close(self) -> None:
        for stream in list(self._partial):
            self.flush_partial(stream)
        with self._lock:
            self._file.close()


@dataclass
class LogOptions:
    """``PodLogOptions`` (already validated)."""

    timestamps: bool = False
    tail_lines: int | None = None
    since: float | None = None  # epoch seconds, from sinceSeconds or sinceTime
    limit_bytes: int | None = None


def format_entry(raw: bytes, timestamps: bool) -> tuple[float, bytes] | None:
    """One file line -> (time, output bytes); None for a line being written right now."""
    if not raw.endswith(b"\n"):
        return None
    parts = raw[:-1].split(b" ", 3)
    if len(parts) < 4:
        parts += [b""] * (4 - len(parts))
    stamp, _stream, tag, content = parts
    text = content if tag == b"P" else content + b"\n"
    when = parse_time(stamp.decode())
    if timestamps:
        # The writer stores the fixed nine-digit form kubelet prints for every entry.
        text = stamp + b" " + text
    return when, text


def read_entries(path: Path, options: LogOptions, offset: int = 0) -> tuple[list[bytes], int]:
    """Entries of ``path`` from byte ``offset`` (filtered by since/tail), and the offset after the last one."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    out: list[bytes] = []
    consumed = 0
    for raw in data.splitlines(keepends=True):
        entry = format_entry(raw, options.timestamps)
        if entry is None:
            break
        consumed += len(raw)
        when, text = entry
        if options.since is not None and when < options.since:
            continue
        out.append(text)
    if options.tail_lines is not None:
        out = out[len(out) - options.tail_lines:] if options.tail_lines else []
    return out, offset + consumed
