"""docker-py and requests failures, turned into sentences with the fix."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import docker.errors
import requests.exceptions

from bot.errors import DockopsError, EngineError, NoSuchContainer, NoSuchImage
from bot.redact import mask_output

P = ParamSpec("P")
T = TypeVar("T")

_RUNNING_RM = re.compile(r"cannot remove a running container ([0-9a-f]+)", re.I)
_IMAGE_IN_USE = re.compile(r"container ([0-9a-f]+) is using its referenced image ([0-9a-f]+)", re.I)
_NO_SUCH = re.compile(r"No such (container|image|object|network|volume): (\S+)", re.I)
_IMAGE_USED_BY = re.compile(r"unable to delete (\S+) \((must|cannot) be forced\) - image is being "
                            r"used by (running|stopped) container ([0-9a-f]+)", re.I)
_NOT_FOUND_EXEC = re.compile(r'exec: "([^"]+)": (executable file not found|'
                             r"no such file or directory|permission denied)", re.I)
_NETWORK_NOT_FOUND = re.compile(r"network (\S+) not found", re.I)
_NOT_RUNNING = re.compile(r"Container ([0-9a-f]{12,}) is not running", re.I)


def running_rm_message(name: str) -> str:
    """The seed's rule for `rm` of a running container, naming it."""
    return (f"Container {name} is running: stop it first (`/docker stop {name}`) "
            "or use `rm -f`.")


def explain_api_error(exc: docker.errors.APIError) -> str:
    """The daemon's message as a sentence, with the seed's rules spelled out."""
    message = (exc.explanation or str(exc)).strip()
    if isinstance(exc, docker.errors.ImageNotFound) or "pull access denied" in message:
        return f"{message.rstrip('.')}. Check the name and tag, or `pull` it from a registry first."
    if match := _RUNNING_RM.search(message):
        return running_rm_message(match.group(1)[:12])
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
    if match := _NOT_RUNNING.search(message):
        return (f"Container {match.group(1)[:12]} is not running. Start it first with "
                "`/docker start NAME`.")
    if "is not running" in message:
        return f"{message}. Start it first with `/docker start NAME`."
    if match := _IMAGE_USED_BY.search(message):
        image, _, state, container = match.groups()
        if state == "running":  # the engine refuses -f here: only removing or stopping helps
            return (f"Image {image} is in use by running container {container[:12]}: even "
                    f"`rmi -f` cannot remove it. Remove the container first (`/docker rm -f "
                    f"{container[:12]}`), or stop it (`/docker stop {container[:12]}`) and use "
                    "`rmi -f`.")
        return (f"Image {image} is in use by stopped container {container[:12]}: remove that "
                f"container first (`/docker rm {container[:12]}`), or use `rmi -f`.")
    if "image has dependent child images" in message:
        return (f"{message[0].upper()}{message[1:]}: remove the images built on it first "
                "(`/docker images -a`).")
    if "image is referenced in multiple repositories" in message:
        return (f"{message[0].upper()}{message[1:]}: remove it by name:tag (one tag at a "
                "time), or use `rmi -f`.")
    if match := _NOT_FOUND_EXEC.search(message):
        return (f"`{match.group(1)}` cannot run in the container ({match.group(2)}): check the "
                "command and that the image contains it.")
    if match := _NETWORK_NOT_FOUND.search(message):
        return (f"No such network: {match.group(1)}. Create it on the host first "
                "(`docker network create NAME`) or use an existing one.")
    if "Could not find the file" in message:
        return f"{message}. Check the path (`/docker exec NAME ls DIR`)."
    if "invalid reference format" in message:
        return f"{message[0].upper()}{message[1:]}: check the image name (repo[:tag])."
    return message[0].upper() + message[1:] if message else "The Docker Engine refused the request."


def _unreachable(engine_url: str, exc: Exception) -> EngineError:
    reason = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "not answering"
    return EngineError(
        f"The Docker Engine at {engine_url} is {reason}.",
        detail="Check that dockerd is running and reachable, then try again.",
    )


def _not_found(exc: docker.errors.APIError) -> type[EngineError] | None:
    """The typed error for a 404 docker-py raised: the one place that reads its wording."""
    if isinstance(exc, docker.errors.ImageNotFound):
        return NoSuchImage
    if isinstance(exc, docker.errors.NotFound) and (match := _NO_SUCH.search(exc.explanation or "")):
        return {"container": NoSuchContainer, "image": NoSuchImage}.get(match.group(1).lower())
    return None


def translate(engine_url: str, exc: BaseException) -> DockopsError:
    """Any failure from docker-py or requests, as the error the user should read."""
    if isinstance(exc, DockopsError):
        return exc
    # APIError is also a requests HTTPError: test it first.
    if isinstance(exc, docker.errors.APIError):
        kind = _not_found(exc) or EngineError
        return kind(explain_api_error(exc))
    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return _unreachable(engine_url, exc)
    if isinstance(exc, docker.errors.DockerException):
        text = str(exc)
        if "Connection" in text or "FileNotFoundError" in text or "Timeout" in text:
            return _unreachable(engine_url, exc)
        return EngineError(f"Docker said: {mask_output(text)}")
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
