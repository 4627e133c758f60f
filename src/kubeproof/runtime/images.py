"""Which container images run as local processes, and with what command.

An image is mapped to the command that plays its ENTRYPOINT (``"fake-worker:1" -> "python -m app"``). Keys
match the image exactly, or as a glob (``"fake-worker:*"``, ``"registry.example/team/*"``); the exact key
wins over globs, and among globs the longest pattern wins. A leading ``python``/``python3`` runs the
interpreter kubeproof itself runs on, so a worker sees the same virtualenv.
"""

from __future__ import annotations

import fnmatch
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence

Command = str | Sequence[str]


def parse_mapping(spec: str) -> tuple[str, str]:
    """``IMAGE=COMMAND`` as the CLI takes it (the first ``=`` separates them)."""
    image, sep, command = spec.partition("=")
    if not sep or not image.strip() or not command.strip():
        raise ValueError(f"invalid image mapping {spec!r}: expected IMAGE=COMMAND, e.g. fake-worker:1='python -m app'")
    return image.strip(), command.strip()


class ImageMap:
    """Image name (or glob) -> entrypoint argv. Thread-safe to read; ``set`` replaces one entry."""

    def __init__(self, mapping: Mapping[str, Command] | Iterable[tuple[str, Command]] | None = None) -> None:
        self._exact: dict[str, list[str]] = {}
        self._globs: dict[str, list[str]] = {}
        items = mapping.items() if isinstance(mapping, Mapping) else (mapping or [])
        for image, command in items:
            self.set(image, command)

    def set(self, image: str, command: Command) -> None:
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        if not argv:
            raise ValueError(f"image {image!r} is mapped to an empty command")
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        target = self._globs if any(c in image for c in "*?[") else self._exact
        # A plain dict copy-and-swap keeps lookups lock-free from other threads.
        updated = dict(target)
        updated[image] = argv
        if target is self._globs:
            self._globs = updated
        else:
            self._exact = updated

    def lookup(self, image: str) -> list[str] | None:
        """The entrypoint argv for ``image``, or None when it is not mapped (the pod is simulated)."""
        found = self._exact.get(image)
        if found is not None:
            return list(found)
        best: tuple[int, list[str]] | None = None
        for pattern, argv in self._globs.items():
            if fnmatch.fnmatchcase(image, pattern) and (best is None or len(pattern) > best[0]):
                best = (len(pattern), argv)
        return list(best[1]) if best else None

    def __contains__(self, image: object) -> bool:
        return isinstance(image, str) and self.lookup(image) is not None

    def __bool__(self) -> bool:
        return bool(self._exact or self._globs)

    def as_dict(self) -> dict[str, list[str]]:
        return {**self._exact, **self._globs}
