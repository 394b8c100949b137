"""Text from users and containers never becomes a mention or a link: every view escapes it.

No Docker Engine: results, notices and errors are generated here (hypothesis) and each view's
Slack payload (`fit`, what the responders send) is searched for live entities. The console
still shows the original characters.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import TABLE, parse
from bot.engine import results as r
from bot.engine.rmi import RmiPlan
from bot.errors import DockopsError, EngineError, NoSuchContainer, RefusedError, UsageError
from bot.jobs import notices as n
from bot.mrkdwn import Mrkdwn, cut, cut_end, escape, md, unescape, user_mention
from bot.policy import Actor, authorize
from bot.store import AuditRow
from bot.store.jobs import JobRun
from bot.views import (
    audit,
    build,
    confirm,
    containers,
    hosts,
    images,
    jobs,
    lifecycle,
    networks,
    problems,
    prunes,
    registry,
    remove,
    system,
    volumes,
)
from bot.views.limits import MAX_FALLBACK_TEXT, clip_mrkdwn, fit
from bot.views.message import Attachment, Message
from bot.views.terminal import render
from tests.conftest import ACCESS
from tests.slack_standin import validate_blocks

# Mentions the views make themselves, from IDs they are given (never from text).
OWNER, CHANNEL = "U0OWNER", "C0REPORT"
OWN = re.compile(rf"<@{OWNER}>|<#{CHANNEL}>")
# What Slack turns into a ping, a mention or a link: `<` followed by one of these.
LIVE = re.compile(r"<[!@#]|<(?:https?|mailto|tel|slack):", re.IGNORECASE)
ENTITY = re.compile(r"&(?:amp|lt|gt);")

HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN>", "<#C0OPS>", "<!subteam^S01>",
           "<https://evil.example|Confirm>", "<mailto:a@b.c|mail>", "&", "&amp;", "&lt;", "<",
           ">", "```", "*", "`", "_", "\n", "|", "<<!channel>>", "&lt;!here&gt;"]
text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=8).map("".join)
# Long enough that views and `fit` have to cut (entities must not be split).
long_text = st.builds(lambda unit, times, tail: unit * times + tail,
                      st.sampled_from(HOSTILE), st.integers(0, 1200), text)
hostile = st.one_of(text, text, long_text)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a field type of a result/notice dataclass: every str is hostile."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is str:
        return hostile
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(0, 10**12)
    if tp is float:
        return st.floats(0, 10**6, allow_nan=False)
    if tp is datetime:
        return st.just(NOW - timedelta(hours=3))
    if tp is timedelta:
        return st.just(timedelta(days=2))
    if origin in (Union, types.UnionType):
        return st.one_of(*(_for(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(_for(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*(_for(a) for a in args))
    if origin is dict:
        return st.dictionaries(hostile, hostile if args[1] is str else st.just("x"), max_size=3)
    if tp is Any:
        return st.just({})
    if tp is n.NoticeButtons:  # opaque server-side tokens, never text
        return st.just(n.NoticeButtons("tok-pull", "tok-recreate", "tok-snooze"))
    if dataclasses.is_dataclass(tp):
        return build_of(tp)
    raise TypeError(f"no strategy for {tp!r}")


def build_of(cls: type) -> st.SearchStrategy[Any]:
    hints = get_type_hints(cls)
    return st.builds(cls, **{f.name: _for(hints[f.name]) for f in dataclasses.fields(cls)
                             if f.init})


def _errors() -> st.SearchStrategy[DockopsError]:
    kinds: list[Callable[..., DockopsError]] = [DockopsError, UsageError, RefusedError,
                                                EngineError, NoSuchContainer]
    return st.builds(lambda kind, message, detail: kind(message, detail=detail),
                     st.sampled_from(kinds), hostile, hostile)


def _host_answer() -> st.SearchStrategy[hosts.HostAnswer]:
    one_host = st.builds(containers.logs, build_of(r.LogText), tail=st.just("all"))
    return st.builds(hosts.HostAnswer, hostile, hostile,
                     st.one_of(st.none(), one_host), hostile, st.booleans())


B = build_of
VIEWS: dict[str, st.SearchStrategy[Message]] = {
    "ps": st.builds(containers.ps, st.lists(B(r.ContainerRow), max_size=3), all=st.booleans(),
                    quiet=st.booleans(), host=hostile),
    "logs": st.builds(containers.logs, B(r.LogText), tail=st.sampled_from(["all", "5"])),
    "logs (whole log attached)": st.builds(containers.logs, st.builds(
        r.LogText, hostile, hostile, st.integers(0, 5), st.booleans(), st.integers(6, 10**6),
        st.just(r.Spool("/nonexistent/dockops-log-x.log", 10))), tail=st.just("all")),
    "run pulling": st.builds(lifecycle.run_pulling, hostile,
                             st.one_of(st.none(), B(r.LayerProgress)), missing=st.booleans()),
    "run pulled": st.builds(lifecycle.run_pulled, B(r.PullResult), missing=st.booleans()),
    "run pull failed": st.builds(lifecycle.run_pull_failed, hostile, _errors(),
                                 missing=st.booleans()),
    "inspect": st.builds(containers.inspect, B(r.ContainerDetails)),
    "inspect --raw": st.builds(containers.raw_json, hostile, hostile),
    "inspect --format": st.builds(containers.formatted, hostile, hostile),
    "images": st.builds(images.images, st.lists(B(r.ImageRow), max_size=3),
                        digests=st.booleans(), host=hostile),
    "image inspect": st.builds(images.inspect, B(r.ImageDetails)),
    "system df": st.builds(system.disk_usage, st.lists(B(r.DiskUsageRow), max_size=3), hostile),
    "version": st.builds(system.version, B(r.VersionInfo), hostile),
    "info": st.builds(system.info, B(r.EngineInfo), hostile),
    "run -d": st.builds(lifecycle.started, B(r.Started), host=hostile),
    "run": st.builds(lifecycle.attached, B(r.Attached), wait_seconds=st.just(30.0),
                     host=hostile),
    "stop": st.builds(lifecycle.done, st.sampled_from(["stop", "rm"]),
                      st.lists(B(r.Done), min_size=1, max_size=3), host=hostile),
    "exec": st.builds(lifecycle.exec_result, B(r.ExecResult), wait_seconds=st.just(30.0)),
    "follow": st.builds(lifecycle.follow, hostile, hostile, follow_id=st.just("0123abcd"),
                        live=st.booleans(), note=hostile, stop_token=st.just("tok")),
    "follow transcript": st.builds(lifecycle.follow_transcript, hostile, hostile,
                                   cut=st.booleans()),
    "follows": st.builds(lifecycle.open_follows, st.lists(st.tuples(
        hostile, hostile, st.sampled_from([OWNER, "console:<!here>"]), st.just(5.0)),
        max_size=3)),
    "follow stopped": st.builds(lifecycle.follow_stopped, hostile, hostile),
    "follow gone": st.builds(lifecycle.follow_gone, hostile),
    "cp out": st.builds(lambda c, p, s, f: lifecycle.copied_out(c, p, s, Attachment(f, b"x")),
                        hostile, hostile, B(r.PathStat), hostile),
    "cp in": st.builds(lifecycle.copied, hostile, hostile, st.integers(0, 9),
                       st.integers(0, 9)),
    "recreate preview": st.builds(lifecycle.recreate_preview, st.lists(
        st.tuples(hostile, hostile, hostile), max_size=3), pull=st.booleans(), host=hostile),
    "recreate": st.builds(lifecycle.recreate_report, st.lists(B(n.RecreatedContainer),
                                                              max_size=3), host=hostile),
    "rm preview": st.builds(remove.rm_preview, st.lists(B(r.Target), max_size=3),
                            force=st.booleans(), volumes=st.booleans()),
    "kill preview": st.builds(remove.signal_preview, st.just("kill"),
                              st.lists(B(r.Target), max_size=3), hostile,
                              signal=st.one_of(st.none(), hostile)),
    "rmi preview": st.builds(remove.rmi_preview, st.lists(st.builds(
        RmiPlan, B(r.ImageTarget), st.sampled_from(["untag", "delete", "untag-keep"])),
        max_size=3), force=st.booleans(), no_prune=st.booleans()),
    "rmi": st.builds(remove.rmi_result, st.lists(st.tuples(
        hostile, st.lists(hostile, max_size=2), st.lists(hostile, max_size=2), hostile),
        max_size=3)),
    "prune preview": st.builds(remove.prune_preview, B(r.PrunePlan)),
    "prune": st.builds(remove.prune_result, B(r.PruneResult), B(r.PrunePlan)),
    "building": st.builds(build.building, hostile, hostile,
                          st.one_of(st.none(), B(r.BuildProgress))),
    "built": st.builds(build.built, B(r.BuildResult), hostile, hostile),
    "build failed": st.builds(build.failed, B(r.BuildResult), hostile, hostile),
    "build stopped": st.builds(build.interrupted, hostile, hostile, _errors()),
    "tag": st.builds(registry.tagged, hostile, hostile),
    "pushing": st.builds(registry.pushing, hostile,
                         st.one_of(st.none(), B(r.LayerProgress))),
    "pushed": st.builds(registry.pushed, B(r.PushResult)),
    "push failed": st.builds(registry.push_failed, hostile, _errors()),
    "pull": st.builds(registry.pulled, B(r.PullResult),
                      stale=st.lists(hostile, max_size=2), recreate_token=st.just("tok")),
    "login": st.builds(registry.logged_in, B(r.LoginResult), hostile, hostile),
    "logout": st.builds(registry.logged_out, hostile, st.booleans(), hostile),
    "notice": st.one_of(*(st.builds(jobs.render, B(kind)) for kind in (
        n.UpdateAvailable, n.Pulled, n.Recreated, n.PullFailed, n.CheckFailed, n.HostFailed,
        n.UpdateSummary, n.PruneDryRun, n.PruneReport, n.JobFailed, n.UpdateApplied,
        n.UpdatesPending))),
    "jobs": st.builds(jobs.job_list, st.lists(st.tuples(*[hostile] * 6), max_size=3), hostile),
    "jobs history": st.builds(jobs.history, hostile, st.lists(B(JobRun), max_size=3)),
    "jobs run": st.builds(jobs.run_queued, hostile, st.sampled_from([CHANNEL, "<!here>"]),
                          st.none()),
    "jobs finished": st.builds(jobs.run_finished, hostile, hostile, hostile, st.integers(0, 3)),
    "jobs pause": st.builds(jobs.paused, hostile),
    "jobs resume": st.builds(jobs.resumed, hostile, st.none()),
    "error": st.builds(problems.error, _errors()),
    "confirm": st.builds(lambda preview, requester: confirm.request(
        preview, token="tok", requester=user_mention(requester), ttl_seconds=300,
        expires=NOW.timestamp()), st.builds(confirm.generic_preview, hostile, hostile),
        st.sampled_from([OWNER, "<!channel>"])),
    "confirmed": st.builds(confirm.confirmed, st.one_of(st.none(), st.builds(
        containers.logs, B(r.LogText), tail=st.just("all"))), hostile, hostile),
    "cancelled": st.builds(confirm.cancelled, hostile, hostile),
    "expired": st.builds(confirm.expired, hostile, st.just(300.0)),
    "hosts answer": st.builds(hosts.grouped, hostile, st.lists(_host_answer(), max_size=3),
                              filename=st.just("out.txt")),
    "hosts": st.builds(hosts.hosts_list, st.lists(B(hosts.HostStatus), max_size=3)),
    "audit": st.builds(audit.trail, st.lists(B(AuditRow), max_size=3), user_id=hostile,
                       limit=st.just(20)),
}
VIEWS.update({
    "network ls": st.builds(networks.network_ls, st.lists(B(r.NetworkRow), max_size=3),
                            quiet=st.booleans(), no_trunc=st.booleans(),
                            template=st.sampled_from([None, "table {{.Name}}\\t{{.Labels}}"])),
    "network rm preview": st.builds(networks.network_rm_preview,
                                    st.lists(B(r.NetworkRow), max_size=3)),
    "network rm": st.builds(networks.removed, hostile,
                            st.lists(st.tuples(hostile, hostile), max_size=3)),
    "volume ls": st.builds(volumes.volume_ls, st.lists(B(r.VolumeRow), max_size=3),
                           quiet=st.booleans(),
                           template=st.sampled_from([None, "{{.Name}} {{.Labels}}"])),
    "volume rm preview": st.builds(volumes.volume_rm_preview,
                                   st.lists(B(r.VolumeRow), max_size=3), force=st.booleans()),
    "object prune preview": st.builds(prunes.prune_preview, hostile, B(r.ObjectPrunePlan)),
    "object prune": st.builds(prunes.prune_report, hostile, B(r.ObjectPruneReport)),
})
if hasattr(containers, "top") and hasattr(r, "ProcessList"):  # `top` is being added
    VIEWS["top"] = st.builds(
        lambda name, rows: containers.top(r.ProcessList(name, ("PID", "CMD"), tuple(rows))),
        hostile, st.lists(st.tuples(hostile, hostile), max_size=3))


def mrkdwn_texts(message: Message) -> list[str]:
    """Every string Slack reads as mrkdwn in the payload: the fallback text and mrkdwn objects."""
    payload = fit(message)
    found = [payload.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(list(payload.blocks))
    return found


def assert_inert(message: Message) -> None:
    assert validate_blocks(list(fit(message).blocks)) == []
    for text in mrkdwn_texts(message):
        bare = OWN.sub("", text)
        assert not LIVE.search(bare), text
        # Every `&` starts an entity: nothing was left unescaped or cut in half.
        assert "&" not in ENTITY.sub("", bare), text
    assert len(fit(message).text) <= MAX_FALLBACK_TEXT


@pytest.mark.parametrize("view", sorted(VIEWS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_view_lets_a_name_label_command_or_log_line_become_a_mention_or_link(
        view: str, data: st.DataObject) -> None:
    assert_inert(data.draw(VIEWS[view]))


def test_the_audit_channel_line_mentions_only_the_user_and_channel_it_names() -> None:
    row = AuditRow(user_id=OWNER, channel_id=CHANNEL, decision="refused", outcome="refused",
                   text="logs '<!channel>' <https://evil.example|Confirm>", host="<@U0ADMIN>")
    line = audit.line(row)
    assert line.startswith(f":no_entry: <@{OWNER}> in <#{CHANNEL}>: ")
    assert not LIVE.search(OWN.sub("", line))


@settings(max_examples=300, deadline=None)
@given(typed=hostile)
def test_typed_command_text_is_never_echoed_live(typed: str) -> None:
    """Whatever is typed: the usage error, the refusal of a user with no role, the preview."""
    no_role = Actor(OWNER, channel_id="C0ELSE")  # in no role of ACCESS
    access = __import__("bot.config", fromlist=["parse_file"]).parse_file(ACCESS).access
    for command in (typed, f"logs {typed}", f"rm {typed}", f"inspect --format {typed} web"):
        try:
            authorize(parse(command, TABLE), no_role, access)
        except DockopsError as exc:
            assert_inert(problems.error(exc))
        assert_inert(confirm.generic_preview(command))
        assert_inert(confirm.cancelled(command, no_role.display))
        assert_inert(audit.trail([AuditRow(user_id=typed, decision="ok", outcome="ok",
                                           text=command)], user_id=typed, limit=5))


# -- the console shows what was there --------------------------------------------------------

NAME = "a&b<c>&amp;<!channel>"


def test_the_console_shows_the_original_characters_of_names_logs_and_errors() -> None:
    log = containers.logs(r.LogText(NAME, f"{NAME}\nline 2\n", 2), tail="all")
    shown = render(log)
    assert f"Logs of {NAME}" in shown and f"{NAME}\nline 2" in shown
    assert f"No such container: {NAME}" in render(problems.error(
        NoSuchContainer(f"No such container: {NAME}")))
    assert log.text == escape(f"Logs of {NAME} (all lines)")


def test_untagged_images_read_none_escaped_in_slack_and_plain_in_the_console() -> None:
    rows = [r.ImageRow("sha256:" + "ef" * 32, "<none>", "<none>", "", NOW, 5_300_000)]
    message = images.images(rows)
    assert "&lt;none&gt;       &lt;none&gt;" in fit(message).blocks[1]["text"]["text"]
    assert "<none>       <none>" in render(message)


# -- the pieces ----------------------------------------------------------------------------

def test_md_escapes_values_and_keeps_markup_and_numbers() -> None:
    name = "<!here>&"
    assert md("`{}` exited with {}", name, 3) == "`&lt;!here&gt;&amp;` exited with 3"
    assert md("{} said {:.1f}", user_mention("U123"), 2.25) == "<@U123> said 2.2"
    assert md("{}", md("{}", name)) == "&lt;!here&gt;&amp;"  # never escaped twice
    assert user_mention("<!channel>") == "&lt;!channel&gt;"  # not an ID: text


def test_markup_plus_text_escapes_the_text() -> None:
    joined = Mrkdwn(", ").join(["<a>", Mrkdwn("<@U1>")])
    assert joined == "&lt;a&gt;, <@U1>" and isinstance(joined, Mrkdwn)
    assert Mrkdwn("*x*") + "<y>" == "*x*&lt;y&gt;"
    assert "<y>" + Mrkdwn("*x*") == "&lt;y&gt;*x*"
    assert unescape(escape("&lt; <>")) == "&lt; <>"


@given(value=hostile, length=st.integers(0, 80))
def test_cutting_never_splits_an_entity(value: str, length: int) -> None:
    escaped = escape(value)
    for piece in (cut(escaped, length), cut_end(escaped, length),
                  clip_mrkdwn(escaped, max(length, 1))):
        assert "&" not in ENTITY.sub("", piece)
        assert len(piece) <= max(length, 1)


def test_an_entity_at_the_cut_is_dropped_whole() -> None:
    assert cut(escape("ab&c"), 4) == "ab"  # `ab&amp;c` would be `ab&a`
    assert cut_end(escape("a&bc"), 5) == "bc"
    assert clip_mrkdwn(escape("&" * 100), 12) == "&amp;&amp;…"


def test_the_fallback_text_is_escaped_and_short() -> None:
    message = Message(text="<!channel> " + "x" * 1000)
    fitted = fit(message)
    assert fitted.text.startswith("&lt;!channel&gt; x") and len(fitted.text) <= MAX_FALLBACK_TEXT
