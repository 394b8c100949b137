"""Registry credentials: from `[registries."HOST"]` in config, else docker's config.json
(`auths`, `credHelpers`, `credsStore`), handed to docker-py as an `auth_config`.

A password is never typed in Slack. It is read when needed (so a rotated file or
variable is picked up), never logged, and never part of a repr.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.auth
import docker.errors

from bot.config import RegistryConfig, Settings, env_password
from bot.errors import DockopsError
from bot.refs import DOCKER_HUB, normalize_registry, registry_of
from bot.registry.client import Login


@dataclass(frozen=True)
class Credentials:
    """A username and password for one registry, and where they came from (for messages)."""

    registry: str
    username: str
    password: str = field(repr=False)
    source: str = ""
    email: str = ""
    identity_token: bool = False  # `password` is an OAuth identity token (config.json)

    def auth_config(self) -> dict[str, Any]:
        """The `auth_config` docker-py sends as X-Registry-Auth (and the engine's /auth body)."""
        config: dict[str, Any] = {"serveraddress": server_address(self.registry)}
        if self.identity_token:
            config["identitytoken"] = self.password
        else:
            config.update(username=self.username, password=self.password)
        if self.email:
            config["email"] = self.email
        return config


def server_address(registry: str) -> str:
    """What the engine's /auth expects: Docker Hub's index URL, or the registry host."""
    return docker.auth.INDEX_URL if registry == DOCKER_HUB else registry


def configured(settings: Settings, registry: str) -> tuple[str, RegistryConfig] | None:
    """The `[registries."KEY"]` entry for a registry (keys may be URLs or Hub aliases)."""
    for key, entry in settings.registries.items():
        if normalize_registry(key) == registry:
            return key, entry
    return None


def _from_config(registry: str, key: str, entry: RegistryConfig) -> Credentials | None:
    where = f'[registries."{key}"]'
    if not entry.username:
        return None
    if entry.password_env:
        password = env_password(entry.password_env)
        if not password:
            raise DockopsError(
                f"{where} reads the password from the environment variable "
                f"{entry.password_env}, which is not set for the bot.",
                detail=f"Set {entry.password_env} in the bot's environment and restart it.")
        return Credentials(registry, entry.username, password,
                           f"{where} password_env {entry.password_env}", entry.email)
    if entry.password_file:
        try:
            password = Path(entry.password_file).read_text().strip()
        except OSError as exc:
            raise DockopsError(
                f"{where} reads the password from {entry.password_file}, which the bot cannot "
                f"read ({exc.strerror or exc}).",
                detail="Create the file (readable by the bot's user) or fix password_file.") from None
        if not password:
            raise DockopsError(f"{where}: the password file {entry.password_file} is empty.",
                               detail="Write the password (or token) into it.")
        return Credentials(registry, entry.username, password,
                           f"{where} password_file {entry.password_file}", entry.email)
    raise DockopsError(f"{where} has a username but no password source.",
                       detail="Add password_env = \"ENV_VAR\" or password_file = \"/path\".")


def _from_docker_config(registry: str) -> Credentials | None:
    """docker's config.json (DOCKER_CONFIG or ~/.docker), including credential helpers."""
    try:
        found = docker.auth.load_config().resolve_authconfig(registry)
    except docker.errors.DockerException as exc:
        raise DockopsError(f"The credential helper for {registry} failed: {exc}.",
                           detail="Check the helper named in the bot's docker config.json "
                                  "(credHelpers / credsStore).") from None
    if not found:
        return None
    source = "the docker config.json on the bot's host"
    if found.get("IdentityToken"):
        return Credentials(registry, docker.auth.TOKEN_USERNAME, found["IdentityToken"], source,
                           identity_token=True)
    username = found.get("username") or found.get("Username") or ""
    password = found.get("password") or found.get("Password") or ""
    if not username or not password:
        return None
    return Credentials(registry, username, password, source, found.get("email") or "")


def resolve(settings: Settings, registry: str) -> Credentials | None:
    """Credentials for a registry: config first, then docker's config.json; None when neither."""
    entry = configured(settings, registry)
    if entry is not None:
        credentials = _from_config(registry, *entry)
        if credentials is not None:
            return credentials
    return _from_docker_config(registry)


def require(settings: Settings, registry: str) -> Credentials:
    """Credentials for a registry, or an error saying where to put them."""
    credentials = resolve(settings, registry)
    if credentials is None:
        raise DockopsError(
            f"dockops has no credentials for {registry}.",
            detail=f"Add them to the config: [registries.\"{registry}\"] username = \"...\" and "
                   "password_env = \"ENV_VAR\" (or password_file = \"/path\"); or log in with "
                   "`docker login` on the bot's host (config.json and credential helpers are read).")
    return credentials


def auth_config(settings: Settings, reference: str) -> dict[str, Any] | None:
    """docker-py's `auth_config` for the registry of an image reference; None when dockops has
    no credentials for it (a public image, or the engine's own login)."""
    found = resolve(settings, registry_of(reference))
    return found.auth_config() if found else None


def configured_source(settings: Settings, registry: str) -> str:
    """Where credentials for a registry would come from, without reading any secret; "" if nowhere."""
    entry = configured(settings, registry)
    if entry is not None and entry[1].username:
        return f'[registries."{entry[0]}"] in the dockops config'
    docker_config = docker.auth.load_config()
    in_auths = any(normalize_registry(key) == registry for key in docker_config.auths)
    if in_auths or docker_config.get_credential_store(registry):
        return "the docker config.json on the bot's host"
    return ""


def registry_login(settings: Settings) -> Callable[[str], Login | None]:
    """What bot.registry's client asks for a registry's credentials (config, config.json and
    its credential helpers, which run as `docker-credential-NAME get`); None: anonymous."""

    def login(registry: str) -> Login | None:
        found = resolve(settings, registry)
        if found is None:
            return None
        return Login(found.username, found.password, identity_token=found.identity_token)

    return login
