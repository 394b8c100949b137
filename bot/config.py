"""Settings: Slack tokens and paths from the environment, everything else from one TOML file.

Every mistake becomes one line naming the key, the problem and the fix.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import DockopsError
from bot.roles import Role

DEFAULT_CONFIG = Path("config/dockops.toml")
_ID = re.compile(r"^[UWSC][A-Z0-9]{2,}$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessConfig(Section):
    """Who may do what. Without this section nobody in Slack may do anything."""

    default_role: str = "none"
    channels: list[str] = []
    console_role: str = "admin"
    roles: dict[str, list[str]] = {}

    @field_validator("default_role", "console_role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        Role.parse(value)
        return value.lower()

    @field_validator("roles")
    @classmethod
    def _role_entries(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for role, ids in value.items():
            Role.parse(role)
            for entry in ids:
                if not _ID.match(entry):
                    raise ValueError(f"{entry!r} under roles.{role} is not a Slack ID: use user "
                                     "(U.../W...), user group (S...) or channel (C...) IDs")
        return value

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.match(r"^[CGD][A-Z0-9]{2,}$", entry):
                raise ValueError(f"{entry!r} is not a channel ID (C..., G... or D...)")
        return value


class RunPolicyConfig(Section):
    """What `run` may ask of the host. Everything risky is off until allowed here."""

    allow_privileged: bool = False
    allow_cap_add: list[str] = []
    allow_devices: bool = False
    allow_host_namespaces: bool = False
    allow_security_opt: bool = False
    allow_root_user: bool = False
    bind_mounts: list[str] = []


class CopyConfig(Section):
    """Host directories `cp` may read from or write to (none by default)."""

    host_paths: list[str] = []
    max_bytes: int = 100 * 1024 * 1024


class BuildConfig(Section):
    """Build contexts by name, and roots under which a path may be used as a context."""

    contexts: dict[str, str] = {}
    roots: list[str] = []
    # A build step may print nothing for minutes (compiling): the stream waits this long.
    timeout_seconds: float = Field(1800, gt=0)

    @field_validator("contexts", "roots")
    @classmethod
    def _absolute_paths(cls, value: dict[str, str] | list[str]) -> dict[str, str] | list[str]:
        named = value.items() if isinstance(value, dict) else (("", path) for path in value)
        for name, path in named:
            if not os.path.isabs(path):
                where = f"{name} = " if name else ""
                raise ValueError(f"{where}{path!r} is not an absolute path: use a directory on the "
                                 "bot's host, e.g. \"/srv/goals\"")
        return value


class RegistryConfig(Section):
    """Credentials of one registry: the username, and where the password is read from."""

    username: str = ""
    password_env: str = ""
    password_file: str = ""
    email: str = ""

    @model_validator(mode="after")
    def _one_password_source(self) -> RegistryConfig:
        if self.password_env and self.password_file:
            raise ValueError("set password_env or password_file, not both")
        if (self.password_env or self.password_file) and not self.username:
            raise ValueError("a password needs a username: add username = \"...\"")
        return self


class HostConfig(Section):
    url: str
    timeout: float = 30.0
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    roles: dict[str, list[str]] = {}


class SlackConfig(Section):
    command: str = "/docker"
    reply: Literal["in_channel", "ephemeral"] = "in_channel"
    audit_channel: str = ""
    channel_hosts: dict[str, str] = {}


class LimitsConfig(Section):
    workers: int = Field(8, ge=1, le=64)
    attached_run_seconds: float = Field(60, gt=0)
    follow_seconds: float = Field(60, gt=0)
    follow_max_seconds: float = Field(600, gt=0)
    confirm_ttl_seconds: float = Field(600, gt=0)
    engine_timeout_seconds: float = Field(30, gt=0)
    log_tail: int = Field(100, ge=1)
    shutdown_grace_seconds: float = Field(20, ge=0)


class JobConfig(Section):
    name: str
    type: Literal["prune", "update"]
    schedule: str
    channel: str = ""
    hosts: list[str] = []
    # prune
    all: bool = False
    until: str = ""
    keep: list[str] = []
    dry_run: bool = False
    # update
    images: list[str] = []
    containers: str = ""
    action: Literal["notify", "pull", "recreate"] = "notify"
    summary: bool = False


class FileConfig(Section):
    """The TOML file, whole."""

    access: AccessConfig | None = None
    run: RunPolicyConfig = RunPolicyConfig()
    copy_: CopyConfig = Field(CopyConfig(), alias="copy")
    build: BuildConfig = BuildConfig()
    registries: dict[str, RegistryConfig] = {}
    hosts: dict[str, HostConfig] = {}
    slack: SlackConfig = SlackConfig()
    limits: LimitsConfig = LimitsConfig()
    jobs: list[JobConfig] = []


class EnvSettings(BaseSettings):
    """What comes from the environment, named as Slack's and Docker's tools name it."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    docker_host: str = ""
    dockops_config: str = ""
    dockops_data_dir: str = "./data"


class Settings:
    """Environment plus file, loaded and validated together."""

    def __init__(self, env: EnvSettings, file: FileConfig, source: Path | None) -> None:
        self.env = env
        self.file = file
        self.source = source

    @property
    def data_dir(self) -> Path:
        return Path(self.env.dockops_data_dir)

    @property
    def has_slack_tokens(self) -> bool:
        return bool(self.env.slack_bot_token)

    def __getattr__(self, name: str) -> Any:
        # settings.access, settings.limits, ...: the file's sections.
        return getattr(self.file, "copy_" if name == "copy" else name)


def config_path(env: EnvSettings) -> Path | None:
    if env.dockops_config:
        return Path(env.dockops_config)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load(env: EnvSettings | None = None) -> Settings:
    """Read the environment and the TOML file; raise DockopsError listing every mistake."""
    env = env or EnvSettings()
    path = config_path(env)
    text = ""
    if path is not None:
        if not path.exists():
            raise DockopsError(f"DOCKOPS_CONFIG points at {path}, which does not exist.",
                               detail="Create it (see config/dockops.example.toml) or unset "
                                      "DOCKOPS_CONFIG.")
        text = path.read_text()
    return Settings(env, parse_file(text, str(path or "defaults")), path)


def parse_file(text: str, origin: str = "config") -> FileConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DockopsError(f"{origin}: not valid TOML: {exc}.") from None
    try:
        return FileConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_explain(error, text) for error in exc.errors()]
        raise DockopsError(f"{origin}: {len(lines)} mistake(s) in the configuration.",
                           detail="\n".join(lines)) from None


def _explain(error: Any, text: str) -> str:
    location = ".".join(str(part) for part in error["loc"]).replace("copy_", "copy")
    line = _line_of(text, error["loc"])
    where = f"line {line}: " if line else ""
    if error["type"] == "extra_forbidden":
        return f"{where}{location}: unknown key. Remove it or check the spelling " \
               "(config/dockops.example.toml lists every key)."
    if error["type"] == "missing":
        return f"{where}{location}: required, but missing. Add it."
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}{location}: {message}."


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best effort: the line where the last named key of `loc` is set."""
    keys = [str(part) for part in loc if isinstance(part, str)]
    if not keys:
        return None
    pattern = re.compile(rf'^\s*"?{re.escape(keys[-1].replace("copy_", "copy"))}"?\s*=', re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def env_password(name: str) -> str:
    """A registry password named by `password_env`; empty when unset."""
    return os.environ.get(name, "")
