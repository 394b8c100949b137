"""Compose's labels on a recreated container, so Compose still owns it and finds it current.

Compose finds a service's containers by their labels (project, service, container-number,
oneoff), so they are kept as they were. `docker-compose up -d` (1.29) recreates a container
whose `config-hash` label differs from the service's hash, and that hash covers the image ID
(`Service.config_dict` in compose/service.py): after a new image the label must be computed
again, and only Compose can compute it (it hashes the parsed compose file), so dockops asks
`docker-compose config --hash SERVICE` with the project's own files. Compose v2 hashes the
file without the image ID and compares `com.docker.compose.image` instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot import refs
from bot.engine.client import Engine
from bot.redact import mask_text

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
ONEOFF = "com.docker.compose.oneoff"
VERSION = "com.docker.compose.version"
CONFIG_HASH = "com.docker.compose.config-hash"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
ENV_FILE = "com.docker.compose.project.environment_file"
IMAGE = "com.docker.compose.image"  # Compose v2: the image ID the container was made from

COMPOSE_TIMEOUT = 30.0
_PASSED_ENV = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "DOCKER_HOST",
                         "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_CONFIG"})
_NAME = re.compile(r"^[a-zA-Z0-9_.][a-zA-Z0-9_.-]*$")  # compose's VALID_NAME_CHARS, no leading -
_HASH_LINE = re.compile(r"^(\S+) ([0-9a-f]{64})$", re.M)


@dataclass(frozen=True)
class ComposeLabels:
    """The labels for the new container, and why Compose will not see it as current ('')."""

    labels: dict[str, str]
    note: str = ""


def is_compose(labels: dict[str, str]) -> bool:
    """Whether Compose made the container (it lists it under a project and a service)."""
    return bool(labels.get(PROJECT)) and bool(labels.get(SERVICE))


def relabel(engine: Engine, labels: dict[str, str], ref: str, new_image_id: str) -> ComposeLabels:
    """`labels` with Compose's image markers moved to `new_image_id` (running `ref`)."""
    labels = dict(labels)
    if labels.get(ONEOFF, "False") == "True":
        return ComposeLabels(labels)  # `run` containers: `up` never converges them
    if IMAGE in labels:
        labels[IMAGE] = new_image_id
    if not labels.get(VERSION, "1").startswith("1.") or CONFIG_HASH not in labels:
        return ComposeLabels(labels)
    try:
        labels[CONFIG_HASH] = _compose_hash(engine, labels, ref)
    except ComposeUnavailable as exc:
        service = labels[SERVICE]
        return ComposeLabels(labels, f"its Compose labels are kept, but {exc}, so "
                                     f"`docker-compose up -d` will recreate `{service}` once more")
    return ComposeLabels(labels)


class ComposeUnavailable(Exception):
    """Compose's hash could not be asked for; the message says why (a clause)."""


def _compose_hash(engine: Engine, labels: dict[str, str], ref: str) -> str:
    """The hash `docker-compose up` will expect of the service, once its image names `ref`."""
    service = labels[SERVICE]
    command = _compose_command(engine, labels)
    cwd, host = labels[WORKING_DIR], engine.url
    image = _service_image(_run([*command, "config"], cwd, host), service)
    if image is None:
        raise ComposeUnavailable(f"the compose file has no service `{service}` with an image")
    if _normal(image) != _normal(ref):
        raise ComposeUnavailable(f"its compose file names another image than `{ref}`")
    found = dict(_HASH_LINE.findall(_run([*command, "config", "--hash", service], cwd, host)))
    if service not in found:
        raise ComposeUnavailable("docker-compose printed no hash for it")
    return found[service]


def _normal(ref: str) -> str:
    try:
        return refs.normalize(ref)
    except refs.InvalidReference:
        return ref


def _compose_command(engine: Engine, labels: dict[str, str]) -> list[str]:
    """docker-compose with the project's name, directory, files and env file (from its labels)."""
    if not all(_NAME.match(labels[key]) for key in (PROJECT, SERVICE)):
        raise ComposeUnavailable("its project or service label is not a name Compose makes")
    binary = shutil.which("docker-compose")
    if binary is None:
        raise ComposeUnavailable("docker-compose is not installed where dockops runs")
    if engine.tls is not None or (engine.url or "").startswith("ssh://"):
        raise ComposeUnavailable(f"dockops does not run docker-compose against {engine.name}")
    working = Path(labels.get(WORKING_DIR, ""))
    if not working.is_absolute() or not working.is_dir():
        raise ComposeUnavailable(f"the project directory {str(working)!r} is not on this machine")
    command = [binary, "--project-name", labels[PROJECT], "--project-directory", str(working)]
    for name in filter(None, labels.get(CONFIG_FILES, "").split(",")):
        path = _existing(working, name)
        if path is None:
            raise ComposeUnavailable(f"the compose file {name!r} is not in {working}")
        command += ["--file", str(path)]
    if labels.get(ENV_FILE):
        path = _existing(working, labels[ENV_FILE])
        if path is None:
            raise ComposeUnavailable(f"the env file {labels[ENV_FILE]!r} is not in {working}")
        command += ["--env-file", str(path)]
    return command


def _existing(working: Path, name: str) -> Path | None:
    """A file the label names: as given (absolute or from the project directory), else by its
    base name in the project directory (compose stores the path as typed)."""
    for path in (working / name, working / Path(name).name):
        if path.is_file():
            return path
    return None


def _run(command: list[str], cwd: str, docker_host: str | None) -> str:
    """docker-compose's output, against the engine dockops uses (its URL, else DOCKER_HOST).

    Only the environment docker-compose needs: a compose file interpolates `${VAR}` from it,
    and the bot's own (its Slack tokens) must never reach one.
    """
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
    if docker_host:
        env = {k: v for k, v in env.items() if not k.startswith("DOCKER_")}
        env["DOCKER_HOST"] = docker_host
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                              timeout=COMPOSE_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ComposeUnavailable(f"docker-compose did not answer ({exc})") from exc
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = mask_text(error[-1])[:300] if error else f"exit status {done.returncode}"
        raise ComposeUnavailable(f"docker-compose said: {last}")
    return done.stdout.decode("utf-8", "replace")


def _service_image(config: str, service: str) -> str | None:
    """The `image:` of one service in `docker-compose config`'s output (PyYAML's block style:
    `services:` at column 0, each service at 2 spaces, its keys at 4)."""
    in_services = in_service = False
    for line in config.splitlines():
        if not line.startswith(" "):
            in_services = line.rstrip() == "services:"
            in_service = False
        elif in_services and line.startswith("  ") and not line.startswith("   "):
            in_service = line.strip().rstrip(":").strip("'\"") == service
        elif in_service and line.startswith("    image:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    return None
