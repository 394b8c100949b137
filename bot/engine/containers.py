"""Reading containers: ps, logs, inspect. One low-level call each, never a log read whole."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.engine.client import Engine
from bot.engine.results import ContainerDetails, ContainerRow, LogText, ProcessList
from bot.engine.translate import engine_call
from bot.redact import mask_document, mask_output
from bot.timeparse import from_docker

MAX_LOG_BYTES = 8 * 1024 * 1024  # what `--tail all` reads at most before saying "truncated"


def filters_dict(filters: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """A parsed `--filter` map (bot/commands/kinds.py) as docker-py sends it: lists, since
    docker-py would send a tuple as one value."""
    return {key: list(values) for key, values in (filters or {}).items()}


def format_ports(ports: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Ports as the CLI prints them: `0.0.0.0:3000->80/tcp`, or `80/tcp` when not published."""
    shown = []
    for port in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""))):
        private = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
        if port.get("PublicPort"):
            ip = port.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip and ip != "::" else ("::" if ip == "::" else ip)
            shown.append(f"{host}:{port['PublicPort']}->{private}")
        else:
            shown.append(private)
    return tuple(dict.fromkeys(shown))


def _row(raw: dict[str, Any], size: bool) -> ContainerRow:
    names = raw.get("Names") or [raw["Id"][:12]]
    size_text = ""
    if size:
        size_text = f"{raw.get('SizeRw', 0)} (virtual {raw.get('SizeRootFs', 0)})"
    return ContainerRow(
        id=raw["Id"],
        name=names[0].lstrip("/"),
        image=raw.get("Image", ""),
        command=mask_output(raw.get("Command", "")),
        created=from_docker(raw.get("Created")) or datetime.fromtimestamp(0, UTC),
        state=raw.get("State", ""),
        status=raw.get("Status", ""),
        ports=format_ports(raw.get("Ports") or ()),
        labels=raw.get("Labels") or {},
        size=size_text,
    )


@engine_call
def ps(engine: Engine, *, all: bool = False, filters: Mapping[str, Sequence[str]] | None = None,
       last: int | None = None, size: bool = False) -> list[ContainerRow]:
    """`docker ps`: one list call, no inspect per container (fast at 1,000 containers)."""
    raw = engine.api.containers(
        all=all or last is not None, limit=last if last is not None else -1,
        filters=filters_dict(filters) or None, size=size,
    )
    return [_row(item, size) for item in raw]


@engine_call
def logs(engine: Engine, container: str, *, tail: int | None = 100, since: datetime | None = None,
         until: datetime | None = None, timestamps: bool = False) -> LogText:
    """The end of a container's log (stdout and stderr), never more than MAX_LOG_BYTES."""
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": timestamps,
                              "tail": "all" if tail is None else tail}
    if since:
        kwargs["since"] = since
    if until:
        kwargs["until"] = until
    # stream=True alone means follow=True in docker-py: a bounded read must say follow=False.
    stream = engine.api.logs(container, stream=True, follow=False, **kwargs)
    chunks: list[bytes] = []
    total = 0
    truncated = False
    try:
        for chunk in stream:
            chunks.append(chunk)
            total += len(chunk)
            if total >= MAX_LOG_BYTES:
                truncated = True
                break
    finally:
        stream.close()
    # Masked here, the one way out of the engine, so no view can forget to.
    text = mask_output(b"".join(chunks).decode("utf-8", errors="replace"))
    return LogText(container, text, text.count("\n"), truncated)


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
