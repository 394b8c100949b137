"""Confirmations: destructive commands preview first, act once on Confirm, never after expiry."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from sqlalchemy import select

from bot.commands import TABLE, parse
from bot.errors import RefusedError
from bot.handlers import HANDLERS, PREVIEWS, Context
from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.store import AuditRow, Confirmations, ConfirmationTable, Store
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION
from tests.bot_rig import BotProcess, answer_text
from tests.confirm_support import rm_command  # noqa: F401  (rm_command: a fixture)
from tests.conftest import ACCESS, MakePipeline
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, RecordingResponder, container_exists, wait_for

# A second admin, to confirm someone else's command.
CONFIRM_ACCESS = ACCESS.replace('admin = ["U0ADMIN", "S0OPSLEADS"]',
                                'admin = ["U0ADMIN", "U0BOSS", "S0OPSLEADS"]')
ADMIN = Actor("U0ADMIN", "C0OPS")
BOSS = Actor("U0BOSS", "C0OPS")
OPERATOR = Actor("U0OPER", "C0OPS")
VIEWER = Actor("U0VIEW", "C0OPS")
Make = Callable[..., docker.models.containers.Container]


@pytest.fixture
def pipeline(make_pipeline: MakePipeline, rm_command: bool) -> Pipeline:  # noqa: F811
    return make_pipeline(access=CONFIRM_ACCESS).pipeline


@pytest.fixture
def stopped(make_container: Make) -> docker.models.containers.Container:
    return make_container("true", start=False)


def buttons(message: dict[str, Any] | Any) -> dict[str, str]:
    """action_id -> value of every button in a message (a Message or a Slack body)."""
    found = message.blocks if hasattr(message, "blocks") else message.get("blocks", [])
    return {e["action_id"]: e["value"] for b in found if b["type"] == "actions"
            for e in b["elements"]}


def preview(pipeline: Pipeline, text: str, actor: Actor = ADMIN) -> Outcome:
    outcome = pipeline.execute(text, actor, RecordingResponder())
    assert outcome.awaiting_confirmation, outcome.message
    return outcome


def state_of(pipeline: Pipeline, token: str) -> str:
    pending = pipeline.confirmations.get(token)
    assert pending is not None
    return pending.state


def audit(pipeline: Pipeline) -> list[tuple[str, str, str]]:
    """(user, decision, outcome) of every audit row, oldest first."""
    return [(r.user_id, r.decision, r.outcome)
            for r in reversed(pipeline.services.store.audit_rows(limit=100))]


@pytest.mark.parametrize(("text", "destructive"), [
    ("rm web", True), ("rm -f web", True), ("rmi app:1", True), ("rmi -f app:1", True),
    ("image prune", True), ("image prune -a", True), ("kill web", True),
    ("stop web api", True), ("stop web", False), ("restart web api", False), ("ps -a", False),
])
def test_which_commands_ask_for_a_confirmation(text: str, destructive: bool) -> None:
    invocation = parse(text, TABLE)
    assert invocation.command.is_destructive(invocation) is destructive


def test_rm_answers_with_a_preview_and_two_buttons_and_removes_nothing(
        pipeline: Pipeline, stopped, docker_client) -> None:
    responder = RecordingResponder()
    outcome = pipeline.execute(f"rm {stopped.name}", ADMIN, responder)
    assert (outcome.decision, outcome.result) == ("pending", "preview")
    [message] = responder.sent
    assert buttons(message) == {CONFIRM_ACTION: outcome.token, CANCEL_ACTION: outcome.token}
    shown = json.dumps(message.blocks)
    assert stopped.name in shown and "Only <@U0ADMIN> or an admin" in shown
    assert container_exists(docker_client, stopped.id)
    pending = pipeline.confirmations.get(outcome.token)
    assert pending is not None and pending.state == "pending"
    assert (pending.requester, pending.channel, pending.text) == ("U0ADMIN", "C0OPS",
                                                                  f"rm {stopped.name}")
    assert 599 < pending.expires - pending.created <= 600  # limits.confirm_ttl_seconds


def test_confirm_by_the_requester_runs_it_and_replaces_the_preview(
        pipeline: Pipeline, stopped, docker_client) -> None:
    outcome = preview(pipeline, f"rm {stopped.name}")
    replace, private = RecordingResponder(), RecordingResponder()
    done = pipeline.decide(outcome.token, ADMIN, replace, confirm=True, private=private)
    assert done.ok and not container_exists(docker_client, stopped.id)
    assert private.sent == [] and len(replace.sent) == 1
    assert "Confirmed by <@U0ADMIN>" in replace.text() and stopped.name in replace.text()
    assert buttons(replace.last) == {}
    assert state_of(pipeline, outcome.token) == "confirmed"
    assert audit(pipeline) == [("U0ADMIN", "pending", "preview"),
                               ("U0ADMIN", "allowed", "confirmed"),
                               ("U0ADMIN", "allowed", "ok")]


def test_cancel_replaces_the_preview_and_removes_nothing(pipeline: Pipeline, stopped,
                                                         docker_client) -> None:
    outcome = preview(pipeline, f"rm {stopped.name}")
    replace = RecordingResponder()
    done = pipeline.decide(outcome.token, ADMIN, replace, confirm=False)
    assert done.result == "cancelled"
    assert f"Cancelled by <@U0ADMIN>: docker rm {stopped.name} was not run." in replace.text()
    assert container_exists(docker_client, stopped.id)
    # A later Confirm on the same preview does nothing either.
    later = RecordingResponder()
    assert pipeline.decide(outcome.token, ADMIN, later, confirm=True).result == "ignored"
    assert "Already cancelled by <@U0ADMIN>" in later.text()
    assert container_exists(docker_client, stopped.id)


def test_an_admin_may_confirm_someone_elses_command(pipeline: Pipeline, stopped,
                                                    docker_client) -> None:
    outcome = preview(pipeline, f"rm {stopped.name}")
    replace = RecordingResponder()
    assert pipeline.decide(outcome.token, BOSS, replace, confirm=True).ok
    assert "Confirmed by <@U0BOSS>" in replace.text()
    assert not container_exists(docker_client, stopped.id)
    # The command ran as the confirmer: that is who the audit names for it.
    assert audit(pipeline)[-1] == ("U0BOSS", "allowed", "ok")


@pytest.mark.parametrize("confirm", [True, False])
def test_a_click_by_someone_not_allowed_answers_privately_and_changes_nothing(
        pipeline: Pipeline, stopped, docker_client, confirm: bool) -> None:
    outcome = preview(pipeline, f"rm {stopped.name}")
    for clicker in (OPERATOR, VIEWER, Actor("U0NOBODY", "C0OPS")):
        replace, private = RecordingResponder(), RecordingResponder()
        done = pipeline.decide(outcome.token, clicker, replace, confirm=confirm, private=private)
        assert done.result == "refused"
        assert replace.sent == []
        verb = "confirm" if confirm else "cancel"
        assert f"Only <@U0ADMIN> or an admin can {verb} this" in private.text()
        assert state_of(pipeline, outcome.token) == "pending"
        assert container_exists(docker_client, stopped.id)
    # The requester still can.
    assert pipeline.decide(outcome.token, ADMIN, RecordingResponder(), confirm=True).ok


def test_confirming_twice_at_once_acts_once(pipeline: Pipeline, stopped, docker_client,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = preview(pipeline, f"rm {stopped.name}")
    handler = HANDLERS["rm"]
    runs: list[str] = []

    def counted(ctx: Context):  # type: ignore[no-untyped-def]
        runs.append(ctx.actor.user_id)
        return handler(ctx)

    monkeypatch.setitem(HANDLERS, "rm", counted)
    start = threading.Barrier(2)
    results: list[Outcome] = []

    def click(actor: Actor) -> None:
        start.wait()
        results.append(pipeline.decide(outcome.token, actor, RecordingResponder(), confirm=True))

    threads = [threading.Thread(target=click, args=(actor,)) for actor in (ADMIN, BOSS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 1
    assert sorted(r.result for r in results) == ["ignored", "ok"]
    assert not container_exists(docker_client, stopped.id)
    assert [row[2] for row in audit(pipeline)].count("confirmed") == 1


@pytest.fixture
def hasty(make_pipeline: MakePipeline, rm_command: bool) -> Pipeline:  # noqa: F811
    """A pipeline whose confirmations expire after 0.3 s."""
    return make_pipeline("\n[limits]\nconfirm_ttl_seconds = 0.3\n", access=CONFIRM_ACCESS).pipeline


def wait_expired(pipeline: Pipeline, token: str) -> None:
    pending = pipeline.confirmations.get(token)
    assert pending is not None
    wait_for(pending.expired, timeout=5, what="the confirmation to expire")


def test_an_expired_confirmation_does_nothing(hasty: Pipeline, stopped, docker_client) -> None:
    outcome = preview(hasty, f"rm {stopped.name}")
    wait_expired(hasty, outcome.token)
    replace = RecordingResponder()
    done = hasty.decide(outcome.token, ADMIN, replace, confirm=True)
    assert done.result == "expired"
    assert "This confirmation expired after 0.3 seconds" in replace.text()
    assert "Run the command again" in replace.text()
    assert container_exists(docker_client, stopped.id)
    assert state_of(hasty, outcome.token) == "expired"
    assert audit(hasty)[-1] == ("U0ADMIN", "pending", "expired")


def test_confirmations_nobody_answered_are_recorded_as_expired(hasty: Pipeline,
                                                               make_container: Make) -> None:
    first = preview(hasty, f"rm {make_container('true', start=False).name}")
    wait_expired(hasty, first.token)
    preview(hasty, f"rm {make_container('true', start=False).name}", BOSS)
    assert state_of(hasty, first.token) == "expired"
    assert ("U0ADMIN", "pending", "expired") in audit(hasty)


def test_a_preview_that_finds_a_problem_is_the_answer_and_offers_nothing(
        pipeline: Pipeline, make_container: Make, docker_client,
        monkeypatch: pytest.MonkeyPatch) -> None:
    running = make_container()

    def stop_first(ctx: Context):  # type: ignore[no-untyped-def]
        raise RefusedError(f"Container {ctx.invocation.args[0]} is running: stop it first or "
                           "use `rm -f`.")

    monkeypatch.setitem(PREVIEWS, "rm", stop_first)
    responder = RecordingResponder()
    outcome = pipeline.execute(f"rm {running.name}", ADMIN, responder)
    assert outcome.result == "refused" and outcome.token == ""
    assert "stop it first" in responder.text() and buttons(responder.last) == {}
    with pipeline.services.store.session() as session:
        assert session.scalars(select(ConfirmationTable)).all() == []
    assert container_exists(docker_client, running.id)


def test_confirming_applies_the_engine_rules_of_that_moment(pipeline: Pipeline,
                                                            make_container: Make,
                                                            docker_client) -> None:
    stopped = make_container("sleep 300", start=False)
    outcome = preview(pipeline, f"rm {stopped.name}")
    stopped.start()  # started between preview and confirm: rm without -f must not remove it
    replace = RecordingResponder()
    done = pipeline.decide(outcome.token, ADMIN, replace, confirm=True)
    assert done.result == "error"
    assert "running" in replace.text() and "-f" in replace.text()
    assert container_exists(docker_client, stopped.id)


def test_confirming_runs_with_the_confirmers_role_of_that_moment(
        tmp_path: Path, make_pipeline: MakePipeline, rm_command: bool,  # noqa: F811
        stopped, docker_client) -> None:
    data = str(tmp_path / "shared")
    before = make_pipeline(access=CONFIRM_ACCESS, dockops_data_dir=data)
    outcome = preview(before.pipeline, f"rm {stopped.name}")
    before.close()
    # The config changed meanwhile: U0ADMIN is only a viewer now (same database).
    after = make_pipeline(access='[access]\n[access.roles]\nadmin = ["U0BOSS"]\n'
                                 'viewer = ["U0ADMIN"]\n', dockops_data_dir=data)
    replace = RecordingResponder()
    done = after.pipeline.decide(outcome.token, ADMIN, replace, confirm=True)
    assert done.result == "refused"
    assert "rm needs the admin role; you have the viewer role." in replace.text()
    assert container_exists(docker_client, stopped.id)


def test_an_unknown_token_says_so(pipeline: Pipeline) -> None:
    private = RecordingResponder()
    outcome = pipeline.decide("no-such-token", ADMIN, RecordingResponder(), confirm=True,
                              private=private)
    assert outcome.result == "invalid" and "not known" in private.text()


# -- over Slack: the real bot process, signed requests, the stand-in -----------------------

def posted_preview(slack: SlackStandIn, token: str) -> dict[str, Any]:
    """The preview message as stored in the channel (its buttons carry `token`)."""
    def find() -> dict[str, Any] | None:
        return next((m for m in slack.messages("C0OPS") if token in json.dumps(m)), None)
    return wait_for(find, timeout=10, what="the preview in the channel")


def slack_preview(bot: BotProcess, text: str, user: str = "U0ADMIN") -> tuple[str, dict[str, Any]]:
    body = bot.ask(text, user_id=user)
    token = buttons(body).get(CONFIRM_ACTION)
    assert token and buttons(body)[CANCEL_ACTION] == token, answer_text(body)
    assert body["response_type"] == "in_channel"
    return token, posted_preview(bot.slack, token)


@pytest.fixture
def real_rm() -> None:
    """Skip (before a bot process starts) when this build has no `rm` handler of its own."""
    if "rm" not in HANDLERS:
        pytest.skip("the bot process has no `rm` handler yet (the lifecycle commands land it)")


def test_confirm_over_slack_replaces_the_preview_with_the_outcome(
        real_rm: None, bot_server: BotProcess, stopped, docker_client) -> None:
    token, message = slack_preview(bot_server, f"rm {stopped.name}")
    assert container_exists(docker_client, stopped.id)
    status, url = bot_server.click(CONFIRM_ACTION, token, message=message)
    assert status == 200
    [reply] = bot_server.slack.wait_for_responses(url, 1)
    assert reply["replace_original"] is True and "Confirmed by <@U0ADMIN>" in answer_text(reply)
    wait_for(lambda: not container_exists(docker_client, stopped.id), timeout=10, what="the removal")
    shown = bot_server.slack.message("C0OPS", message["ts"])
    assert shown is not None and buttons(shown) == {}
    assert "Confirmed by <@U0ADMIN>" in answer_text(shown)


def test_a_double_click_over_slack_removes_once(real_rm: None, bot_server: BotProcess,
                                                stopped, docker_client) -> None:
    token, message = slack_preview(bot_server, f"rm {stopped.name}")
    start = threading.Barrier(2)
    urls: list[str] = []

    def click() -> None:
        start.wait()
        urls.append(bot_server.click(CONFIRM_ACTION, token, message=message)[1])

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    replies = [bot_server.slack.wait_for_responses(url, 1)[0] for url in urls]
    replaced = [r for r in replies if r.get("replace_original")]
    ignored = [r for r in replies if not r.get("replace_original")]
    assert len(replaced) == 1 and len(ignored) == 1, replies
    assert "Confirmed by <@U0ADMIN>" in answer_text(replaced[0])
    assert ignored[0]["response_type"] == "ephemeral"
    assert "Already confirmed by <@U0ADMIN>" in answer_text(ignored[0])
    assert not container_exists(docker_client, stopped.id)


def test_cancel_over_slack_and_a_stranger_click(bot_server: BotProcess, stopped,
                                                docker_client) -> None:
    slack = bot_server.slack
    token, message = slack_preview(bot_server, f"rm {stopped.name}")
    # An operator clicks Confirm: only they are told, privately; the preview stays.
    _, url = bot_server.click(CONFIRM_ACTION, token, message=message, user_id="U0OPER")
    [private] = slack.wait_for_responses(url, 1)
    assert private["response_type"] == "ephemeral" and not private.get("replace_original")
    assert "Only <@U0ADMIN> or an admin can confirm this" in answer_text(private)
    assert buttons(slack.message("C0OPS", message["ts"]) or {}) == buttons(message)
    # The requester cancels: the preview is replaced, nothing removed.
    _, url = bot_server.click(CANCEL_ACTION, token, message=message)
    [reply] = slack.wait_for_responses(url, 1)
    assert reply["replace_original"] is True
    shown = slack.message("C0OPS", message["ts"])
    assert shown is not None and "Cancelled by <@U0ADMIN>" in answer_text(shown)
    assert buttons(shown) == {}
    assert container_exists(docker_client, stopped.id)


def test_an_expired_preview_over_slack(start_bot: Callable[..., BotProcess], stopped,
                                       docker_client) -> None:
    bot = start_bot(ACCESS + "\n[limits]\nconfirm_ttl_seconds = 0.5\n")
    token, message = slack_preview(bot, f"rm {stopped.name}")
    store = Store(bot.data_dir)
    try:
        pending = Confirmations(store).get(token)
    finally:
        store.close()
    assert pending is not None
    wait_for(pending.expired, timeout=5, what="the confirmation to expire")
    _, url = bot.click(CONFIRM_ACTION, token, message=message)
    [reply] = bot.slack.wait_for_responses(url, 1)
    assert reply["replace_original"] is True and "expired" in answer_text(reply)
    assert container_exists(docker_client, stopped.id)


def test_audit_rows_of_a_slack_confirmation(bot_server: BotProcess, stopped) -> None:
    token, message = slack_preview(bot_server, f"rm {stopped.name}")
    _, url = bot_server.click(CANCEL_ACTION, token, message=message)
    bot_server.slack.wait_for_responses(url, 1)
    store = Store(bot_server.data_dir)
    try:
        rows: list[AuditRow] = wait_for(
            lambda: [r for r in store.audit_rows(limit=10) if r.command == "rm"][1:] and
            [r for r in store.audit_rows(limit=10) if r.command == "rm"],
            timeout=10, what="the audit rows")
    finally:
        store.close()
    assert [(r.decision, r.outcome) for r in reversed(rows)] == [("pending", "preview"),
                                                                 ("allowed", "cancelled")]
    assert all(r.channel_id == "C0OPS" and r.user_id == "U0ADMIN" for r in rows)


def test_a_prune_with_nothing_to_remove_offers_no_button(run_command) -> None:
    outcome, responder = run_command(f"image prune -a --filter label=dockops.none={RUN_ID}")
    assert outcome.ok and not outcome.awaiting_confirmation
    assert "Nothing to prune" in responder.text()
    assert not any(b.get("type") == "actions" for b in responder.last.blocks)
