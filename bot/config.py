"""Settings: Slack tokens and paths from the environment, everything else from one TOML file.

Every mistake becomes one line naming the key, the problem and the fix.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import DockopsError
from bot.roles import Role
from bot.timeparse import parse_duration

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
    allow_join_containers: bool = False
    bind_mounts: list[str] = []

    @field_validator("allow_cap_add")
    @classmethod
    def _capabilities(cls, value: list[str]) -> list[str]:
        for cap in value:
            if not re.match(r"^(CAP_)?[A-Z_]+$", cap.strip().upper()):
                raise ValueError(f"{cap!r} is not a Linux capability name, e.g. \"NET_ADMIN\"")
        return value

    @field_validator("bind_mounts")
    @classmethod
    def _absolute_binds(cls, value: list[str]) -> list[str]:
        return _absolute_dirs(value, "bind_mounts")


class CopyConfig(Section):
    """Host directories `cp` may read from or write to (none by default)."""

    host_paths: list[str] = []
    max_bytes: int = Field(100 * 1024 * 1024, gt=0)

    @field_validator("host_paths")
    @classmethod
    def _absolute_paths(cls, value: list[str]) -> list[str]:
        return _absolute_dirs(value, "host_paths")


def _absolute_dirs(value: list[str], key: str) -> list[str]:
    for path in value:
        if not path.startswith("/") or path.rstrip("/") == "":
            raise ValueError(f"{path!r} in {key} must be an absolute directory other than /, "
                             "e.g. \"/srv/exchange\"")
    return value


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
    """One Docker Engine: `unix:///PATH`, `tcp://HOST:2376` (TLS: tls_*) or `ssh://USER@HOST`.

    `timeout` bounds every call and is the host's deadline in fan-out (default: [limits]
    engine_timeout_seconds). `roles`, like [access.roles], applies to commands on this host:
    each role it names gets this list instead of the global one; roles it does not name keep
    the global list (so `operator = []` makes the host admin-only for writes).
    """

    url: str
    timeout: float | None = Field(None, ge=1, le=600)
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    default: bool = False  # the host commands use when neither --host nor the channel names one
    # A Swarm manager: update jobs watch its services (else `info` Swarm.ControlAvailable says).
    swarm: bool = False
    roles: dict[str, list[str]] = {}

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(_HOST_SCHEMES):
            raise ValueError(f"{value!r} is not a Docker host URL: use unix:///var/run/docker.sock, "
                             "tcp://HOST:2376 or ssh://USER@HOST")
        if re.match(r"^[a-z]+://[^/@]*:[^/@]*@", value):
            # Never echo it: the value holds a password.
            raise ValueError("the URL holds a password, which docker does not take: ssh:// "
                             "logs in with the bot user's ssh keys, tcp:// with tls_cert/tls_key")
        return value

    @field_validator("tls_ca", "tls_cert", "tls_key")
    @classmethod
    def _tls_file(cls, value: str) -> str:
        if value and not os.path.isfile(value):
            raise ValueError(f"{value!r} is not a file: give the path of the PEM file "
                             "(ca.pem, cert.pem or key.pem as `docker --tlsverify` uses them)")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return AccessConfig._role_entries(value)

    @model_validator(mode="after")
    def _tls_fits_url(self) -> HostConfig:
        if (self.tls_cert or self.tls_key or self.tls_ca) and not self.url.startswith("tcp://"):
            raise ValueError("tls_ca, tls_cert and tls_key apply to tcp:// URLs only")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("a client certificate needs both tls_cert and tls_key")
        return self

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert)


_HOST_SCHEMES = ("unix://", "tcp://", "ssh://")
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def _host_names(hosts: dict[str, HostConfig]) -> dict[str, HostConfig]:
    """Names usable after --host (not `all`, no commas), and at most one default host."""
    for name in hosts:
        if name == "all" or not _HOST_NAME.match(name):
            raise ValueError(f"[hosts.{name}]: a host name is letters, digits, '.', '_' or '-' "
                             "(up to 40), and not `all` (--host all means every host)")
    defaults = [name for name, host in hosts.items() if host.default]
    if len(defaults) > 1:
        raise ValueError(f"default = true is set on {', '.join(defaults)}: set it on one host")
    return hosts


class SlackConfig(Section):
    command: str = "/docker"
    reply: Literal["in_channel", "ephemeral"] = "in_channel"
    audit_channel: str = ""
    channel_hosts: dict[str, str] = {}
    # Requests from any other workspace or app are refused; empty = no check.
    team_ids: list[str] = []
    app_ids: list[str] = []

    @field_validator("team_ids")
    @classmethod
    def _team_ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.match(r"^T[A-Z0-9]{2,}$", entry):
                raise ValueError(f"{entry!r} is not a workspace ID: use the T... ID (Slack: "
                                 "workspace settings, or the team_id of any request)")
        return value

    @field_validator("app_ids")
    @classmethod
    def _app_ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.match(r"^A[A-Z0-9]{2,}$", entry):
                raise ValueError(f"{entry!r} is not an app ID: use the A... App ID from the "
                                 "Slack app's Basic Information page")
        return value


class LimitsConfig(Section):
    workers: int = Field(8, ge=1, le=64)
    attached_run_seconds: float = Field(60, gt=0)
    follow_seconds: float = Field(60, gt=0)
    follow_max_seconds: float = Field(600, gt=0)
    confirm_ttl_seconds: float = Field(600, gt=0)
    engine_timeout_seconds: float = Field(30, gt=0)
    log_tail: int = Field(100, ge=1)
    shutdown_grace_seconds: float = Field(20, ge=0)
    # `stop -t` / `restart -t` beyond this is refused: a worker would wait that long.
    stop_timeout_max_seconds: float = Field(30, ge=0)
    per_user_commands: int = Field(3, ge=1, le=64)
    per_user_follows: int = Field(5, ge=1, le=64)


class StoreConfig(Section):
    """How long the store keeps history; older rows go in the daily housekeeping."""

    audit_retention_days: int = Field(365, ge=1)
    job_history_days: int = Field(365, ge=1)
    # Closed incidents (recovered, resolved, summarized) and their delivered message rows.
    incident_history_days: int = Field(90, ge=1)


def _duration(value: object) -> timedelta:
    """A duration as the docker CLI writes it ("30s", "10m", "2h", "7d"), from TOML text."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration, got {_toml(value)}. Write it in double quotes, "
                         "e.g. \"10m\"")
    try:
        return parse_duration(value)
    except DockopsError:
        raise ValueError(f"{value!r} is not a duration: use forms like 30s, 10m, 2h, 7d"
                         ) from None


def _optional_duration(value: object) -> timedelta | None:
    """A duration, or None when the key is empty (`until = ""`: no age limit)."""
    return None if value in (None, "") else _duration(value)


Duration = Annotated[timedelta, PlainValidator(_duration, json_schema_input_type=str)]
OptionalDuration = Annotated[timedelta | None,
                             PlainValidator(_optional_duration, json_schema_input_type=str)]


class _JobBase(Section):
    """What every `[[jobs]]` entry has: a name, its crontab schedule (UTC), channel and hosts."""

    name: str
    schedule: str
    channel: str
    hosts: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _keys_fit_type(cls, data: Any) -> Any:
        # A key of the other job type is a mistake about the type, not a typo: say so.
        if isinstance(data, dict):
            stray = sorted((set(data) & _JOB_KEYS) - set(cls.model_fields))
            if stray:
                raise ValueError(f"{', '.join(stray)} do(es) not apply to a {data.get('type')} "
                                 "job: remove it, or check the job's type")
        return data

    @field_validator("name")
    @classmethod
    def _job_name(cls, value: str) -> str:
        if not _JOB_NAME.match(value):
            raise ValueError(f"{value!r} is not a job name: use letters, digits, '.', '_' or '-' "
                             "(up to 64), e.g. \"nightly-prune\"")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from bot.jobs.cron import parse_schedule

        parse_schedule(value)
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not re.match(r"^[CG][A-Z0-9]{2,}$", value):
            raise ValueError(f"{value!r} is not a channel ID: use the channel's ID (C... or G..., "
                             "from its details in Slack), not its #name")
        return value


class PruneJobConfig(_JobBase):
    """`type = "prune"`: remove unused images, like `image prune`, keeping the `keep` ones."""

    type: Literal["prune"]
    all: bool = False
    until: OptionalDuration = None
    keep: list[str] = []
    labels: list[str] = []  # only images with these labels (KEY or KEY=VALUE)
    dry_run: bool = False

    @field_validator("keep")
    @classmethod
    def _keep(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not entry.strip() or " " in entry or entry in ("label:", "label:="):
                raise ValueError(f"keep entry {entry!r}: use an image pattern (\"repo/*\", "
                                 "\"repo:tag\") or \"label:KEY\" / \"label:KEY=VALUE\"")
        return value


class UpdateJobConfig(_JobBase):
    """`type = "update"`: watch image tags in their registry and notify, pull or recreate."""

    type: Literal["update"]
    images: list[str] = []
    containers: str = ""
    # Swarm services on manager hosts: "label:KEY[=VALUE]" or a list of service names.
    services: str | list[str] = ""
    action: Literal["notify", "pull", "recreate"] = "notify"
    summary: bool = False
    concurrency: int = Field(4, ge=1, le=16)
    jitter: Duration = timedelta(seconds=5)
    recreate_timeout: Duration = timedelta(seconds=60)
    min_remaining: int = Field(0, ge=0)
    watch_tags: bool = False
    include_tags: list[str] = []
    exclude_tags: list[str] = []
    min_age: Duration = timedelta(0)  # never offer or apply a digest younger than this
    cleanup: bool = False  # remove the superseded image after a recreate (never forced)
    remind: Literal["", "daily", "weekly"] = ""  # one summary of pending updates, not repeats

    @field_validator("include_tags", "exclude_tags")
    @classmethod
    def _tag_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression ({exc}): write "
                                 "one regex per tag pattern, e.g. '^1\\.\\d+\\.\\d+$'") from None
        return value

    @field_validator("containers")
    @classmethod
    def _containers(cls, value: str) -> str:
        if value and not re.match(r"^label:[^=\s]+(=\S*)?$", value):
            raise ValueError(f"{value!r}: containers are chosen by label: "
                             "\"label:KEY=VALUE\" or \"label:KEY\"")
        return value

    @field_validator("services")
    @classmethod
    def _services(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str) and value and not re.match(r"^label:[^=\s]+(=\S*)?$", value):
            raise ValueError(f"{value!r}: services are chosen by label (\"label:KEY=VALUE\") "
                             "or named in a list ([\"web\", \"api\"])")
        return value

    @field_validator("images")
    @classmethod
    def _images(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not ref or " " in ref:
                raise ValueError(f"{ref!r} is not an image reference (e.g. \"registry/team/api:1\")")
            if "@" in ref:
                raise ValueError(f"{ref!r} is pinned by digest, so it can never change: "
                                 "watch a tag instead")
        return value

    @model_validator(mode="after")
    def _watches_something(self) -> UpdateJobConfig:
        if not (self.images or self.containers or self.services):
            raise ValueError("an update job watches something: set images = [...], "
                             "containers = \"label:KEY=VALUE\" and/or services = ...")
        return self


# One `[[jobs]]` entry: its `type` picks the model.
JobConfig = Annotated[PruneJobConfig | UpdateJobConfig, Field(discriminator="type")]
_JOB_MODELS: dict[str, type[_JobBase]] = {"prune": PruneJobConfig, "update": UpdateJobConfig}
_JOB_KEYS = set(PruneJobConfig.model_fields) | set(UpdateJobConfig.model_fields)
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _unique_job_names(jobs: list[PruneJobConfig | UpdateJobConfig]
                      ) -> list[PruneJobConfig | UpdateJobConfig]:
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise ValueError(f"job name {job.name!r} is used twice: give each [[jobs]] entry "
                             "its own name")
        seen.add(job.name)
    return jobs


_SELECTOR = re.compile(r"^(label|name|image|compose):\S+$")
ALERT_EVENTS = ("die", "oom", "unhealthy", "restart_loop", "task_failed")
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class RestartLoopConfig(Section):
    """`restart_loop = { restarts = 3, within = "10m" }`: this many restarts in that time."""

    restarts: int = Field(3, ge=2, le=1000)
    within: Duration = timedelta(minutes=10)


class AlertConfig(Section):
    """One `[[alerts]]` rule: which engine events of which containers become incidents where."""

    name: str
    channel: str
    hosts: list[str] = []
    # task_failed (Swarm tasks that fail or are rejected) only when asked for.
    events: list[Literal["die", "oom", "unhealthy", "restart_loop", "task_failed"]] = [
        "die", "oom", "unhealthy", "restart_loop"]
    containers: list[str] = []
    exclude: list[str] = []
    ignore_exit_codes: list[int] = [0]
    restart_loop: RestartLoopConfig = RestartLoopConfig()
    group_window: Duration = timedelta(minutes=10)
    log_lines: int = Field(20, ge=0, le=200)
    quiet_hours: str = ""

    @field_validator("name")
    @classmethod
    def _rule_name(cls, value: str) -> str:
        if not _JOB_NAME.match(value):
            raise ValueError(f"{value!r} is not a rule name: use letters, digits, '.', '_' or "
                             "'-' (up to 64), e.g. \"prod-crashes\"")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _JobBase._channel(value)

    @field_validator("containers", "exclude")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not _SELECTOR.match(entry):
                raise ValueError(f"{entry!r} is not a container selector: use \"label:KEY\", "
                                 "\"label:KEY=VALUE\", \"name:web-*\", \"image:repo/*\" or "
                                 "\"compose:PROJECT\"")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value and not _QUIET.match(value):
            raise ValueError(f"{value!r} is not a time range: write \"HH:MM-HH:MM\" in UTC, "
                             "e.g. \"22:00-07:00\", or \"\" for none")
        return value

    @field_validator("events")
    @classmethod
    def _some_events(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("an alert rule watches at least one event: "
                             "events = [\"die\", \"oom\", \"unhealthy\", \"restart_loop\", "
                             "\"task_failed\"]")
        return value


def _unique_alert_names(alerts: list[AlertConfig]) -> list[AlertConfig]:
    seen: set[str] = set()
    for alert in alerts:
        if alert.name in seen:
            raise ValueError(f"alert name {alert.name!r} is used twice: give each [[alerts]] "
                             "entry its own name")
        seen.add(alert.name)
    return alerts


class FileConfig(Section):
    """The TOML file, whole."""

    access: AccessConfig | None = None
    run: RunPolicyConfig = RunPolicyConfig()
    copy_: CopyConfig = Field(CopyConfig(), alias="copy")
    build: BuildConfig = BuildConfig()
    registries: dict[str, RegistryConfig] = {}
    hosts: Annotated[dict[str, HostConfig], AfterValidator(_host_names)] = {}
    slack: SlackConfig = SlackConfig()
    limits: LimitsConfig = LimitsConfig()
    store: StoreConfig = StoreConfig()
    jobs: Annotated[list[JobConfig], AfterValidator(_unique_job_names)] = []
    alerts: Annotated[list[AlertConfig], AfterValidator(_unique_alert_names)] = []

    @field_validator("slack")
    @classmethod
    def _channel_hosts_exist(cls, value: SlackConfig, info: ValidationInfo) -> SlackConfig:
        hosts = info.data.get("hosts")
        if hosts is None:  # [hosts] itself is wrong: that mistake is reported already
            return value
        known = set(hosts) or {"local"}
        for channel, host in value.channel_hosts.items():
            if not re.match(r"^[CGD][A-Z0-9]{2,}$", channel):
                raise ValueError(f"channel_hosts: {channel!r} is not a channel ID (C..., G... or "
                                 "D..., from the channel's details in Slack)")
            if host not in known:
                raise ValueError(f"channel_hosts: {channel} = {host!r} names no host: use one "
                                 f"of {', '.join(sorted(known))} (the [hosts.NAME] tables)")
        return value


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


@dataclass(frozen=True, eq=False)
class Settings:
    """Environment plus file, loaded and validated together; the file's sections typed."""

    env: EnvSettings
    file: FileConfig
    source: Path | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.env.dockops_data_dir)

    @property
    def has_slack_tokens(self) -> bool:
        return bool(self.env.slack_bot_token)

    @property
    def access(self) -> AccessConfig | None:
        return self.file.access

    @property
    def run(self) -> RunPolicyConfig:
        return self.file.run

    @property
    def copy(self) -> CopyConfig:
        return self.file.copy_

    @property
    def build(self) -> BuildConfig:
        return self.file.build

    @property
    def registries(self) -> dict[str, RegistryConfig]:
        return self.file.registries

    @property
    def hosts(self) -> dict[str, HostConfig]:
        return self.file.hosts

    @property
    def slack(self) -> SlackConfig:
        return self.file.slack

    @property
    def limits(self) -> LimitsConfig:
        return self.file.limits

    @property
    def store(self) -> StoreConfig:
        return self.file.store

    @property
    def jobs(self) -> list[PruneJobConfig | UpdateJobConfig]:
        return self.file.jobs

    @property
    def alerts(self) -> list[AlertConfig]:
        return self.file.alerts


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
        text = _read_config(path)
    return Settings(env, parse_file(text, str(path or "defaults")), path)


def _read_config(path: Path) -> str:
    """The file's text; a directory or an unreadable file is one sentence with the fix."""
    if path.is_dir():
        raise DockopsError(f"the config path {path} (DOCKOPS_CONFIG) is a directory. Point "
                           "DOCKOPS_CONFIG at the TOML file inside it (e.g. "
                           f"{path / 'dockops.toml'}).")
    try:
        return path.read_text()
    except PermissionError:
        raise DockopsError(f"the config file {path} (DOCKOPS_CONFIG) is not readable by uid "
                           f"{os.geteuid()} (it is owned by uid {path.stat().st_uid}, mode "
                           f"{path.stat().st_mode & 0o777:o}). Run `chmod a+r {path}` or "
                           f"`chown {os.geteuid()} {path}`.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DockopsError(f"the config file {path} (DOCKOPS_CONFIG) cannot be read ({exc}). "
                           "Fix the file or point DOCKOPS_CONFIG at another.") from None


def parse_file(text: str, origin: str = "config") -> FileConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DockopsError(f"{origin}: not valid TOML: {exc}.",
                           detail="Check that line: text needs double quotes (reply = \"ephemeral\"), "
                                  "lists brackets ([\"a\", \"b\"]), sections a [name] line.") from None
    try:
        return FileConfig.model_validate(data)
    except ValidationError as exc:
        # In file order, so the list reads top to bottom beside the file.
        lines = [line for _, line in sorted((_explain_at(error, text) for error in exc.errors()),
                                            key=lambda found: found[0] or 10**9)]
        count = "1 mistake" if len(lines) == 1 else f"{len(lines)} mistakes"
        raise DockopsError(f"{origin}: {count} in the configuration.",
                           detail="\n".join(lines)) from None


def _explain(error: Any, text: str) -> str:
    return _explain_at(error, text)[1]


def _explain_at(error: Any, text: str) -> tuple[int | None, str]:
    """The line a mistake is on, and one sentence: where, the key, the problem, the fix."""
    if error["loc"][:1] == ("jobs",):
        error = _job_type_error(error)
    location = ".".join(str(part) for part in error["loc"]).replace("copy_", "copy")
    line = _line_of(text, error["loc"], _quoted_values(error.get("msg", "")))
    if error["loc"][:1] in (("jobs",), ("alerts",)):
        location, line = _job_location(text, error, str(error["loc"][0]))
    where = f"line {line}: " if line else ""
    return line, f"{where}{location}: {_problem(error)}."


def _job_type_error(error: Any) -> Any:
    """A `[[jobs]]` entry whose `type` is missing or unknown, worded as for any other key."""
    kind, loc = error["type"], (*error["loc"], "type")
    if kind == "union_tag_not_found":
        return {**error, "type": "missing", "loc": loc}
    if kind == "union_tag_invalid":
        given = error.get("input")
        return {**error, "type": "literal_error", "loc": loc,
                "input": given.get("type") if isinstance(given, dict) else given,
                "ctx": {"expected": " or ".join(f'"{name}"' for name in _JOB_MODELS)}}
    return error


def _job_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys after `("jobs", N)`, without the job type pydantic puts first."""
    rest = loc[3:] if len(loc) > 2 and loc[2] in _JOB_MODELS else loc[2:]
    return [str(part) for part in rest if isinstance(part, str)]


# What a value of each type looks like in TOML, for type mistakes.
_EXPECTED = {
    "int": ("a whole number", "without quotes"),
    "float": ("a number", "without quotes"),
    "bool": ("true or false", "without quotes"),
    "string": ("text", "in double quotes"),
    "list": ("a list", "in brackets, e.g. [\"a\", \"b\"]"),
    "dict": ("a table", "as a [section] line with keys under it"),
    "model": ("a table", "as a [section] line with keys under it"),
}
_BOUNDS = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most"),
           "greater_than": ("gt", "more than"), "less_than": ("lt", "less than")}


def _problem(error: Any) -> str:
    """The problem and its fix, for one pydantic error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(error["loc"][-1]), _known_keys(error["loc"][:-1]), 1)
        fix = f": did you mean {close[0]}?" if close else \
            ". Remove it or check the spelling"
        return f"unknown key{fix} (config/dockops.example.toml lists every key)"
    if kind == "missing":
        return "required, but missing. Add it"
    base = kind.split("_")[0]
    if base in _EXPECTED and (kind.endswith(("_type", "_parsing")) or kind == "int_from_float"):
        what, how = _EXPECTED[base]
        example = _default_example(error["loc"])
        return f"expected {what}, got {_toml(error.get('input'))}. Write it {how}" + \
            (f", e.g. {example}" if example else "")
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {_toml(ctx.get(key))}, got {_toml(error.get('input'))}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return f"must be {expected}, got {_toml(error.get('input'))}"
    return str(error["msg"]).removeprefix("Value error, ")


def _toml(value: Any) -> str:
    """A value as it would be written in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _default_example(loc: tuple[Any, ...]) -> str:
    """`workers = 8`: the key with its default value, when the defaults have one."""
    value: Any = FileConfig()
    for part in loc:
        name = "copy_" if part == "copy" else part
        if not isinstance(part, str) or not hasattr(value, name):
            return ""
        value = getattr(value, name)
    if isinstance(value, bool | int | float | str):
        return f"{loc[-1]} = {_toml(value)}"
    return ""


def _known_keys(path: tuple[Any, ...]) -> list[str]:
    """The keys the table at `path` accepts (for "did you mean")."""
    model: type[BaseModel] | None = FileConfig
    for index, part in enumerate(path):
        fields = model.model_fields if model else {}
        name = "copy_" if part == "copy" else part
        if isinstance(name, str) and name in fields:
            model = _model_in(fields[name].annotation)
        elif index == 2 and path[0] == "jobs" and part in _JOB_MODELS:
            model = _JOB_MODELS[part]  # the job type pydantic put in the location
        # Anything else is a dict key ([hosts.NAME]) or a list index ([[jobs]] #N): same model.
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model inside `X`, `X | None`, `dict[str, X]` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for arg in get_args(annotation) if (found := _model_in(arg))), None)


def _quoted_values(message: str) -> list[str]:
    """The values a validator message quotes ('alice'): the line that holds one is the culprit."""
    return re.findall(r"'([^']+)'", message)


def _line_of(text: str, loc: tuple[Any, ...], values: list[str] | None = None) -> int | None:
    """Best effort: the line that sets the key `loc` names, inside its [section]."""
    keys = [str(part).replace("copy_", "copy") for part in loc if isinstance(part, str)]
    if not keys:
        return None
    lines = text.splitlines()
    for cut in range(len(keys), 0, -1):
        header = _header_line(lines, keys[:cut])
        if header is None:
            continue
        end = next((n for n in range(header + 1, len(lines) + 1)
                    if re.match(r"^\s*\[", lines[n - 1])), len(lines) + 1)
        body = range(header + 1, end)
        wanted = [rf'^\s*"?{re.escape(keys[cut])}"?\s*='] if cut < len(keys) else []
        for value in values or ():
            wanted += [rf'^\s*"?{re.escape(value)}"?\s*=', rf"['\"]{re.escape(value)}['\"]"]
        for pattern in wanted:
            found = next((n for n in body if re.search(pattern, lines[n - 1])), None)
            if found:
                return found
        return header
    match = re.search(rf'^\s*"?{re.escape(keys[-1])}"?\s*=', text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _header_line(lines: list[str], keys: list[str]) -> int | None:
    """The line of the `[a.b]` / `[a."b"]` header for these keys."""
    parts = r"\s*\.\s*".join(rf"""["']?{re.escape(key)}["']?""" for key in keys)
    pattern = re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(#.*)?$")
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), None)


def _job_blocks(text: str, table: str = "jobs") -> list[tuple[int, int]]:
    """(first, last) line numbers of each `[[jobs]]` (or `[[alerts]]`) block, in order."""
    lines = text.splitlines()
    header = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]")
    starts = [n for n, line in enumerate(lines, 1) if header.match(line)]
    blocks = []
    for start in starts:
        end = start
        for n in range(start + 1, len(lines) + 1):
            if re.match(r"^\s*\[", lines[n - 1]):
                break
            end = n
        blocks.append((start, end))
    return blocks


def _job_location(text: str, error: Any, table: str = "jobs") -> tuple[str, int | None]:
    """`[[jobs]] #2 (updates) schedule` and the line inside that block (a list has no key)."""
    loc = error["loc"]
    lines = text.splitlines()
    blocks = _job_blocks(text, table)
    if len(loc) < 2 or not isinstance(loc[1], int) or loc[1] >= len(blocks):
        # Whole-list errors (a name used twice): point at the repeated name.
        named = re.search(r"(?:job|alert) name '([^']+)'", error.get("msg", ""))
        hits = [n for n, line in enumerate(lines, 1) if named and
                re.match(rf'^\s*name\s*=\s*["\']{re.escape(named.group(1))}["\']', line)]
        return f"[[{table}]]", hits[-1] if hits else None
    first, last = blocks[loc[1]]
    keys = _job_keys(loc)
    block = lines[first - 1:last]
    name = next((m.group(1) for line in block
                 if (m := re.match(r'^\s*name\s*=\s*["\']([^"\']*)', line))), "")
    where = f"[[{table}]] #{loc[1] + 1}" + (f" ({name})" if name else "")
    location = f"{where} {'.'.join(keys)}" if keys else where
    for offset, line in enumerate(block):
        if keys and re.match(rf'^\s*"?{re.escape(keys[0])}"?\s*=', line):
            return location, first + offset
    return location, first


def env_password(name: str) -> str:
    """A registry password named by `password_env`; empty when unset."""
    return os.environ.get(name, "")
