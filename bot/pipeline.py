"""The one path every command takes: parse -> policy -> engine -> view -> reply."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from bot import metrics
from bot.commands import TABLE, Invocation, parse
from bot.errors import DockopsError, EngineError, RefusedError, UsageError
from bot.handlers import HANDLERS, Context
from bot.policy import Actor, authorize
from bot.redact import mask_text
from bot.reply import Responder
from bot.services import Services
from bot.store import AuditRow
from bot.views import errors as error_views
from bot.views.message import Message

log = logging.getLogger("dockops.pipeline")


@dataclass(frozen=True)
class Outcome:
    """How a command ended, for the audit trail, metrics and the console's exit code."""

    command: str
    decision: str  # allowed | refused | invalid
    result: str  # ok | error | refused | invalid | internal
    message: Message | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class Pipeline:
    """Runs command text for an actor and answers through a responder. Never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def execute(self, text: str, actor: Actor, responder: Responder) -> Outcome:
        started = time.monotonic()
        invocation: Invocation | None = None
        decision, result = "invalid", "invalid"
        message: Message | None
        try:
            invocation = parse(text, TABLE)
            decision = "refused"
            role = authorize(invocation, actor, self.services.settings.access)
            decision, result = "allowed", "error"
            message = self._perform(Context(invocation, actor, role, self.services, responder))
            result = "ok" if message is None or message.ok else "error"
        except UsageError as exc:
            message = error_views.error(exc)
        except RefusedError as exc:
            result = "refused"
            message = error_views.error(exc)
        except DockopsError as exc:
            if isinstance(exc, EngineError) and invocation is not None:
                metrics.ENGINE_ERRORS.labels(invocation.host or "default").inc()
            message = error_views.error(exc)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("internal error %s running %r", reference, mask_text(text))
            result, message = "internal", error_views.internal(reference)
        if message is not None:
            self._send(responder, message)
        outcome = Outcome(invocation.command.name if invocation else "", decision, result,
                          message, time.monotonic() - started)
        self._audit(text, actor, invocation, outcome)
        metrics.COMMANDS.labels(outcome.command or "invalid", outcome.result).inc()
        metrics.COMMAND_SECONDS.labels(outcome.command or "invalid").observe(outcome.seconds)
        return outcome

    def _perform(self, ctx: Context) -> Message | None:
        name = ctx.invocation.command.name
        handler = HANDLERS.get(name)
        if handler is None:
            raise DockopsError(f"`{name}` is understood but not available in this build.")
        return handler(ctx)

    @staticmethod
    def _send(responder: Responder, message: Message) -> None:
        try:
            responder.send(message)
        except Exception:
            log.exception("could not deliver a reply")

    def _audit(self, text: str, actor: Actor, invocation: Invocation | None,
               outcome: Outcome) -> None:
        summary = outcome.message.text[:500] if outcome.message else ""
        row = AuditRow(
            user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
            source=actor.source, host=(invocation.host or "") if invocation else "",
            command=outcome.command, text=mask_text(text)[:2000], decision=outcome.decision,
            outcome=outcome.result, message=mask_text(summary),
            duration_ms=int(outcome.seconds * 1000),
        )
        try:
            self.services.store.record_audit(row)
        except Exception:
            log.exception("could not write the audit row")
        log.info("command", extra={"user": actor.user_id, "channel": actor.channel_id,
                                   "command": outcome.command, "outcome": outcome.result,
                                   "duration_ms": row.duration_ms})
