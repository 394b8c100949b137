"""Bad input beyond tests/test_fuzz_parser.py: huge strings, shell metacharacters and `$(...)`,
newlines, control and unusual unicode characters. Never a crash, never an engine request when
parsing fails (counted at docker-py's transport, nothing mocked), one clear answer that fits
Slack's limits, no second command smuggled in, and no shell anywhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.commands import TABLE, parse
from bot.errors import RefusedError, UsageError
from bot.handlers import Context
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.slack.responder import payload
from bot.views.message import Message
from bot.views.terminal import render
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import make_settings
from tests.slack_standin import check_message
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, RecordingResponder, unique

SHELL = ["$(id)", "$(rm -rf /)", "`id`", ";", "&&", "||", "|", ">", ">>", "<", "&", "*", "?",
         "~", "$HOME", "${PATH}", "\\", "'", '"', "$((1+1))", "<(ls)", "!!", "#", "\n", "\r\n",
         "\t"]
ODD = ["\x00", "\x07", "\x1b[31m", "\u200b", "\u202e", "\ufeff", "\u00a0", "\u2028", "\U0001f433",
       "\u0430", "\u0301", "\ud7ff", "\ufffd", "<!channel>", "<@U0ADMIN>", "&lt;&gt;", "*bold*",
       "```", "`"]
COMMANDS = sorted({name.split()[0] for name in TABLE.names()})
WORDS = st.one_of(st.sampled_from(SHELL + ODD + COMMANDS), st.text(max_size=12))
NASTY = st.one_of(
    st.lists(WORDS, min_size=1, max_size=12).map(" ".join),
    st.lists(WORDS, min_size=1, max_size=12).map("".join),
    st.tuples(st.sampled_from(COMMANDS), st.lists(WORDS, max_size=8)).map(
        lambda pair: " ".join([pair[0], *pair[1]])),
)
# Just past the parser's 4,000-character cap: the answer must name the limit, not echo it all.
HUGE = st.tuples(st.sampled_from(["", *COMMANDS]), st.sampled_from(["x", "é", "\U0001f433", "-",
                                                                     "$(a)", " ;", "\n|", "--x="]),
                 st.integers(4_001, 6_000)).map(lambda t: f"{t[0]} {t[1] * t[2]}".strip())
FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def parses(text: str) -> bool:
    try:
        parse(text, TABLE)
    except (UsageError, RefusedError):
        return False
    return True


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    built = Services.build(make_settings(Path(tmp_path_factory.mktemp("fuzz-more"))))
    yield built
    built.close()


@pytest.fixture
def engine_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request docker-py sends, recorded on its way to the engine (not replaced)."""
    sent: list[str] = []
    original = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(f"{request.method} {request.url}")
        return original(session, request, **kwargs)

    monkeypatch.setattr(docker.APIClient, "send", send)
    return sent


def answer_once(services: Services, text: str) -> tuple[list[Message], object]:
    responder = RecordingResponder()
    outcome = Pipeline(services).execute(text, Actor("console:fuzz", source="console"), responder)
    return responder.sent, outcome


def assert_clear_and_fits(message: Message) -> None:
    assert message.text.strip() and "Traceback" not in message.text
    body = payload(message)
    result = check_message(body)
    assert result.ok, (result.error, result.details)
    assert len(body["text"]) <= 40_000


def check_refused(text: str, services: Services, engine_requests: list[str]) -> None:
    engine_requests.clear()
    sent, outcome = answer_once(services, text)
    assert engine_requests == []
    assert len(sent) == 1 and not outcome.ok  # type: ignore[attr-defined]
    assert_clear_and_fits(sent[0])


@FUZZ
@given(text=NASTY)
def test_text_that_does_not_parse_gets_one_clear_answer_and_no_engine_request(
        text: str, services: Services, engine_requests: list[str]) -> None:
    assume(not parses(text))
    check_refused(text, services, engine_requests)


@settings(FUZZ, max_examples=15)
@given(text=HUGE)
def test_text_over_the_length_cap_gets_one_short_answer_and_no_engine_request(
        text: str, services: Services, engine_requests: list[str]) -> None:
    check_refused(text, services, engine_requests)


@FUZZ
@given(text=NASTY)
def test_shell_separators_never_smuggle_in_a_second_command(text: str, services: Services) -> None:
    reached: list[str] = []

    def record(_pipeline: Pipeline, ctx: Context) -> Message:
        reached.append(ctx.invocation.command.name)
        return Message(text="ran")

    with pytest.MonkeyPatch.context() as patch:  # our seams past the parser, not docker-py
        patch.setattr(Pipeline, "_perform", record)
        patch.setattr(Pipeline, "_preview", record)
        sent, _ = answer_once(services, text)
    assert len(sent) == 1 and len(reached) <= 1
    if reached:
        assert reached == [parse(text, TABLE).command.name]
    else:
        assert_clear_and_fits(sent[0])


def test_a_huge_command_line_gets_a_short_clear_answer(services: Services) -> None:
    for text in ("ps " + "-a " * 2_000, "\U0001f433" * 5_000, "inspect " + "$(id)" * 1_000):
        sent, _ = answer_once(services, text)
        assert len(sent) == 1
        assert_clear_and_fits(sent[0])
        assert len(sent[0].text) < 1_000, sent[0].text[:200]  # names the cap, does not echo it


def test_a_very_long_command_is_answered_within_a_second(services: Services) -> None:
    started = time.monotonic()
    sent, _ = answer_once(services, "logs " + "x" * 20_000)
    assert len(sent) == 1 and time.monotonic() - started < 1.0


def test_shell_metacharacters_reach_the_container_as_literal_arguments(
        services: Services, docker_client: docker.DockerClient, busybox: str,
        tmp_path: Path) -> None:
    """No shell on the host nor in the container: `$(...)`, `;` and `>` are plain words."""
    marker = tmp_path / "pwned"
    name = unique("literal")
    text = (f"run --rm --name {name} --label {TEST_LABEL}={RUN_ID} {BUSYBOX} echo "
            f"$(touch {marker}) ; touch {marker} && id > {marker} `id`")
    try:
        sent, outcome = answer_once(services, text)
    finally:
        for item in docker_client.api.containers(all=True, filters={"name": name}):
            with contextlib.suppress(docker.errors.APIError):  # --rm may be removing it
                docker_client.api.remove_container(item["Id"], force=True)
    assert outcome.ok, sent  # type: ignore[attr-defined]
    output = "".join(render(message) for message in sent)
    assert f"$(touch {marker}) ; touch {marker} && id > {marker} `id" in output  # echoed as typed
    assert not marker.exists()


NASTY_SAMPLES = ["ps; rm -f web", "logs $(rm -rf /)", "ps\nrm -f web", "images `reboot`",
                 "\x00ps", "ps -a \u202e", "ps " + "é" * 3_000, "<!channel> ps", "ps && kill web",
                 "run busybox sh -c 'echo $(id)' | tee /etc/passwd"]


def test_nasty_text_through_slack_gets_one_answer_each_and_breaks_nothing(
        bot_server: BotProcess) -> None:
    # One after the other: one user may have only [limits] per_user_commands in flight.
    for text in NASTY_SAMPLES:
        answer = bot_server.command(text, user_id="U0VIEW")
        assert answer.status == 200
        [reply] = bot_server.answers(answer, timeout=20)
        body = answer_text(reply)
        assert "Traceback" not in body and reply.get("text"), (text, body)
    assert bot_server.slack.violations == []
    assert bot_server.process.poll() is None
