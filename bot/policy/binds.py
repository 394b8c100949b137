"""Which host paths may be bind-mounted: under a `[run] bind_mounts` root, and through no symlink.

The engine resolves a bind source again every time the container starts. A symbolic link
anywhere on the path (or one swapped in later by a container that can write the parent)
would then mount whatever it points to, so a source is accepted only when every component,
walked from `/` with lstat, is a real directory or file that exists now. `start` and
`restart` re-check the sources of an existing container with the same rule.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Sequence

NOT_ABSOLUTE = ("only absolute host paths can be bind-mounted, and only under the allowed "
                "directories")
OUTSIDE_ROOTS = "bind mounts of host paths are limited to the directories listed in bind_mounts"


def _components(path: str) -> list[str]:
    """`/a/b/../c` -> [`/a`, `/a/b`, `/a/b/..`, `/a/b/../c`]: each prefix the kernel walks."""
    prefixes: list[str] = []
    current = ""
    for part in path.split("/"):
        if part:
            current = f"{current}/{part}"
            prefixes.append(current)
    return prefixes


def _walk_problem(path: str) -> str | None:
    """Why walking `path` from / could end elsewhere later (a symlink, a missing part), or None."""
    for prefix in _components(path):
        try:
            info = os.lstat(prefix)
        except FileNotFoundError:
            return (f"`{prefix}` does not exist on the host (dockops does not let the engine "
                    "create bind sources)")
        except OSError as exc:
            return f"`{prefix}` cannot be checked on the host ({exc.strerror or exc})"
        if stat.S_ISLNK(info.st_mode):
            return (f"`{prefix}` is a symbolic link, which could point anywhere on the host "
                    "when the container starts")
    return None


def inside(path: str, roots: Iterable[str]) -> bool:
    """Whether a normalised path is one of the roots or under one."""
    return any(path == root or path.startswith(root.rstrip("/") + "/")
               for root in (posixpath.normpath(r) for r in roots))


def bind_problem(source: str, roots: Sequence[str]) -> str | None:
    """Why `source` may not be bind-mounted under `roots` (a clause for a sentence), or None.

    Checked on the bot's own filesystem: right for the local engine (dockops on the host, or
    in a container that sees the roots at the same paths).
    """
    if not source.startswith("/"):
        return NOT_ABSOLUTE
    normal = posixpath.normpath(source)
    if not inside(normal, roots):
        return OUTSIDE_ROOTS
    # The raw path too: `/root/link/..` is `/root` to normpath but not to the kernel.
    problem = _walk_problem(source) or _walk_problem(normal)
    if problem:
        return problem
    if os.path.realpath(normal) != normal:  # belt and braces: nothing above should let this by
        return "it does not resolve to itself on the host"
    return None
