"""Reading containers: ps, inspect, top. One low-level call each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.engine.client import Engine
from bot.engine.results import ContainerDetails, ContainerRow, ProcessList
from bot.engine.translate import engine_call
from bot.redact import mask_document, mask_output
from bot.timeparse import from_docker
from bot.units import Port, displayable_ports


def filters_dict(filters: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """A parsed `--filter` map (bot/commands/kinds.py) as docker-py sends it: lists, since
    docker-py would send a tuple as one value."""
    return {key: list(values) for key, values in (filters or {}).items()}


def format_ports(ports: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Ports as the CLI's PORTS column (DisplayablePorts): `0.0.0.0:3000->80/tcp`,
    `[::]:3000->80/tcp`, ranges grouped, `80/tcp` when not published."""
    text = displayable_ports(
        Port(int(p.get("PrivatePort") or 0), p.get("Type") or "tcp",
             int(p.get("PublicPort") or 0), p.get("IP") or "")
        for p in ports)
    return tuple(text.split(", ")) if text else ()


def container_row(raw: dict[str, Any], size: bool) -> ContainerRow:
    """One container of the engine's list answer as a `ps` row."""
    names = tuple(n.lstrip("/") for n in raw.get("Names") or ()) or (raw["Id"][:12],)
    # The CLI shows the first name that is not a legacy link (`other/alias`).
    name = next((n for n in names if "/" not in n), names[0])
    mounts = raw.get("Mounts") or []
    return ContainerRow(
        id=raw["Id"],
        name=name,
        image=raw.get("Image", ""),
        command=mask_output(raw.get("Command", "")),
        created=from_docker(raw.get("Created")) or datetime.fromtimestamp(0, UTC),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=format_ports(raw.get("Ports") or ()),
        labels=raw.get("Labels") or {},
        image_id=raw.get("ImageID", ""),
        names=names,
        size_rw=int(raw.get("SizeRw") or 0) if size else None,
        size_root_fs=int(raw.get("SizeRootFs") or 0) if size else None,
        mounts=tuple(m.get("Name") or m.get("Source") or "" for m in mounts),
        local_volumes=sum(1 for m in mounts if m.get("Driver") == "local"),
        networks=tuple((raw.get("NetworkSettings") or {}).get("Networks") or {}),
    )


@engine_call
def ps(engine: Engine, *, all: bool = False, filters: Mapping[str, Sequence[str]] | None = None,
       last: int | None = None, size: bool = False) -> list[ContainerRow]:
    """`docker ps`: one list call, no inspect per container (fast at 1,000 containers)."""
    raw = engine.api.containers(
        all=all or last is not None, limit=last if last is not None else -1,
        filters=filters_dict(filters) or None, size=size,
    )
    return [container_row(item, size) for item in raw]


@engine_call
def inspect_raw(engine: Engine, container: str) -> dict[str, Any]:
    """The engine's inspect document, secrets masked (every Env list, secret labels, pairs).

    Masked where it enters: the summary, `--format` and `--raw` all read this copy.
    """
    return mask_document(engine.api.inspect_container(container))


@engine_call
def inspect(engine: Engine, container: str) -> ContainerDetails:
    """`docker inspect` of a container, summarised."""
    raw = inspect_raw(engine, container)
    state = raw.get("State") or {}
    config = raw.get("Config") or {}
    host = raw.get("HostConfig") or {}
    policy = host.get("RestartPolicy") or {}
    ports = []
    for private, bindings in ((raw.get("NetworkSettings") or {}).get("Ports") or {}).items():
        for binding in bindings or [None]:
            if binding:
                ports.append(f"{binding.get('HostIp') or '0.0.0.0'}:{binding['HostPort']}->{private}")
            else:
                ports.append(private)
    mounts = tuple(
        f"{m.get('Name') or m.get('Source')} -> {m.get('Destination')} ({m.get('Type')}"
        f"{', ro' if not m.get('RW', True) else ''})"
        for m in raw.get("Mounts") or ()
    )
    networks = (raw.get("NetworkSettings") or {}).get("Networks") or {}
    command = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    return ContainerDetails(
        id=raw["Id"],
        name=raw.get("Name", "").lstrip("/"),
        image=config.get("Image", ""),
        image_id=raw.get("Image", ""),
        command=" ".join(command),
        created=from_docker(raw.get("Created")) or datetime.fromtimestamp(0, UTC),
        started=from_docker(state.get("StartedAt")),
        finished=from_docker(state.get("FinishedAt")),
        state=state.get("Status", ""),
        exit_code=int(state.get("ExitCode") or 0),
        restart_count=int(raw.get("RestartCount") or 0),
        restart_policy=policy.get("Name") or "no",
        health=(state.get("Health") or {}).get("Status", ""),
        ports=tuple(ports),
        mounts=mounts,
        networks=tuple(f"{name} ({net.get('IPAddress') or 'no IP'})"
                       for name, net in networks.items()),
        labels=config.get("Labels") or {},
        env=tuple(config.get("Env") or ()),
        raw=raw,
    )


@engine_call
def top(engine: Engine, container: str, ps_options: Sequence[str] = ()) -> ProcessList:
    """`docker top`: the engine runs ps for the container's processes (default `-ef`)."""
    raw = engine.api.top(container, ps_args=" ".join(ps_options) or None)
    # A process's arguments are output like any other: `--password x` must not show.
    rows = tuple(tuple(mask_output(str(cell)) for cell in process)
                 for process in raw.get("Processes") or ())
    return ProcessList(container, tuple(raw.get("Titles") or ()), rows)
