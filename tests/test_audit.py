"""The audit trail: every command recorded (who, where, what, decision, outcome, duration),
secrets masked, readable with `/docker audit`, optionally mirrored to an audit channel."""

from __future__ import annotations

import logging

import pytest

from bot.handlers import Context
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.redact import MASK, mask_command
from bot.services import Services
from bot.store import AuditRow
from bot.views.message import Message
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import MakePipeline
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, wait_for


@pytest.mark.parametrize(("text", "masked"), [
    ("login -u bob -p hunter2 127.0.0.1:5000", f"login -u bob -p {MASK} 127.0.0.1:5000"),
    ("login -phunter2 reg", f"login -p{MASK} reg"),
    ("login --password hunter2 reg", f"login --password {MASK} reg"),
    ("login --password=hunter2 reg", f"login --password={MASK} reg"),
    ("-H prod login -u bob -p hunter2", f"-H prod login -u bob -p {MASK}"),
    ("run -p 8080:80 -e DB_PASSWORD=hunter2 -e MODE=x app",
     f"run -p 8080:80 -e DB_PASSWORD={MASK} -e MODE=x app"),
    ("run --env=API_TOKEN=hunter2 app", f"run --env=API_TOKEN={MASK} app"),
    ("build --build-arg NPM_TOKEN=hunter2 web", f"build --build-arg NPM_TOKEN={MASK} web"),
    ("pull https://bob:hunter2@registry.example/app", f"pull https://bob:{MASK}@registry.example/app"),
    ("login -p 'hunter2", f"login -p {MASK}"),  # broken quoting still masks
    ("run -d -p 3000:80 --name web nginx", "run -d -p 3000:80 --name web nginx"),
    ("run busybox sh -c 'echo hi; exit 3'", "run busybox sh -c 'echo hi; exit 3'"),
])
def test_mask_command_hides_passwords_and_keeps_the_rest(text: str, masked: str) -> None:
    assert mask_command(text) == masked


@pytest.fixture
def pipeline(services: Services) -> Pipeline:
    return Pipeline(services)


def rows(services: Services) -> list[AuditRow]:
    return list(reversed(services.store.audit_rows(limit=100)))


def test_every_command_is_recorded_with_who_where_decision_outcome_and_duration(
        pipeline: Pipeline, services: Services) -> None:
    pipeline.execute("version", Actor("U0VIEW", "C0OPS", user_name="viewer"), RecordingResponder())
    pipeline.execute("rm web", Actor("U0VIEW", "C0OPS"), RecordingResponder())
    pipeline.execute("ps --no-such-flag", Actor("U0ADMIN", "C0OPS"), RecordingResponder())
    pipeline.execute("images", Actor("console:me", user_name="me", source="console"),
                     RecordingResponder())
    got = [(r.user_id, r.channel_id, r.source, r.command, r.text, r.decision, r.outcome)
           for r in rows(services)]
    assert got == [
        ("U0VIEW", "C0OPS", "slack", "version", "version", "allowed", "ok"),
        ("U0VIEW", "C0OPS", "slack", "rm", "rm web", "refused", "refused"),
        ("U0ADMIN", "C0OPS", "slack", "", "ps --no-such-flag", "invalid", "invalid"),
        ("console:me", "", "console", "images", "images", "allowed", "ok"),
    ]
    first = rows(services)[0]
    assert first.user_name == "viewer" and first.at is not None
    assert all(r.duration_ms >= 0 for r in rows(services))
    assert "needs the admin role" in rows(services)[1].message


def test_no_password_reaches_the_table_or_the_log(make_pipeline: MakePipeline,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    run = make_pipeline()
    with caplog.at_level(logging.DEBUG):
        for text in ("login -u bob -p hunter2 127.0.0.1:5000",
                     "login --password=hunter2 127.0.0.1:5000",
                     f"run --rm --label {TEST_LABEL}={RUN_ID} -e DB_PASSWORD=hunter2 "
                     "dockops-test/busybox true"):
            run(text, user="U0ADMIN", source="slack")
    recorded = rows(run.services)
    assert len(recorded) == 3
    assert all("hunter2" not in f"{r.text} {r.message}" for r in recorded)
    assert recorded[0].text == f"login -u bob -p {MASK} 127.0.0.1:5000"
    run.close()
    assert "hunter2" not in caplog.text
    # Not in the database files either (the WAL included), in whatever column.
    for path in run.services.settings.data_dir.iterdir():
        assert b"hunter2" not in path.read_bytes(), path


def test_a_reply_that_echoes_a_secret_is_masked_in_the_table(services: Services,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def echo(_pipeline: Pipeline, ctx: Context) -> Message:
        return Message(text=f"you typed {ctx.invocation.text}")

    monkeypatch.setattr(Pipeline, "_perform", echo)
    Pipeline(services).execute("run -e API_TOKEN=hunter2 app", Actor("U0ADMIN", "C0OPS"),
                               RecordingResponder())
    [row] = rows(services)
    assert "hunter2" not in row.message and MASK in row.message


def test_audit_lists_the_newest_rows_for_admins(pipeline: Pipeline, run_command) -> None:
    for text in ("version", "ps -a", "images"):
        run_command(text, user="U0OPER", source="slack")
    run_command("version", user="U0VIEW", source="slack")
    outcome, responder = run_command("audit -n 3", user="U0ADMIN", source="slack")
    assert outcome.ok
    table = responder.text()
    assert "last 3 of at most 3 rows" in table
    lines = [line for line in table.splitlines() if "U0" in line and "C0OPS" in line]
    assert [line.split()[2] for line in lines] == ["U0VIEW", "U0OPER", "U0OPER"]
    _, by_user = run_command("audit --user <@U0VIEW|viewer>", user="U0ADMIN", source="slack")
    assert "U0OPER" not in by_user.text() and "U0VIEW" in by_user.text()


def test_audit_is_for_admins_only(run_command) -> None:
    outcome, responder = run_command("audit", user="U0OPER", source="slack")
    assert outcome.result == "refused"
    assert "`audit` needs the admin role; you have the operator role." in responder.last.text


def test_audit_says_when_n_is_out_of_range(run_command) -> None:
    outcome, responder = run_command("audit -n 0")
    assert not outcome.ok and "-n must be between 1 and 500" in responder.text()


# -- the audit channel --------------------------------------------------------------------

@pytest.fixture
def audited(make_pipeline: MakePipeline, slack: SlackStandIn) -> Pipeline:
    pipeline = make_pipeline('\n[slack]\naudit_channel = "C0AUDIT"\n',
                             slack_bot_token=slack.bot_token, slack_api_url=slack.api_url).pipeline
    assert pipeline.audit_channel is not None
    return pipeline


def test_every_command_gets_one_line_in_the_audit_channel(audited: Pipeline,
                                                          slack: SlackStandIn) -> None:
    audited.execute("version", Actor("U0VIEW", "C0OPS"), RecordingResponder())
    audited.execute("login -u bob -p hunter2 reg", Actor("U0OPER", "C0OPS"), RecordingResponder())
    calls = slack.wait_for_calls("chat.postMessage", 2)
    lines = [call.params["text"] for call in calls]
    assert all(call.params["channel"] == "C0AUDIT" for call in calls)
    assert lines[0].startswith(":white_check_mark: <@U0VIEW> in <#C0OPS>: `docker version`")
    assert "allowed/ok" in lines[0] and " ms)" in lines[0]
    assert "hunter2" not in lines[1] and MASK in lines[1]


def test_a_failing_audit_channel_never_blocks_or_fails_the_command(
        audited: Pipeline, slack: SlackStandIn, caplog: pytest.LogCaptureFixture) -> None:
    slack.error_next("chat.postMessage", "channel_not_found")
    with caplog.at_level(logging.ERROR, "dockops.audit"):
        outcome = audited.execute("version", Actor("U0VIEW", "C0OPS"), RecordingResponder())
        assert outcome.ok
        wait_for(lambda: "could not post to the audit channel" in caplog.text, timeout=10,
                 what="the failure to be logged")
    assert len(audited.services.store.audit_rows()) == 1  # the table has it regardless


def test_audit_over_slack(bot_server: BotProcess) -> None:
    bot_server.ask("version", user_id="U0VIEW")
    answer = bot_server.ask("audit -n 5")
    assert "U0VIEW" in answer_text(answer) and "version" in answer_text(answer)
