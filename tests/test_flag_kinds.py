"""Flag kinds: each value is read when the command is parsed, into a typed value, or refused
with one sentence that names the flag as typed. No Docker Engine needed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import TABLE, parse
from bot.commands.kinds import (
    ByteSize,
    Cpus,
    KeyValue,
    Kind,
    Mount,
    PruneFilter,
    Publish,
    RestartPolicy,
    Volume,
    parse_label_filter,
)
from bot.commands.values import (
    LabelFilter,
    MountSpec,
    Pair,
    PortSpec,
    PruneFilters,
    RestartSpec,
    VolumeSpec,
)
from bot.errors import UsageError

ENV = KeyValue("MODE=prod", bare="shell", collect="pairs")
RUN_LABEL = KeyValue("team=api", bare="empty")
BUILD_ARG = KeyValue("MODE=prod", note="dockops does not read values from its own environment.")
FILTER = KeyValue("status=exited", collect="filters")


def one_sentence(message: str) -> bool:
    """A single sentence: it ends once, with a full stop."""
    return message.endswith(".") and ". " not in message and "\n" not in message


GOOD: list[tuple[Kind, str, str, Any]] = [
    (Publish(), "-p", "80", PortSpec(80)),
    (Publish(), "-p", "8080:80", PortSpec(80, host_port=8080)),
    (Publish(), "-p", "127.0.0.1:8080:80", PortSpec(80, "tcp", "127.0.0.1", 8080)),
    (Publish(), "-p", "127.0.0.1::80", PortSpec(80, "tcp", "127.0.0.1", None)),
    (Publish(), "-p", "53:53/udp", PortSpec(53, "udp", None, 53)),
    (Publish(), "-p", "80/SCTP", PortSpec(80, "sctp")),
    (Publish(), "-p", "[::1]:8080:80", PortSpec(80, "tcp", "::1", 8080)),
    (Volume(), "-v", "data:/srv/data", VolumeSpec("data", "/srv/data")),
    (Volume(), "-v", "data:/srv/data:ro", VolumeSpec("data", "/srv/data", "ro")),
    (Volume(), "-v", "/anon", VolumeSpec(None, "/anon")),
    (Volume(), "-v", "/anon:ro", VolumeSpec(None, "/anon", "ro")),
    (Volume(), "-v", "/host/dir:/x", VolumeSpec("/host/dir", "/x")),
    (Mount(), "--mount", "type=volume,source=v,target=/x", MountSpec("volume", "/x", "v")),
    (Mount(), "--mount", "type=bind,src=/h,dst=/x,readonly",
     MountSpec("bind", "/x", "/h", read_only=True)),
    (Mount(), "--mount", "target=/x,ro=false", MountSpec("volume", "/x")),
    (Mount(), "--mount", "type=tmpfs,target=/t,tmpfs-size=1m",
     MountSpec("tmpfs", "/t", tmpfs_size=1024**2)),
    (Mount(), "--mount", "type=bind,source=/h,target=/x,bind-propagation=rslave",
     MountSpec("bind", "/x", "/h", options={"bind-propagation": "rslave"})),
    (RestartPolicy(), "--restart", "no", RestartSpec("no")),
    (RestartPolicy(), "--restart", "always", RestartSpec("always")),
    (RestartPolicy(), "--restart", "unless-stopped", RestartSpec("unless-stopped")),
    (RestartPolicy(), "--restart", "on-failure:3", RestartSpec("on-failure", 3)),
    (ByteSize(), "-m", "256m", 256 * 1024**2),
    (ByteSize(), "-m", "1G", 1024**3),
    (ByteSize(), "-m", "1.5k", 1536),
    (ByteSize(), "-m", "1048576", 1048576),
    (ByteSize(), "-m", "0", 0),
    (Cpus(), "--cpus", "0.5", 500_000_000),
    (Cpus(), "--cpus", "2", 2_000_000_000),
    (ENV, "-e", "MODE=once", Pair("MODE", "once")),
    (ENV, "-e", "EMPTY=", Pair("EMPTY", "")),
    (ENV, "-e", "URL=a=b", Pair("URL", "a=b")),
    (RUN_LABEL, "--label", "team=api", Pair("team", "api")),
    (RUN_LABEL, "-l", "flag", Pair("flag", "")),
    (BUILD_ARG, "--build-arg", "MODE=prod", Pair("MODE", "prod")),
    (FILTER, "--filter", " status = exited ", Pair("status", "exited")),
    (FILTER, "-f", "label=team=api", Pair("label", "team=api")),
    (PruneFilter(), "--filter", "until=24h", timedelta(hours=24)),
    (PruneFilter(), "--filter", "label=team", LabelFilter("team", None, False)),
    (PruneFilter(), "--filter", "label!=keep=yes", LabelFilter("keep", "yes", True)),
]


@pytest.mark.parametrize(("kind", "flag", "text", "expected"), GOOD)
def test_good_values_convert(kind: Kind, flag: str, text: str, expected: Any) -> None:
    assert kind.convert(text, flag) == expected


BAD: list[tuple[Kind, str, str, str]] = [
    (Publish(), "-p", "99999:80", "Invalid port"),
    (Publish(), "--publish", "x:80", "Invalid port"),
    (Publish(), "-p", "\u00b2:80", "Invalid port"),  # isdigit() but not int(): no crash
    (Publish(), "-p", "1000-1002:80", "ranges"),
    (Publish(), "-p", "80/icmp", "protocol"),
    (Publish(), "-p", "[::1:8080:80", "address"),
    (Publish(), "-p", "a:b:c:d", "Cannot read"),
    (Volume(), "-v", "data:relative", "absolute"),
    (Volume(), "-v", ":/x", "volume name is empty"),
    (Volume(), "-v", "a:/b:ro:x", "Cannot read"),
    (Mount(), "--mount", "type=nfs,target=/x", "not supported"),
    (Mount(), "--mount", "type=volume,source=v", "absolute target"),
    (Mount(), "--mount", "type=bind,target=/x", "source=/host/path"),
    (Mount(), "--mount", "kind=volume,target=/x", "Unknown"),
    (Mount(), "--mount", "type=tmpfs,target=/t,tmpfs-size=lots", "tmpfs size"),
    (RestartPolicy(), "--restart", "sometimes", "restart policy"),
    (RestartPolicy(), "--restart", "always:3", "restart policy"),
    (RestartPolicy(), "--restart", "", "restart policy"),
    (ByteSize(), "-m", "lots", "memory size"),
    (ByteSize(), "--memory", "9" * 400, "memory size"),  # not inf, not OverflowError
    (ByteSize(), "-m", "-1m", "memory size"),
    (Cpus(), "--cpus", "0", "positive number"),
    (Cpus(), "--cpus", "-1", "positive number"),
    (Cpus(), "--cpus", "nan", "positive number"),
    (Cpus(), "--cpus", "1e999", "positive number"),
    (Cpus(), "--cpus", "many", "positive number"),
    (ENV, "-e", "=x", "KEY=VALUE"),
    (RUN_LABEL, "--label", "=x", "KEY=VALUE"),
    (BUILD_ARG, "--build-arg", "MODE", "KEY=VALUE"),
    (BUILD_ARG, "--build-arg", "=prod", "KEY=VALUE"),
    (FILTER, "--filter", "dangling", "KEY=VALUE"),
    (PruneFilter(), "--filter", "dangling=false", "Invalid filter"),
    (PruneFilter(), "--filter", "label=", "Invalid filter"),
    (PruneFilter(), "--filter", "label==x", "Invalid filter"),
    (PruneFilter(), "--filter", "until=soon", "is not a duration"),
]


@pytest.mark.parametrize(("kind", "flag", "text", "problem"), BAD)
def test_bad_values_are_one_sentence_naming_the_flag(kind: Kind, flag: str, text: str,
                                                     problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        kind.convert(text, flag)
    message = caught.value.message
    assert problem in message
    assert flag in message
    assert one_sentence(message), message


def test_a_bare_env_name_says_slack_has_no_shell_environment_and_how_to_give_it() -> None:
    with pytest.raises(UsageError) as caught:
        ENV.convert("JUST_A_NAME", "-e")
    assert "shell's environment" in caught.value.message
    assert "-e JUST_A_NAME=VALUE" in caught.value.detail


def test_a_long_value_is_cut_when_quoted_back() -> None:
    with pytest.raises(UsageError) as caught:
        Volume().convert("x" * 4000, "-v")
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(("kind", "values", "gathered"), [
    (ENV, (Pair("A", "1"), Pair("A", "2")), (Pair("A", "1"), Pair("A", "2"))),
    (RUN_LABEL, (Pair("a", "1"), Pair("a", "2"), Pair("b", "")), {"a": "2", "b": ""}),
    (FILTER, (Pair("name", "web"), Pair("status", "exited"), Pair("name", "db")),
     {"name": ("web", "db"), "status": ("exited",)}),
    (PruneFilter(), (timedelta(hours=1), LabelFilter("k", None, False), timedelta(hours=2)),
     PruneFilters(timedelta(hours=2), (LabelFilter("k", None, False),))),
    (PruneFilter(), (), PruneFilters()),
    (Publish(), (), ()),
])
def test_repeats_gather_into_one_value(kind: Kind, values: tuple, gathered: Any) -> None:
    assert kind.gather(values) == gathered


@pytest.mark.parametrize(("text", "expected"), [
    ("label=team", LabelFilter("team", None, False)),
    ("label=team=api", LabelFilter("team", "api", False)),
    ("label!=keep", LabelFilter("keep", None, True)),
    ("team=api", LabelFilter("team", "api", False)),  # [jobs.prune] labels: KEY[=VALUE]
    ("team", LabelFilter("team", None, False)),
])
def test_label_filters_read_the_cli_and_config_spellings(text: str, expected: LabelFilter
                                                         ) -> None:
    assert parse_label_filter(text) == expected
    assert parse_label_filter(str(expected)) == expected  # its text reads back the same


def test_label_filter_without_a_key_is_refused() -> None:
    with pytest.raises(UsageError, match="Invalid label filter"):
        parse_label_filter("label==x")


# -- through the parser: the Invocation carries typed values ------------------------------------

def test_run_options_arrive_typed() -> None:
    inv = parse("run -p 8080:80 -p 53/udp -e A=1 -l team=api -l flag -v data:/d:ro "
                "--mount type=tmpfs,target=/t -m 64m --cpus 0.5 --restart on-failure:2 busybox",
                TABLE)
    assert inv.opt("publish") == (PortSpec(80, host_port=8080), PortSpec(53, "udp"))
    assert inv.opt("env") == (Pair("A", "1"),)
    assert inv.opt("label") == {"team": "api", "flag": ""}
    assert inv.opt("volume") == (VolumeSpec("data", "/d", "ro"),)
    assert inv.opt("volume")[0].text == "data:/d:ro"
    assert inv.opt("mount") == (MountSpec("tmpfs", "/t"),)
    assert inv.opt("memory") == 64 * 1024**2 and inv.opt("cpus") == 500_000_000
    assert inv.opt("restart") == RestartSpec("on-failure", 2)


def test_untyped_flags_get_the_kinds_empty_value() -> None:
    inv = parse("run busybox", TABLE)
    assert inv.opt("publish") == () and inv.opt("env") == () and inv.opt("label") == {}
    assert inv.opt("restart") is None and inv.opt("memory") is None
    assert parse("image prune", TABLE).opt("filter") == PruneFilters()
    assert parse("ps", TABLE).opt("filter") == {}


def test_build_and_list_filters_arrive_typed() -> None:
    assert parse("build --build-arg A=1 --label team=x ctx", TABLE).opt("build_arg") == {"A": "1"}
    assert parse("images -f dangling=true", TABLE).opt("filter") == {"dangling": ("true",)}
    assert parse("image prune --filter label!=keep", TABLE).opt("filter") == PruneFilters(
        None, (LabelFilter("keep", None, True),))


@pytest.mark.parametrize(("text", "named"), [
    ("run -p 99999:80 busybox", "-p 99999:80"),
    ("run --publish=99999:80 busybox", "--publish 99999:80"),
    ("run -dp 99999:80 busybox", "-p 99999:80"),
    ("run --cpus 0 busybox", "--cpus"),
    ("exec -e NAME web true", "-e NAME"),
    ("ps --filter dangling", "--filter"),
])
def test_the_parser_refuses_a_bad_value_naming_the_flag_as_typed(text: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, TABLE)
    assert named in caught.value.message


def test_a_kind_error_without_an_example_gets_the_usage_line() -> None:
    with pytest.raises(UsageError) as caught:
        parse("run --cpus 0 busybox", TABLE)
    assert "Usage:  docker run" in caught.value.detail


def test_help_shows_a_kind_flag_with_its_metavar() -> None:
    flag = TABLE["run"].flag("publish")
    assert flag is not None and flag.signature() == "-p, --publish PORTS"


KINDS = [Publish(), Volume(), Mount(), RestartPolicy(), ByteSize(), Cpus(), ENV, RUN_LABEL,
         BUILD_ARG, FILTER, PruneFilter()]


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS),
       text=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9:./\[\]=,a-z-]{0,30}")))
def test_any_text_converts_or_is_one_usage_error(kind: Kind, text: str) -> None:
    try:
        kind.convert(text, "--flag")
    except UsageError as exc:
        assert "--flag" in exc.message
