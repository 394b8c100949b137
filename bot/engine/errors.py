"""docker-py and requests failures, turned into sentences with the fix."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import docker.errors
import requests.exceptions

from bot.errors import DockopsError, EngineError

P = ParamSpec("P")
T = TypeVar("T")

_RUNNING_RM = re.compile(r"cannot remove a running container ([0-9a-f]+)", re.I)
_IMAGE_IN_USE = re.compile(r"container ([0-9a-f]+) is using its referenced image ([0-9a-f]+)", re.I)
_NO_SUCH = re.compile(r"No such (container|image|object|network|volume): (\S+)", re.I)


def explain_api_error(exc: docker.errors.APIError) -> str:
    """The daemon's message as a sentence, with the seed's rules spelled out."""
    message = (exc.explanation or str(exc)).strip()
    if isinstance(exc, docker.errors.ImageNotFound) or "pull access denied" in message:
        return f"{message.rstrip('.')}. Check the name and tag, or `pull` it from a registry first."
    if match := _RUNNING_RM.search(message):
        return (f"Container {match.group(1)[:12]} is running: stop it first "
                "(`/docker stop NAME`) or force the removal with `rm -f`.")
    if match := _IMAGE_IN_USE.search(message):
        return (f"The image is in use by container {match.group(1)[:12]}: remove that container "
                "first, or use `rmi -f` to untag the image anyway.")
    if match := _NO_SUCH.search(message):
        what, name = match.groups()
        return f"No such {what.lower()}: {name}. `/docker ps -a` or `/docker images` lists them."
    if "port is already allocated" in message or "address already in use" in message:
        return f"{message}. Publish a different host port (`-p OTHER:PORT`)."
    if "is already in use by container" in message:
        return f"{message}. Choose another `--name`, or remove the old container."
    if "is not running" in message:
        return f"{message}. Start it first with `/docker start NAME`."
    return message[0].upper() + message[1:] if message else "The Docker Engine refused the request."


def _unreachable(engine_url: str, exc: Exception) -> EngineError:
    reason = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "not answering"
    return EngineError(
        f"The Docker Engine at {engine_url} is {reason}.",
        detail="Check that dockerd is running and reachable, then try again.",
    )


def translate(engine_url: str, exc: BaseException) -> DockopsError:
    """Any failure from docker-py or requests, as the error the user should read."""
    if isinstance(exc, DockopsError):
        return exc
    # APIError is also a requests HTTPError: test it first.
    if isinstance(exc, docker.errors.APIError):
        return EngineError(explain_api_error(exc))
    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return _unreachable(engine_url, exc)
    if isinstance(exc, docker.errors.DockerException):
        text = str(exc)
        if "Connection" in text or "FileNotFoundError" in text or "Timeout" in text:
            return _unreachable(engine_url, exc)
        return EngineError(f"Docker said: {text}")
    raise exc


def engine_call(func: Callable[P, T]) -> Callable[P, T]:
    """Run an engine function, turning docker/requests failures into EngineError.

    The first argument must be the Engine (it names the URL in the message).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except (docker.errors.DockerException, requests.exceptions.RequestException,
                ConnectionError, TimeoutError) as exc:
            url = getattr(args[0], "display_url", "the configured host") if args else "?"
            raise translate(url, exc) from exc

    return wrapper
