"""`--user` / `exec -u` read as runc reads them, to tell whether they resolve to root.

runc (libcontainer/user) splits `USER[:GROUP]` on `:` and reads each side with Go's
`strconv.Atoi`, so `0`, `00`, `+0` and `-0` are all uid 0; a name is looked up in the
image's /etc/passwd or /etc/group, where `root` is uid/gid 0.
"""

from __future__ import annotations

# Names that are uid/gid 0 in every image that has them.
_ROOT_NAMES = frozenset({"root"})
# The kernel's ids are 32-bit: a number that wraps to 0 is refused too, whatever runc would say.
_ID_SPACE = 2**32


def numeric_id(part: str) -> int | None:
    """The number a user or group field stands for, read at least as loosely as runc does.

    Python's int() accepts everything Go's Atoi does (signs, leading zeros) and a little more
    (spaces, `_`, non-ASCII digits): looser is safer here, since it only means more refusals.
    """
    try:
        return int(part.strip())
    except ValueError:
        return None


def is_root_id(part: str) -> bool:
    """Whether one field (a user or a group) names id 0: `0`, `00`, `+0`, `-0`, `root`..."""
    number = numeric_id(part)
    if number is not None:
        return number % _ID_SPACE == 0
    return part.strip().lower() in _ROOT_NAMES


def resolves_to_root(user: str) -> bool:
    """Whether `USER[:GROUP]` runs as uid 0 or gid 0.

    An empty user keeps the image's user; an empty group keeps that user's group. Every field is
    checked (runc ignores fields after the second, but refusing `1000:1000:0` costs nothing).
    """
    return any(field.strip() and is_root_id(field) for field in user.split(":"))
