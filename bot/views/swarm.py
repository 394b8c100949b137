"""Swarm results as messages: the CLI's service, task, node and stack tables, rollouts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot import refs, units
from bot.engine.swarm_results import NodeRow, Rollout, ServiceChange, ServiceRow, StackRow, TaskRow
from bot.mrkdwn import Mrkdwn, md
from bot.views import blocks
from bot.views.format import short_id, table
from bot.views.message import Message
from bot.views.output import text_output

_MAX_ERROR = 30  # the CLI's task table cuts errors to this many characters
# docker/cli's formatter: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0): columns at least 10 wide.
_MIN_WIDTH = 10


def display_image(image: str) -> str:
    """A tagged image without its pinned digest, as `service ls` and `service ps` show it."""
    name, _, digest = image.partition("@")
    if not digest or ":" not in name.rsplit("/", 1)[-1]:
        return image
    try:
        return str(refs.parse(name))
    except refs.InvalidReference:
        return image


def replicas(row: ServiceRow) -> str:
    """The REPLICAS cell: running/desired, a job's completions, a per-node cap."""
    if row.mode.endswith("job"):
        return f"{row.running}/{row.desired} ({row.completed}/{row.desired} completed)"
    text = f"{row.running}/{row.desired}"
    return text + (f" (max {row.max_per_node} per node)" if row.max_per_node else "")


def service_table(rows: Sequence[ServiceRow]) -> str:
    body = [(short_id(r.id), r.name, r.mode, replicas(r), display_image(r.image),
             ", ".join(r.ports)) for r in rows]
    return table(("ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"), body, min_width=_MIN_WIDTH)


def services(rows: Sequence[ServiceRow], *, quiet: bool = False, host: str = "",
             what: str = "") -> Message:
    """`docker service ls` (or `stack services`)."""
    where = f" on `{host}`" if host else ""
    scope = f" in stack `{what}`" if what else ""
    if quiet:
        ids = "\n".join(r.id for r in rows)
        return text_output(md("*{} service IDs*{}", len(rows), where), ids or "(none)",
                           filename="service-ids.txt")
    if not rows:
        return Message(text="No services.", blocks=(
            blocks.section(f"No services{scope}{where}."),))
    noun = "service" if len(rows) == 1 else "services"
    up = sum(1 for r in rows if r.desired and r.running >= r.desired)
    title = md("*{} {}*{}{} ({} converged)", len(rows), noun, scope, where, up)
    return text_output(title, service_table(rows), filename="services.txt")


def task_state(row: TaskRow, now: datetime | None = None) -> str:
    """CURRENT STATE: `Running 5 seconds ago`, as the CLI prints it."""
    if row.timestamp is None:
        return row.state.capitalize()
    age = ((now or datetime.now(UTC)) - row.timestamp).total_seconds()
    return f"{row.state.capitalize()} {units.human_duration(max(0.0, age)).lower()} ago"


def task_table(rows: Sequence[TaskRow], *, no_trunc: bool = False,
               now: datetime | None = None) -> str:
    body = []
    previous = ""
    for row in rows:
        name = f" \\_ {row.name}" if row.name == previous else row.name
        previous = row.name
        error = row.error
        if not no_trunc:
            error = units.ellipsis(error, _MAX_ERROR)
        body.append((short_id(row.id, no_trunc), name,
                     row.image if no_trunc else display_image(row.image), row.node,
                     row.desired_state.capitalize(), task_state(row, now),
                     f'"{error}"' if error else "", ", ".join(row.ports)))
    return table(("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR",
                  "PORTS"), body, min_width=_MIN_WIDTH)


def tasks(rows: Sequence[TaskRow], *, what: str, quiet: bool = False,
          no_trunc: bool = False) -> Message:
    """`docker service ps` / `docker stack ps`."""
    if quiet:
        return text_output(md("*{} task IDs of {}*", len(rows), what),
                           "\n".join(r.id for r in rows) or "(none)", filename="task-ids.txt")
    if not rows:
        return Message(text=f"No tasks for {what}.",
                       blocks=(blocks.section(md("No tasks for {}.", what)),))
    running = sum(1 for r in rows if r.state == "running")
    title = md("*Tasks of {}*: {} ({} running)", what, len(rows), running)
    return text_output(title, task_table(rows, no_trunc=no_trunc), filename="tasks.txt")


def node_table(rows: Sequence[NodeRow]) -> str:
    body = [(f"{r.id} {'*' if r.self else ' '}", r.hostname, r.status, r.availability,
             r.manager_status, r.engine_version) for r in rows]
    return table(("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS",
                  "ENGINE VERSION"), body, min_width=_MIN_WIDTH)


def nodes(rows: Sequence[NodeRow], *, quiet: bool = False, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    if quiet:
        return text_output(md("*{} node IDs*{}", len(rows), where),
                           "\n".join(r.id for r in rows), filename="node-ids.txt")
    ready = sum(1 for r in rows if r.status == "Ready")
    noun = "node" if len(rows) == 1 else "nodes"
    title = md("*{} {}*{} ({} ready)", len(rows), noun, where, ready)
    return text_output(title, node_table(rows), filename="nodes.txt")


def stacks(rows: Sequence[StackRow], *, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    if not rows:
        return Message(text="No stacks.", blocks=(blocks.section(f"No stacks{where}."),))
    body = [(r.name, str(r.services)) for r in rows]
    noun = "stack" if len(rows) == 1 else "stacks"
    return text_output(md("*{} {}*{}", len(rows), noun, where),
                       table(("NAME", "SERVICES"), body, min_width=_MIN_WIDTH), filename="stacks.txt")


def inspect_json(name: str, document: dict[str, Any]) -> Message:
    """`docker service inspect` / `node inspect`: the JSON array the CLI prints."""
    text = json.dumps([document], indent=4)
    return text_output(md("*`{}`*", name), text, filename=f"{name.replace('/', '_')}.json")


# -- changes ------------------------------------------------------------------------------------

def rollout(change: ServiceChange, state: Rollout | None, *, verb: str) -> Message:
    """A rolling update, rollback or scale in place: tasks replaced N/M, then how it ended."""
    head = {"update": md("Updating `{}` to `{}`", change.name, display_image(change.image)),
            "rollback": md("Rolling `{}` back to `{}`", change.name,
                           display_image(change.image)),
            "scale": md("Scaling `{}` to {}", change.name, change.replicas)}[verb]
    lines: list[str] = [head]
    if state is None:
        lines.append("waiting for Swarm…")
    else:
        lines.append(md("tasks replaced {}/{}", state.replaced, state.total) if verb != "scale"
                     else md("tasks running {}/{}", state.replaced, state.total))
        if state.state:
            lines.append(md("Swarm: {}{}", state.state,
                            f" ({state.message})" if state.message else ""))
    parts = [blocks.section(Mrkdwn("\n").join(lines))]
    notes = []
    if change.warning:
        notes.append(md("Warning: {}", change.warning))
    if verb == "update":
        notes.append(md("update_config failure_action: {}", change.failure_action))
    if notes:
        parts.append(blocks.context(*notes))
    return Message(text=head, blocks=tuple(parts))


def rollout_end(change: ServiceChange, state: Rollout, *, verb: str) -> Message:
    """The last word of a rollout: converged, paused, rolled back, or still going at the deadline."""
    took = f" in {state.seconds:.1f} s"
    if state.ok:
        icon, what = ":white_check_mark:", md("`{}` converged{}: {}/{} tasks on `{}`.",
                                              change.name, took, state.replaced, state.total,
                                              display_image(state.image))
    elif state.rolled_back:
        icon, what = ":rewind:", md(
            "The update of `{}` failed and Swarm rolled it back{}: {}/{} tasks run `{}` again.",
            change.name, took, state.replaced, state.total, display_image(state.image))
    elif state.timed_out:
        icon, what = ":hourglass:", md(
            "`{}` has not converged after {:.0f} s ({}/{} tasks replaced); Swarm is still at "
            "it. Follow with `/docker service ps {}`.", change.name, state.seconds,
            state.replaced, state.total, change.name)
    else:
        icon, what = ":x:", md(
            "The {} of `{}` failed and Swarm paused it without rolling back{}. Fix the image, "
            "or run `/docker service rollback {}`.", verb, change.name,
            f" ({state.message})" if state.message else "", change.name)
    parts = [blocks.section(md("{} {}", icon, what))]
    if state.failed_tasks:
        parts.append(blocks.context(md("Failed tasks: {}", "; ".join(state.failed_tasks[:5]))))
    if change.warning:
        parts.append(blocks.context(md("Warning: {}", change.warning)))
    return Message(text=what, blocks=tuple(parts), ok=state.ok)


def removed(names: Sequence[str], failed: Sequence[tuple[str, str]]) -> Message:
    parts = []
    if names:
        parts.append(blocks.section(md(":white_check_mark: Removed service {}.",
                                       ", ".join(f"`{n}`" for n in names))))
    parts += [blocks.section(md(":x: `{}`: {}", name, error)) for name, error in failed]
    return Message(text="Removed " + ", ".join(names) if names else "Nothing removed",
                   blocks=tuple(parts), ok=not failed)


def rm_preview(rows: Sequence[ServiceRow], *, host: str) -> Message:
    where = f" on `{host}`" if host else ""
    lines = [md("• `{}` ({}, {} tasks running, image `{}`)", r.name, r.mode, replicas(r),
                display_image(r.image)) for r in rows]
    text = md("This will remove {} service(s){} and stop every one of their tasks:\n",
              len(rows), where) + Mrkdwn("\n").join(lines)
    return Message(text=f"Remove {len(rows)} service(s)", blocks=(
        blocks.section(text),
        blocks.context("Swarm keeps no copy: `service create` would be needed to bring it back.")))


def scale_preview(targets: Sequence[tuple[ServiceRow, int]], *, host: str) -> Message:
    where = f" on `{host}`" if host else ""
    lines = [md("• `{}`: {} -> {} replicas{}", row.name, row.desired, n,
                " (stops every task)" if n == 0 else "") for row, n in targets]
    return Message(text="Scale services", blocks=(
        blocks.section(md("This will scale{}:\n", where) + Mrkdwn("\n").join(lines)),))


def scaled(targets: Sequence[tuple[str, int]], failed: Sequence[tuple[str, str]]) -> Message:
    """`NAME scaled to N`, the CLI's line, per service."""
    parts = [blocks.section(md(":white_check_mark: `{}` scaled to {}", name, n))
             for name, n in targets]
    parts += [blocks.section(md(":x: `{}`: {}", name, error)) for name, error in failed]
    text = "; ".join(f"{name} scaled to {n}" for name, n in targets) or "Nothing scaled"
    return Message(text=text, blocks=tuple(parts), ok=not failed)


def drain_preview(node: NodeRow, running_tasks: int, *, host: str) -> Message:
    where = f" (via `{host}`)" if host else ""
    text = md("This will drain node `{}`{} ({} now): Swarm stops its {} task(s) and starts them "
              "on other nodes; with no other node able to run them they stay pending.",
              node.hostname, where, node.availability.lower(), running_tasks)
    return Message(text=f"Drain {node.hostname}", blocks=(
        blocks.section(text),
        blocks.context(md("Undo with `/docker node update --availability active {}`.",
                          node.hostname))))


def node_updated(node: NodeRow) -> Message:
    text = md(":white_check_mark: Node `{}` is now {} ({}).", node.hostname,
              node.availability.lower(), node.id)
    return Message(text=f"{node.hostname}: {node.availability.lower()}",
                   blocks=(blocks.section(text),))
