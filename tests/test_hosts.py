"""One bot, many Docker hosts: two real engines, a dead host and a silent one (issue 7)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import docker
import pytest

from bot.config import parse_file
from bot.engine.hosts import HostEngine
from bot.errors import DockopsError, UsageError
from bot.policy import Actor, role_for_host
from bot.roles import Role
from bot.views.hosts import HostAnswer, grouped
from bot.views.limits import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.views.message import Attachment, Message
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS
from tests.engines_rig import (
    DEAD,
    LABEL,
    LOCAL,
    SILENT_TIMEOUT,
    Bot,
    SecondEngine,
    SilentListener,
    by_host,
    check_writes_reach,
    closed_port_url,
    hosts_toml,
    raw,
)
from tests.support import unique, wait_for


@pytest.fixture
def two_engines(multi: Callable[[str], Bot], second_engine: SecondEngine,
                silent_host: SilentListener) -> Bot:
    """local (default), edge (the second engine), a dead socket and a silent TCP port."""
    return multi(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url,
                            dead=DEAD, silent=silent_host.url))


# -- fan-out -----------------------------------------------------------------------------------

def test_ps_host_all_groups_both_engines_and_reports_the_dead_ones_by_their_deadline(
        two_engines: Bot, make_container, make_remote_container) -> None:
    here = make_container(name=unique("here"))
    there = make_remote_container(name=unique("there"))
    started = time.monotonic()
    outcome, sent = two_engines.run(f"ps --host all --filter label={LABEL}")
    elapsed = time.monotonic() - started
    parts = by_host(sent.last)
    assert list(parts) == ["local", "edge", "dead", "silent"]  # config order, one part each
    assert here.name in parts["local"] and there.name not in parts["local"]
    assert there.name in parts["edge"] and here.name not in parts["edge"]
    assert "unreachable (no socket at that path)" in parts["dead"]
    assert f"unreachable (no answer within {SILENT_TIMEOUT} s)" in parts["silent"]
    # The silent host costs its own deadline and no more; the others answered meanwhile.
    assert SILENT_TIMEOUT - 0.1 < elapsed < SILENT_TIMEOUT + 2
    assert outcome.result == "error"  # two hosts gave no answer: the audit says so
    assert len(sent.last.blocks) <= MAX_BLOCKS

    # Within the cooldown the dead hosts are not tried again: the answer comes at once.
    started = time.monotonic()
    _, again = two_engines.run(f"-H all ps --filter label={LABEL}")
    assert time.monotonic() - started < 1.0
    parts = by_host(again.last)
    assert "retried in" in parts["silent"] and "retried in" in parts["dead"]
    assert there.name in parts["edge"]
    # A one-host command on a host in its cooldown is refused at once, not left to hang.
    started = time.monotonic()
    outcome, single = two_engines.run("--host silent ps")
    assert time.monotonic() - started < 1.0
    assert "Host `silent` is unreachable" in single.last.text and outcome.result == "error"


def test_a_host_is_tried_again_after_its_cooldown(multi: Callable[[str], Bot]) -> None:
    bot = multi(hosts_toml(local=LOCAL, dead=closed_port_url()))
    bot.run("ps --host all")
    _, cooling = bot.run("ps --host all")
    assert "retried in" in by_host(cooling.last)["dead"]
    dead = bot.services.hosts.engines["dead"]
    assert isinstance(dead, HostEngine)
    dead.cooldown = 0.2
    wait_for(lambda: not dead.down_reason(), timeout=5, what="the cooldown to end")
    _, retried = bot.run("ps --host all")
    part = by_host(retried.last)["dead"]
    assert "unreachable (connection refused)" in part and "retried in" not in part


def test_images_df_version_info_answer_per_host(two_engines: Bot) -> None:
    for text, marker in (("images --host local,edge", "dockops-test/busybox"),
                         ("--host local,edge system df", "Build Cache"),
                         ("version -H local,edge", "Docker Engine"),
                         ("--host=local,edge info", "Server Version")):
        outcome, sent = two_engines.run(text)
        parts = by_host(sent.last)
        assert list(parts) == ["local", "edge"], text
        assert all(marker in part for part in parts.values()), (text, parts)
        assert outcome.ok, text


def test_an_unknown_host_name_is_refused_with_the_list_of_hosts(two_engines: Bot) -> None:
    for text in ("ps --host local,nope", "-H nope stop x"):
        outcome, sent = two_engines.run(text)
        assert outcome.result == "invalid"
        assert "No host named `nope`" in sent.last.text
        assert "`local`, `edge`, `dead`, `silent`" in raw(sent)


# -- writes: exactly one host -------------------------------------------------------------------

def test_writes_target_the_named_engine(two_engines: Bot, docker_client: docker.DockerClient,
                                        second_engine: SecondEngine) -> None:
    check_writes_reach(two_engines, "edge", second_engine, docker_client)


def test_a_write_on_several_hosts_is_refused_listing_them_and_nothing_changes(
        two_engines: Bot, make_remote_container) -> None:
    container = make_remote_container()
    for text in (f"--host all stop {container.name}", f"-H local,edge stop {container.name}"):
        outcome, sent = two_engines.run(text)
        assert outcome.result == "invalid", sent.text()
        assert "acts on exactly one host" in sent.last.text
        assert "`local`" in sent.last.text and "`edge`" in sent.last.text
    container.reload()
    assert container.status == "running"


def test_without_a_default_host_reads_fan_out_and_writes_ask_which(
        multi: Callable[[str], Bot], second_engine: SecondEngine, make_remote_container) -> None:
    bot = multi(hosts_toml(local=LOCAL, edge=second_engine.socket_url))
    container = make_remote_container()
    _, sent = bot.run(f"ps --filter label={LABEL}")
    parts = by_host(sent.last)
    assert list(parts) == ["local", "edge"] and container.name in parts["edge"]
    outcome, sent = bot.run(f"stop {container.name}")
    assert not outcome.ok
    assert "say which one `stop` is for" in sent.last.text
    assert "`local`, `edge`" in raw(sent) and "channel_hosts" in raw(sent)
    container.reload()
    assert container.status == "running"


def test_a_channel_default_host_picks_the_engine(
        multi: Callable[[str], Bot], second_engine: SecondEngine, make_container,
        make_remote_container) -> None:
    extra = '[slack]\nchannel_hosts = { C0EDGE = "edge" }\n'
    bot = multi(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url,
                           extra=extra))
    here, there = make_container(), make_remote_container()
    _, in_edge = bot.run(f"ps --filter label={LABEL}", user="U0VIEW", source="slack",
                         channel="C0EDGE")
    assert there.name in in_edge.text() and here.name not in in_edge.text()
    _, elsewhere = bot.run(f"ps --filter label={LABEL}", user="U0VIEW", source="slack",
                           channel="C0OPS")
    assert here.name in elsewhere.text() and there.name not in elsewhere.text()
    _, explicit = bot.run(f"--host local ps --filter label={LABEL}", user="U0VIEW",
                          source="slack", channel="C0EDGE")
    assert here.name in explicit.text()  # --host wins over the channel's default
    outcome, _ = bot.run(f"stop -t 0 {there.name}", user="U0OPER", source="slack",
                         channel="C0EDGE")
    assert outcome.ok
    there.reload()
    assert there.status == "exited"


def test_host_less_commands_ignore_an_ambiguous_or_restricted_default(
        multi: Callable[[str], Bot], second_engine: SecondEngine, make_remote_container) -> None:
    extra = ('[hosts.edge.roles]\nadmin = []\noperator = []\n'
             '[slack]\nchannel_hosts = { C0EDGE = "edge" }\n')
    bot = multi(hosts_toml(local=LOCAL, edge=second_engine.socket_url, extra=extra))
    for text, user in (("help", "U0VIEW"), ("audit", "U0ADMIN"), ("help ps", "U0ADMIN")):
        outcome, sent = bot.run(text, user=user, source="slack", channel="C0EDGE")
        assert outcome.ok, (text, sent.text())
        outcome, sent = bot.run(text, user=user, source="slack", channel="C0OPS")
        assert outcome.ok, (text, sent.text())
    there = make_remote_container()
    # The channel's default host is restricted: the admin's stop there is refused, untouched.
    outcome, sent = bot.run(f"stop {there.name}", user="U0ADMIN", source="slack",
                            channel="C0EDGE")
    assert outcome.result == "refused", sent.text()
    assert "on host `edge` needs the operator role; you have no role there" in sent.last.text
    there.reload()
    assert there.status == "running"


# -- roles per host -----------------------------------------------------------------------------

def test_a_host_role_override_makes_writes_admin_only_there(
        multi: Callable[[str], Bot], second_engine: SecondEngine, make_container,
        make_remote_container) -> None:
    extra = '[hosts.edge.roles]\noperator = []\nviewer = ["U0OPER", "U0VIEW"]\n'
    bot = multi(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url,
                           extra=extra))
    here, there = make_container(), make_remote_container()
    outcome, sent = bot.run(f"-H edge stop {there.name}", user="U0OPER", source="slack")
    assert outcome.decision == "refused" and outcome.result == "refused"
    assert "on host `edge` needs the operator role; you have the viewer role there" \
        in sent.last.text
    assert "[hosts.edge.roles]" in sent.text()
    there.reload()
    assert there.status == "running"  # refused before anything reached the engine
    outcome, sent = bot.run(f"-H edge ps --filter label={LABEL}", user="U0OPER", source="slack")
    assert outcome.ok and there.name in sent.text()  # reads still allowed
    outcome, _ = bot.run(f"-H local stop -t 0 {here.name}", user="U0OPER", source="slack")
    assert outcome.ok  # the global lists still hold on the other hosts
    outcome, _ = bot.run(f"-H edge stop -t 0 {there.name}", user="U0ADMIN", source="slack")
    assert outcome.ok
    there.reload()
    assert there.status == "exited"


def test_role_for_host_replaces_only_the_roles_the_host_names() -> None:
    config = parse_file(ACCESS + '[hosts.prod]\nurl = "unix:///x.sock"\n'
                                 '[hosts.prod.roles]\nadmin = ["U0OPER"]\noperator = []\n')
    prod, access = config.hosts["prod"], config.access
    oper, view = Actor("U0OPER"), Actor("U0VIEW")
    assert role_for_host(oper, prod, access) == Role.ADMIN
    assert role_for_host(Actor("U0ADMIN"), prod, access) == Role.NONE  # admin list replaced
    assert role_for_host(view, prod, access) == Role.VIEWER  # viewer list kept
    assert role_for_host(oper, None, access) == Role.OPERATOR  # no override: global lists
    assert role_for_host(Actor("console", source="console"), prod, access) == Role.ADMIN


# -- /docker hosts ------------------------------------------------------------------------------

def test_hosts_lists_each_host_with_version_containers_and_reachability(
        multi: Callable[[str], Bot], second_engine: SecondEngine,
        make_remote_container) -> None:
    make_remote_container()
    bot = multi(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url,
                           dead=DEAD, refused=closed_port_url()))
    outcome, sent = bot.run("hosts", user="U0VIEW", source="slack")
    assert outcome.ok
    text = sent.text()
    with contextlib.closing(second_engine.client()) as remote:
        info = remote.info()
    assert f"edge  {second_engine.socket_url}" in text
    assert f"{info['ContainersRunning']} of {info['Containers']} containers running" in text
    assert f"Engine {info['ServerVersion']}" in text
    assert "local (default)" in text
    assert "dead  unix:///nonexistent-dockops.sock\nunreachable (no socket at that path)" in text
    assert "refused  tcp://127.0.0.1:" in text and "unreachable (connection refused)" in text
    assert "Docker hosts: 2 of 4 reachable" in text


# -- scheduled jobs' entry point -----------------------------------------------------------------

def test_select_gives_engines_in_order_and_names_unknown_hosts(
        multi: Callable[[str], Bot], second_engine: SecondEngine) -> None:
    hosts = multi(hosts_toml(local=LOCAL, edge=second_engine.socket_url)).services.hosts
    assert [e.name for e in hosts.select(["edge", "local"])] == ["edge", "local"]
    assert [e.name for e in hosts.select([])] == ["local", "edge"]  # default: every host
    with pytest.raises(UsageError) as refused:
        hosts.select(["edge", "prod"])
    assert "No host named `prod`" in refused.value.message
    assert "`local`, `edge`" in refused.value.detail


def test_without_hosts_configured_there_is_one_local_host(make_pipeline: Callable[..., Bot]
                                                          ) -> None:
    hosts = make_pipeline(docker_host=LOCAL).services.hosts
    assert hosts.names == ["local"] and hosts.default == "local"
    assert hosts.get().url == LOCAL


def test_hosts_never_shows_a_password_from_docker_host(make_pipeline: Callable[..., Bot]
                                                      ) -> None:
    url = closed_port_url().replace("tcp://", "tcp://deploy:s3cret@")
    outcome, sent = make_pipeline(docker_host=url).run("hosts")
    assert outcome.ok and "s3cret" not in raw(sent)
    assert "tcp://deploy:********@127.0.0.1" in raw(sent)


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "says"), [
    ('[hosts.all]\nurl = "unix:///x.sock"', "not `all`"),
    ('[hosts.prod]\nurl = "http://prod:2375"', "is not a Docker host URL"),
    ('[hosts.prod]\nurl = "ssh://deploy:s3cret@prod"', "the URL holds a password"),
    ('[hosts.prod]\nurl = "ssh://deploy@prod"\ntimeout = 0', "must be at least 1"),
    ('[hosts.prod]\nurl = "ssh://deploy@prod"\ntls_ca = "/etc/hostname"',
     "apply to tcp:// URLs only"),
    ('[hosts.prod]\nurl = "tcp://prod:2376"\ntls_cert = "/etc/hostname"',
     "needs both tls_cert and tls_key"),
    ('[hosts.prod]\nurl = "tcp://prod:2376"\ntls_ca = "/nonexistent/ca.pem"', "is not a file"),
    ('[hosts.a]\nurl = "unix:///a.sock"\ndefault = true\n[hosts.b]\nurl = "unix:///b.sock"\n'
     "default = true", "set it on one host"),
    ('[hosts.a]\nurl = "unix:///a.sock"\n[slack]\nchannel_hosts = { C0OPS = "b" }',
     "names no host: use one of a"),
    ('[slack]\nchannel_hosts = { ops = "local" }', "is not a channel ID"),
    ('[hosts.a]\nurl = "unix:///a.sock"\n[hosts.a.roles]\nadmin = ["bob"]', "not a Slack ID"),
])
def test_host_config_mistakes_are_one_clear_line(toml: str, says: str) -> None:
    with pytest.raises(DockopsError) as mistake:
        parse_file(toml)
    assert says in mistake.value.detail


# -- the grouped view's limits -------------------------------------------------------------------

def test_many_hosts_with_long_tables_stay_within_slack_limits() -> None:
    table = "\n".join(f"row {i} " + "x" * 60 for i in range(200))
    answers = [HostAnswer(f"h{i}", f"unix:///h{i}.sock", Message(
        text=f"200 rows on h{i}", blocks=({"type": "section", "text": {
            "type": "mrkdwn", "text": f"```{table[:2800]}```"}},),
        attachment=Attachment("ps.txt", table.encode()))) for i in range(60)]
    answers.append(HostAnswer("down", "unix:///down.sock", error="unreachable (timed out)",
                              unreachable=True))
    message = grouped("docker ps", answers, filename="ps-by-host.txt")
    assert len(message.blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in message.blocks
               if b["type"] == "section")
    assert message.attachment is not None
    combined = message.attachment.content.decode()
    assert all(f"### h{i} (unix:///h{i}.sock)" in combined for i in range(60))
    assert "### down (unix:///down.sock)\nunreachable (timed out)" in combined
    assert combined.count("row 199") == 60
    assert not message.ok


# -- end to end through Slack --------------------------------------------------------------------

def test_ps_host_all_through_slack_answers_grouped(
        start_bot: Callable[..., BotProcess], second_engine: SecondEngine, make_container,
        make_remote_container) -> None:
    here, there = make_container(), make_remote_container()
    bot = start_bot(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url,
                               dead=DEAD))
    answer = bot.command(f"ps --host all --filter label={LABEL}", user_id="U0VIEW")
    assert answer.status == 200 and answer.ack_seconds < 3
    body = bot.answers(answer)[0]
    text = answer_text(body)
    assert "docker ps* on 3 hosts: 1 without an answer" in text
    assert here.name in text and there.name in text
    # The bot's start-up health check already found it dead: it is not tried again yet.
    assert "unreachable (no socket at that path; " in text
    assert text.index("*local*") < text.index(here.name) < text.index("*edge*") \
        < text.index(there.name) < text.index("*dead*")
