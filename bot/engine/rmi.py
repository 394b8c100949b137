"""What the engine does with `rmi [-f] REF`, decided before asking it (the preview's truth).

The engine's rules (daemon ImageDelete, measured on this engine, tests/test_previews_truth.py):
- a name:tag of an image with other tags: only that tag goes;
- the last tag, image used by a container: refused without -f; with -f the tag goes and the
  image is deleted when only stopped containers use it, but stays (untagged) for a running one;
- an image ID used by a running container: refused, even with -f ("cannot be forced");
- an image ID used by stopped containers, or with several tags: refused without -f; with -f
  every tag goes and the image is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.results import ImageTarget

Outcome = Literal["untag", "delete", "untag-keep", "refused"]


@dataclass(frozen=True)
class RmiPlan:
    """One `rmi` argument: what the engine will do, who uses the image, and why it refuses."""

    target: ImageTarget
    outcome: Outcome
    reason: str = ""  # for "refused": the sentence, with what to type instead

    @property
    def running(self) -> list[str]:
        return [name for name, state in self.target.used_by if state == "running"]

    @property
    def stopped(self) -> list[str]:
        return [name for name, state in self.target.used_by if state != "running"]


def _names(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _remove_first(running: list[str], stopped: list[str]) -> str:
    """The commands that free the image: `rm -f` for running containers, `rm` for the rest."""
    commands = [f"`/docker rm -f {' '.join(running)}`"] if running else []
    if stopped:
        commands.append(f"`/docker rm {' '.join(stopped)}`")
    return " and ".join(commands)


def plan(target: ImageTarget, *, force: bool) -> RmiPlan:
    """What `rmi` (with -f when `force`) of `target` will do on the engine."""
    by_id = target.typed not in target.tags and "@" not in target.typed
    users = ", ".join(f"`{name}` ({state})" for name, state in target.used_by)
    running = [name for name, state in target.used_by if state == "running"]
    stopped = [name for name, state in target.used_by if state != "running"]
    if not by_id and (target.untag_only or ("@" in target.typed and target.tags)):
        return RmiPlan(target, "untag")  # other tags (or, for a digest, any tag) keep it
    if by_id and running:
        return RmiPlan(target, "refused", (
            f"Image `{target.typed}` is used by running container {_names(running)}: the engine "
            f"refuses to delete it, even with `rmi -f`. Remove the container first "
            f"({_remove_first(running, stopped)}), or stop it (`/docker stop "
            f"{' '.join(running)}`) and then `rmi -f {target.typed}`. Nothing was removed."))
    if not by_id and target.used_by and not force:
        if running:
            fix = (f"remove {'it' if len(target.used_by) == 1 else 'them'} first "
                   f"({_remove_first(running, stopped)}), then `rmi {target.typed}`; `rmi -f` "
                   "would only untag it, as a running container keeps its image")
        else:
            fix = (f"remove {'it' if len(stopped) == 1 else 'them'} first "
                   f"({_remove_first([], stopped)}), or `rmi -f {target.typed}` to delete the "
                   f"image anyway (the container{'s stay' if len(stopped) > 1 else ' stays'}, "
                   "without its image)")
        return RmiPlan(target, "refused",
                       f"Image `{target.typed}` is in use by {users}: {fix}. Nothing was removed.")
    if not by_id and running:
        return RmiPlan(target, "untag-keep")
    if by_id and not force and (stopped or len(target.tags) > 1):
        why = (f"is used by stopped container {_names(stopped)}" if stopped
               else f"has {len(target.tags)} tags")
        return RmiPlan(target, "refused", (
            f"Image `{target.typed}` {why}: the engine deletes it by ID only with `-f` "
            f"(`rmi -f {target.typed}` deletes it and every tag), or remove "
            + ("the containers first." if stopped else "one tag at a time (`rmi NAME:TAG`).")
            + " Nothing was removed."))
    return RmiPlan(target, "delete")
