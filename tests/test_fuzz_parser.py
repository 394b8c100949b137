"""Property tests: whatever text arrives, the parser answers with an Invocation or one clear
error, and text that does not parse never gets past the parser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import TABLE, Invocation, parse
from bot.errors import DockopsError, RefusedError, UsageError
from bot.handlers import Context
from bot.mrkdwn import unescape
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.views.message import Message
from tests.conftest import make_settings
from tests.support import RecordingResponder

# Words the grammar knows, so random lines often get deep into flag and arity handling.
_VOCABULARY = sorted(
    {word for name in TABLE.names() for word in name.split()}
    | {f"--{flag.long}" for command in TABLE.commands for flag in command.flags}
    | {f"-{flag.short}" for command in TABLE.commands for flag in command.flags if flag.short}
    | {"-", "--", "-H", "--host", "--private", "--help", "help", "=", "web", "a:b", "-p",
       "8080:80", "--password", "&lt;", "&amp;", "\u201c", "\u2019", "'", '"', "\\", "-Hprod",
       "--filter=label=x", "-n5", "-af", "-1", "--tail=all", "0", "true", "false"}
)
_WORD = st.one_of(st.sampled_from(_VOCABULARY), st.text(max_size=8))
COMMAND_LINES = st.one_of(
    st.text(max_size=120),
    st.lists(_WORD, max_size=10).map(" ".join),
    st.lists(_WORD, max_size=10).map("".join),
)
FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def parse_or_error(text: str) -> Invocation | DockopsError:
    """parse(), with the only errors it may raise returned instead."""
    try:
        return parse(text, TABLE)
    except (UsageError, RefusedError) as exc:
        return exc


@FUZZ
@given(COMMAND_LINES)
def test_random_text_parses_or_says_why_and_never_crashes(text: str) -> None:
    result = parse_or_error(text)
    if isinstance(result, RefusedError):
        # The one refusal the parser makes: a typed password, before anything reads it.
        assert "password" in result.message
    elif isinstance(result, UsageError):
        assert result.message.strip()
    else:
        assert result.command in TABLE.commands


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = Services.build(make_settings(Path(tmp_path_factory.mktemp("fuzz"))))
    yield services
    services.close()


@FUZZ
@given(text=COMMAND_LINES)
def test_text_that_does_not_parse_never_reaches_the_engine(
        text: str, fuzz_services: Services) -> None:
    reached: list[str] = []

    def record(_pipeline: Pipeline, ctx: Context) -> Message:
        reached.append(ctx.invocation.command.name)
        return Message(text="ran")

    pipeline = Pipeline(fuzz_services)
    # Our seams past the parser (engine calls happen only behind them), not docker-py.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Pipeline, "_perform", record)
        patch.setattr(Pipeline, "_preview", record)
        responder = RecordingResponder()
        outcome = pipeline.execute(text, Actor("console:fuzz", source="console"), responder)
    parsed = parse_or_error(text)
    assert len(responder.sent) == 1  # one answer, always
    if isinstance(parsed, DockopsError):
        assert reached == []
        # A typed password is a refusal (audited as one); anything else does not parse.
        expected = "refused" if isinstance(parsed, RefusedError) else "invalid"
        assert outcome.decision == expected and not outcome.ok
        assert unescape(responder.last.text).startswith(parsed.message)  # as mrkdwn: escaped
    elif parsed.host is not None and not reached:
        # A typed -H/--host that names no configured host is refused before anything runs.
        assert "host" in responder.last.text.lower() and not outcome.ok
    else:
        assert reached == [parsed.command.name]
