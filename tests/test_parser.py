"""The docker CLI's grammar: flags, aliases, quoting, and errors that show the usage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import TABLE, parse
from bot.commands.values import PortSpec, PruneFilters
from bot.errors import UsageError


@pytest.mark.parametrize(("text", "command", "options", "args"), [
    ("ps", "ps", {}, ()),
    ("ps -a", "ps", {"all": True}, ()),
    ("container ls -aq", "ps", {"all": True, "quiet": True}, ()),
    ("ps --filter name=web --filter=status=exited", "ps",
     {"filter": {"name": ("web",), "status": ("exited",)}}, ()),
    ("ps -n5", "ps", {"last": 5}, ()),
    ("ps -n=5", "ps", {"last": 5}, ()),
    ("ps --last 5 --no-trunc", "ps", {"last": 5, "no_trunc": True}, ()),
    ("images -a", "images", {"all": True}, ()),
    ("image ls busybox", "images", {}, ("busybox",)),
    ("logs --tail 20 -t api", "logs", {"tail": "20", "timestamps": True}, ("api",)),
    ("logs api --since=10m", "logs", {"since": "10m"}, ("api",)),
    ("container inspect web", "inspect", {}, ("web",)),
    ("inspect --format '{{json .State}}' web", "inspect", {"format": "{{json .State}}"}, ("web",)),
    ("run -d -p 3000:80 --name web nginx", "run",
     {"detach": True, "publish": (PortSpec(80, host_port=3000),), "name": "web"}, ("nginx",)),
    ("run busybox ls -la /", "run", {}, ("busybox", "ls", "-la", "/")),
    ('run busybox sh -c "echo hi; exit 3"', "run", {}, ("busybox", "sh", "-c", "echo hi; exit 3")),
    ("exec -w /tmp web ls -l", "exec", {"workdir": "/tmp"}, ("web", "ls", "-l")),
    ("rm -f -- -odd-name", "rm", {"force": True}, ("-odd-name",)),
    ("cp web:/etc/hostname -", "cp", {}, ("web:/etc/hostname", "-")),
    ("system df", "system df", {}, ()),
    ("image prune -a --filter until=24h", "image prune",
     {"all": True, "filter": PruneFilters(until=timedelta(hours=24))}, ()),
    ("ps \u201c-a\u201d", "ps", {"all": True}, ()),
    # `events -f` alone follows (the CLI would want a filter); with one, it filters.
    ("events -f", "events", {"follow": True}, ()),
    ("events -f --since 10m", "events", {"follow": True, "since": "10m"}, ()),
    ("events -f type=container", "events", {"follow": False, "filter": {"type": ("container",)}},
     ()),
])
def test_parses_like_the_docker_cli(text: str, command: str, options: dict, args: tuple) -> None:
    invocation = parse(text, TABLE)
    assert invocation.command.name == command
    for key, value in options.items():
        assert invocation.opt(key) == value, key
    assert invocation.args == args


def test_help_flag_and_help_command_give_the_same_topic() -> None:
    assert parse("ps --help", TABLE).args == ("ps",)
    assert parse("help ps", TABLE).args == ("ps",)
    assert parse("", TABLE).command.name == "help"


def test_global_options_private_and_host() -> None:
    invocation = parse("--private -H prod ps -a", TABLE)
    assert invocation.private and invocation.host == "prod" and invocation.opt("all")
    assert parse("ps -a --private", TABLE).private


def test_slack_escaping_is_undone() -> None:
    invocation = parse("inspect --format '{{json .State}}' a&amp;b", TABLE)
    assert invocation.args == ("a&b",)


@pytest.mark.parametrize(("text", "message"), [
    ("ps -z", "unknown shorthand flag: 'z' in -z"),
    ("ps --bogus", "unknown flag: --bogus"),
    ("logs", '"docker logs" requires exactly 1 argument.'),
    ("rm", '"docker rm" requires at least 1 argument.'),
    ("ps extra", '"docker ps" accepts no arguments (got: extra).'),
    ("ps -n", "flag needs an argument: 'n' in -n"),
    ("ps -n x", 'invalid argument "x" for "--last": it must be a whole number'),
    ("pss", "`pss` is not a docker command dockops knows."),
    ("image frob", "`image frob` is not a docker command dockops knows."),
    ("ps 'unclosed", "Could not read the command: No closing quotation (a quote is not closed)."),
])
def test_bad_input_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, TABLE)
    assert caught.value.message == message


def test_flag_errors_show_the_usage_line() -> None:
    with pytest.raises(UsageError) as caught:
        parse("ps --bogus", TABLE)
    assert "Usage:  docker ps [OPTIONS]" in caught.value.detail


def test_a_near_miss_is_suggested() -> None:
    with pytest.raises(UsageError) as caught:
        parse("psx -a", TABLE)
    assert "Did you mean `ps`?" in caught.value.detail
