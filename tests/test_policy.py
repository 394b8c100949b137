"""Roles: who may run which command class, from which channel, and how a refusal reads."""

from __future__ import annotations

import logging
from collections.abc import Callable

import docker
import pytest
from slack_sdk import WebClient

from bot.commands import TABLE, parse
from bot.config import parse_file
from bot.errors import RefusedError
from bot.handlers import Context
from bot.pipeline import Pipeline
from bot.policy import Actor, authorize, group_ids, role_of
from bot.roles import Role
from bot.slack.identity import UserGroups
from bot.views.message import Message
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS, MakePipeline
from tests.slack_standin import SlackStandIn

ACCESS_CONFIG = parse_file(ACCESS).access
USERS = {Role.NONE: "U0NOBODY", Role.VIEWER: "U0VIEW", Role.OPERATOR: "U0OPER",
         Role.ADMIN: "U0ADMIN"}

# The issue's lists: viewer < operator < admin, each with the commands it adds.
EXPECTED_ROLES = {
    Role.VIEWER: ["ps", "images", "logs", "inspect", "image inspect", "system df", "version",
                  "info", "hosts", "jobs", "jobs history"],
    Role.OPERATOR: ["run", "start", "stop", "restart", "kill", "attach", "exec", "pull", "tag"],
    Role.ADMIN: ["rm", "rmi", "image prune", "build", "push", "login", "logout", "jobs run",
                 "jobs pause", "jobs resume", "audit"],
}
# Flags and arguments that raise the role: `logs -f` and `cp` out are operator, `cp` in admin.
TYPED_ROLES = [("logs web", Role.VIEWER), ("logs -f web", Role.OPERATOR),
               ("cp web:/etc/hostname -", Role.OPERATOR), ("cp web:/etc ./out", Role.OPERATOR),
               ("cp - web:/tmp", Role.ADMIN), ("cp ./dir/. web:/test", Role.ADMIN)]


@pytest.mark.parametrize(("role", "name"), [(role, name) for role, names in EXPECTED_ROLES.items()
                                            for name in names])
def test_every_command_class_needs_the_role_the_issue_gives_it(role: Role, name: str) -> None:
    assert TABLE[name].role == role


@pytest.mark.parametrize(("text", "role"), TYPED_ROLES)
def test_typed_flags_and_copy_direction_set_the_role(text: str, role: Role) -> None:
    invocation = parse(text, TABLE)
    assert invocation.command.required_role(invocation) == role


@pytest.mark.parametrize(("actor", "role"), [
    (Actor("U0ADMIN"), Role.ADMIN),
    (Actor("U0OPER"), Role.OPERATOR),
    (Actor("U0VIEW"), Role.VIEWER),
    (Actor("U0NOBODY"), Role.NONE),
    (Actor("U0NOBODY", channel_id="C0DEVS"), Role.VIEWER),  # a channel entry gives its members
    (Actor("U0OPER", channel_id="C0DEVS"), Role.OPERATOR),  # the highest role wins
    (Actor("U0NOBODY", groups=frozenset({"S0OPSLEADS"})), Role.ADMIN),
    (Actor("U0VIEW", groups=frozenset({"S0OTHER"})), Role.VIEWER),
    (Actor("console:root", source="console"), Role.ADMIN),
    (Actor("jobs", source="scheduler"), Role.ADMIN),
])
def test_an_actor_gets_the_highest_role_any_entry_gives(actor: Actor, role: Role) -> None:
    assert role_of(actor, ACCESS_CONFIG) == role


def test_default_and_console_roles_come_from_the_config() -> None:
    access = parse_file('[access]\ndefault_role = "viewer"\nconsole_role = "operator"\n').access
    assert role_of(Actor("U0ANYONE"), access) == Role.VIEWER
    assert role_of(Actor("console:me", source="console"), access) == Role.OPERATOR


def test_only_user_group_entries_are_looked_up() -> None:
    assert group_ids(ACCESS_CONFIG) == {"S0OPSLEADS"}
    assert group_ids(None) == frozenset()


def test_a_refusal_names_the_role_needed_and_the_role_held() -> None:
    with pytest.raises(RefusedError) as refused:
        authorize(parse("rm web", TABLE), Actor("U0OPER"), ACCESS_CONFIG)
    assert refused.value.message == "`rm` needs the admin role; you have the operator role."
    assert "U0OPER" in refused.value.detail and "[access.roles] admin" in refused.value.detail
    with pytest.raises(RefusedError) as refused:
        authorize(parse("logs -f web", TABLE), Actor("U0NOBODY"), ACCESS_CONFIG)
    assert refused.value.message == "`logs -f web` needs the operator role; you have no role."


def test_a_fresh_install_lets_nobody_in_slack_and_says_which_key(make_pipeline: MakePipeline
                                                                  ) -> None:
    run = make_pipeline(access="")
    refused, slack = run("ps", user="U0ADMIN", source="slack")
    assert refused.result == "refused"
    assert "nobody has a role" in slack.text() and "[access]" in slack.text()
    assert run("version", user="console:me")[0].ok


# -- every role x command class through the real pipeline --------------------------------

# Commands of each class (destructive ones included: the preview counts as reaching the engine).
CLASS_COMMANDS = {
    Role.VIEWER: ["ps -a", "logs {name}", "inspect {name}"],
    Role.OPERATOR: ["stop -t 0 {name}", "restart {name}", "exec {name} touch /tmp/x",
                    "logs -f {name}", "cp {name}:/etc/hostname -"],
    Role.ADMIN: ["rm -f {name}", "image prune -a", "cp - {name}:/tmp", "jobs run nightly",
                 "audit"],
}


@pytest.fixture
def target(make_container: Callable[..., docker.models.containers.Container]
           ) -> docker.models.containers.Container:
    return make_container("sleep 300")


@pytest.mark.parametrize("held", list(USERS))
@pytest.mark.parametrize("needed", list(CLASS_COMMANDS))
def test_every_role_against_every_command_class(held: Role, needed: Role, run_command,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reached: list[str] = []

    def record(_pipeline: Pipeline, ctx: Context) -> Message:
        reached.append(ctx.invocation.command.name)
        return Message(text="done")

    # Our own seams, not docker-py: what got past the policy, without following logs for 60 s.
    monkeypatch.setattr(Pipeline, "_perform", record)
    monkeypatch.setattr(Pipeline, "_preview", record)
    for template in CLASS_COMMANDS[needed]:
        text = template.format(name="web")
        reached.clear()
        outcome, responder = run_command(text, user=USERS[held], source="slack")
        if held >= needed:
            assert outcome.decision in ("allowed", "pending"), (text, responder.text())
            assert reached == [parse(text, TABLE).command.name]
            continue
        assert (outcome.decision, outcome.result) == ("refused", "refused"), text
        assert reached == []
        has = "no role" if held == Role.NONE else f"the {held.label} role"
        assert f"needs the {needed.label} role; you have {has}." in responder.text()
        assert len(responder.sent) == 1


def test_refused_commands_leave_the_container_running(run_command, target) -> None:
    """The same refusals without any seam patched: the engine is exactly as it was."""
    target.reload()
    started_at = target.attrs["State"]["StartedAt"]
    for text in (f"stop {target.name}", f"kill {target.name}", f"rm -f {target.name}",
                 f"restart {target.name}"):
        outcome, _ = run_command(text, user="U0VIEW", source="slack")
        assert outcome.result == "refused", text
    target.reload()
    assert target.status == "running" and target.attrs["State"]["StartedAt"] == started_at


# -- channels ------------------------------------------------------------------------------

def test_commands_are_refused_outside_the_configured_channels(make_pipeline: MakePipeline
                                                               ) -> None:
    run = make_pipeline(access=ACCESS.replace('console_role = "admin"',
                                              'console_role = "admin"\nchannels = ["C0OPS"]'))
    outcome, elsewhere = run("version", user="U0ADMIN", channel="C0RANDOM", source="slack")
    assert outcome.result == "refused"
    assert "does not take commands in this channel" in elsewhere.text()
    assert "C0RANDOM" in elsewhere.text() and "[access] channels" in elsewhere.text()
    assert run("version", user="U0ADMIN", source="slack")[0].ok
    assert run("version", user="console:me")[0].ok


def test_a_channel_entry_gives_its_role_only_in_that_channel(run_command) -> None:
    inside, _ = run_command("version", user="U0GUEST", channel="C0DEVS", source="slack")
    outside, responder = run_command("version", user="U0GUEST", channel="C0OPS", source="slack")
    assert inside.ok and outside.result == "refused"
    assert "you have no role" in responder.text()


# -- user groups through Slack's usergroups.users.list -------------------------------------

def test_user_group_members_come_from_slack_and_are_cached(slack: SlackStandIn) -> None:
    slack.usergroups["S0OPSLEADS"] = ["U0LEAD"]
    groups = UserGroups(WebClient(token=slack.bot_token, base_url=slack.api_url))
    assert groups.groups_of("U0LEAD", {"S0OPSLEADS"}) == {"S0OPSLEADS"}
    assert groups.groups_of("U0OTHER", {"S0OPSLEADS"}) == frozenset()
    assert len(slack.calls_to("usergroups.users.list")) == 1  # the second answer was cached


def test_a_failed_group_lookup_means_not_a_member_and_is_logged(
        slack: SlackStandIn, caplog: pytest.LogCaptureFixture) -> None:
    slack.usergroups["S0OPSLEADS"] = ["U0LEAD"]
    slack.error_next("usergroups.users.list", "missing_scope")
    clock = [0.0]
    groups = UserGroups(WebClient(token=slack.bot_token, base_url=slack.api_url),
                        clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, "dockops.identity"):
        assert groups.groups_of("U0LEAD", ["S0OPSLEADS"]) == frozenset()
        assert groups.groups_of("U0LEAD", ["S0GONE"]) == frozenset()  # no_such_subteam
    assert "missing_scope" in caplog.text and "no_such_subteam" in caplog.text
    assert groups.groups_of("U0LEAD", ["S0OPSLEADS"]) == frozenset()  # not asked again yet
    clock[0] += groups.failure_ttl + 1  # a failure is retried sooner than a success
    assert groups.groups_of("U0LEAD", {"S0OPSLEADS"}) == {"S0OPSLEADS"}


def test_a_user_group_gives_its_role_over_slack(start_bot: Callable[..., BotProcess],
                                                slack: SlackStandIn) -> None:
    slack.usergroups["S0OPSLEADS"] = ["U0LEAD"]
    bot = start_bot()
    lead = bot.ask("audit -n 1", user_id="U0LEAD")
    assert "audit rows" in answer_text(lead).lower(), answer_text(lead)
    outsider = bot.ask("audit -n 1", user_id="U0OUTSIDER")
    assert "needs the admin role; you have no role" in answer_text(outsider)
    assert len(slack.calls_to("usergroups.users.list")) == 1  # cached across the two commands


def test_refused_over_slack_says_why_and_changes_nothing(bot_server: BotProcess,
                                                         target) -> None:
    answer = bot_server.ask(f"rm -f {target.name}", user_id="U0OPER")
    assert "`rm` needs the admin role; you have the operator role." in answer_text(answer)
    assert answer["response_type"] == "in_channel"
    target.reload()
    assert target.status == "running"
