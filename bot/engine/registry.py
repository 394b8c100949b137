"""Registries: tag, push, pull, login and forgetting credentials, through docker-py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import docker.errors

from bot import refs
from bot.engine.client import Engine
from bot.engine.results import LayerProgress, LoginResult, PullResult, PushResult
from bot.engine.translate import engine_call
from bot.errors import EngineError, UsageError


@engine_call
def tag(engine: Engine, source: str, target: str) -> None:
    """`docker tag SOURCE TARGET`."""
    repository, name = refs.split(target)
    engine.api.tag(source, repository, name)


class _Layers:
    """Per-layer status from a push/pull stream, summed up for one progress line."""

    finished = frozenset({"Pushed", "Layer already exists", "Mounted from", "Pull complete",
                          "Already exists"})

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.status: dict[str, str] = {}
        self.bytes: dict[str, tuple[int, int]] = {}
        self.last = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        status, layer = chunk.get("status", ""), chunk.get("id", "")
        if layer and status and not status.startswith("Pulling from"):
            self.status[layer] = status
            detail = chunk.get("progressDetail") or {}
            if detail.get("total"):
                self.bytes[layer] = (int(detail.get("current") or 0), int(detail["total"]))
        if status:
            self.last = f"{layer}: {status}" if layer else status

    def progress(self) -> LayerProgress:
        done = sum(1 for s in self.status.values() if s.split(" from ")[0] in self.finished)
        current = sum(min(c, t) for c, t in self.bytes.values())
        total = sum(t for _, t in self.bytes.values())
        return LayerProgress(self.reference, len(self.status), done, current, total, self.last)


def _stream_error(chunk: Mapping[str, Any]) -> str:
    """The error a push/pull stream reports inside a chunk (docker-py does not raise it)."""
    if "error" not in chunk and "errorDetail" not in chunk:
        return ""
    return (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or "unknown error"


@engine_call
def push(engine: Engine, reference: str, auth_config: dict[str, Any] | None,
         on_progress: Callable[[LayerProgress], None] = lambda _: None) -> PushResult:
    """`docker push NAME:TAG`; a failure inside the stream raises EngineError."""
    started = time.monotonic()
    ref = refs.parse(reference)
    if not ref.tag:
        # docker-py pushes every tag of the repository when given none.
        raise UsageError(f"`push {reference}` names a digest; push names a tag.",
                         detail="Push REPOSITORY:TAG (the tag defaults to latest).")
    repository, name = ref.repository, ref.tag
    shown = f"{repository}:{name}"
    layers = _Layers(shown)
    digest, size = "", 0
    # tag=None would push every tag of the repository: always name one.
    stream: Iterable[dict] = engine.api.push(repository, tag=name, stream=True, decode=True,
                                             auth_config=auth_config)
    for chunk in stream:
        if error := _stream_error(chunk):
            raise _registry_failure(error, shown, "push")
        aux = chunk.get("aux") or {}
        if aux.get("Digest"):
            digest, size = aux["Digest"], int(aux.get("Size") or 0)
        layers.feed(chunk)
        on_progress(layers.progress())
    if not digest:
        raise EngineError(f"The push of {shown} ended without a digest from the registry.",
                          detail="Run it again; if it repeats, check the registry's logs.")
    return PushResult(shown, digest, size, len(layers.status), time.monotonic() - started)


def _local_image(engine: Engine, reference: str) -> tuple[str, str]:
    """(image ID, repo digest for the reference's repository) of a local image; empty when
    absent."""
    try:
        raw = engine.api.inspect_image(reference)
    except docker.errors.ImageNotFound:
        return "", ""
    return raw.get("Id", ""), refs.repo_digest(raw.get("RepoDigests") or (), reference)


@engine_call
def pull(engine: Engine, reference: str, auth_config: dict[str, Any] | None, *,
         platform: str | None = None,
         on_progress: Callable[[LayerProgress], None] = lambda _: None) -> PullResult:
    """`docker pull NAME[:TAG|@DIGEST]`: whether it changed anything, and the digest before and
    after. The one pull: the pull command, the update job and `recreate --pull` use it."""
    started = time.monotonic()
    shown = refs.normalize(reference)
    repository, name = refs.split(shown)
    id_before, digest_before = _local_image(engine, shown)
    layers = _Layers(shown)
    status, digest = "", ""
    try:
        stream: Iterable[dict] = engine.api.pull(repository, tag=name, stream=True, decode=True,
                                                 auth_config=auth_config, platform=platform)
        for chunk in stream:
            if error := _stream_error(chunk):
                raise _registry_failure(error, shown, "pull")
            text = chunk.get("status", "")
            if text.startswith("Status: "):
                status = text.removeprefix("Status: ")
            elif text.startswith("Digest: "):
                digest = text.removeprefix("Digest: ")
            layers.feed(chunk)
            on_progress(layers.progress())
    except docker.errors.APIError as exc:
        # Unlike push, pull reports most registry failures as the HTTP answer itself.
        raise _registry_failure((exc.explanation or str(exc)).strip(), shown, "pull") from exc
    id_after, digest_after = _local_image(engine, shown)
    return PullResult(shown, updated=id_after != id_before, id_before=id_before,
                      id_after=id_after, digest_before=digest_before,
                      digest_after=digest_after or digest, status=status,
                      seconds=time.monotonic() - started)


def _registry_failure(error: str, reference: str, action: str) -> EngineError:
    """A push/pull failure as one sentence naming the image, with what to do about it."""
    return EngineError(f"The {action} of {reference} failed: {error.rstrip('.')}.",
                       detail=registry_fix(error, reference))


def registry_fix(error: str, reference: str) -> str:
    """What to do about a registry failure."""
    lowered = error.lower()
    registry = refs.registry_of(reference)
    if any(word in lowered for word in ("no basic auth credentials", "unauthorized",
                                        "authentication required", "denied")):
        return (f"{registry} wants credentials, or refused these: set [registries.\"{registry}\"] "
                "username and password_env (or password_file) in the dockops config, then check "
                f"them with `/docker login {registry}`.")
    if any(word in lowered for word in ("connection refused", "no such host", "timeout",
                                        "i/o timeout", "no route to host")):
        return (f"The registry {registry} is not answering: check that it is running and "
                "reachable from the Docker Engine.")
    if "does not exist locally" in lowered:
        return f"Build or tag it first (`/docker tag SOURCE {reference}`); `/docker images` lists them."
    if "not found" in lowered or "manifest unknown" in lowered:
        return f"Check the repository and tag: {registry} has no such image."
    if "no matching manifest" in lowered or "platform" in lowered:
        return "The image is not published for that platform: drop `--platform` or pick another."
    return "Check the image name and the registry, then try again."


@engine_call
def login(engine: Engine, registry: str, auth_config: dict[str, Any]) -> LoginResult:
    """Check credentials against the registry (the engine's /auth), never a cached answer."""
    try:
        if "identitytoken" in auth_config:
            # docker-py's login() cannot send an identity token: post /auth as it would.
            api: Any = engine.api  # private helpers docker-py's stubs do not declare
            answer = api._result(api._post_json(api._url("/auth"), data=auth_config), json=True)
        else:
            answer = engine.api.login(auth_config["username"], auth_config["password"],
                                      email=auth_config.get("email"),
                                      registry=auth_config["serveraddress"], reauth=True)
    except docker.errors.APIError as exc:
        reason = (exc.explanation or str(exc)).strip()
        if _rejected(reason):
            return LoginResult(registry, False, reason)
        raise
    return LoginResult(registry, True, answer.get("Status") or "Login Succeeded")


def _rejected(reason: str) -> bool:
    lowered = reason.lower()
    return any(word in lowered for word in ("401", "unauthorized", "incorrect username",
                                             "authentication required", "denied"))


@engine_call
def forget(engine: Engine, registry: str) -> bool:
    """Drop the credentials docker-py holds in memory for a registry; True if it held some."""
    held = getattr(engine.api, "_auth_configs", None)  # docker-py's in-memory credentials
    if not held:
        return False
    auths = held.get("auths") or {}
    # Keys are as written in config.json: "https://index.docker.io/v1/", "", host[:port].
    keys = [key for key in auths if refs.normalize_registry(key) == registry]
    for key in keys:
        auths.pop(key, None)
    return bool(keys)
