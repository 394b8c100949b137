"""The one path every command takes: parse -> policy -> (confirm) -> engine -> view -> reply."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import metrics
from bot.commands import TABLE, Invocation, parse
from bot.config import HostConfig
from bot.errors import DockopsError, RefusedError, UsageError
from bot.handlers import HANDLERS, PREVIEWS, Context
from bot.handlers.context import target_hosts
from bot.mrkdwn import md, unescape
from bot.policy import Actor, authorize, role_on
from bot.redact import mask_command, mask_echoes
from bot.reply import Responder, Thread
from bot.roles import Role
from bot.services import Services
from bot.store import AuditRow, Button, Buttons, Confirmations, Pending, State
from bot.views import confirm as confirm_views
from bot.views import problems as error_views
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION
from bot.views.message import Message

if TYPE_CHECKING:
    from bot.slack.audit_channel import AuditChannel

log = logging.getLogger("dockops.pipeline")

Finish = Callable[[Message | None], Message | None]
# Claims a button's single use once the clicker passed the gate; False when it was used.
Claim = Callable[[], bool]


@dataclass(frozen=True)
class Outcome:
    """How a command ended, for the audit trail, metrics and the console's exit code."""

    command: str
    decision: str  # allowed | refused | invalid | pending
    # ok | error | refused | invalid | internal | preview | cancelled | expired | ignored
    # | unaudited (refused: its audit row could not be written first)
    result: str
    message: Message | None
    seconds: float
    token: str = ""  # the confirmation a preview opened

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    @property
    def awaiting_confirmation(self) -> bool:
        return self.result == "preview"


def _audit_channel(services: Services) -> AuditChannel | None:
    """The Slack audit channel poster, loaded only when `[slack] audit_channel` is set."""
    if not services.settings.slack.audit_channel:
        return None
    from bot.slack.audit_channel import audit_channel

    return audit_channel(services.settings)


@dataclass
class _Progress:
    """How far a command got; what an exception at that point means for the audit."""

    invocation: Invocation | None = None
    decision: str = "invalid"
    result: str = "invalid"
    token: str = ""
    claimed: bool = False  # a clicked button was claimed: its answer replaces the message
    host: str = ""  # the resolved host (one), for the audit row and metric labels
    audit_id: int = 0  # the row written before the engine was touched
    unaudited: bool = False  # that row could not be written: the command was refused


class _Routed:
    """A click's responder: the clicker alone hears refusals; once claimed, everyone hears."""

    def __init__(self, progress: _Progress, claimed: Responder, refused: Responder) -> None:
        self._progress = progress
        self._claimed = claimed
        self._refused = refused

    def _target(self) -> Responder:
        return self._claimed if self._progress.claimed else self._refused

    def send(self, message: Message) -> None:
        self._target().send(message)

    def start_thread(self, message: Message) -> Thread:
        return self._target().start_thread(message)


class Pipeline:
    """Runs command text for an actor and answers through a responder. Never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.confirmations = Confirmations(services.store)
        self.buttons = Buttons(services.store)
        self.audit_channel = _audit_channel(services)

    def execute(self, text: str, actor: Actor, responder: Responder) -> Outcome:
        """Run a command; a destructive one answers with a preview to confirm instead."""
        return self._run(text, actor, responder, confirmed=False)

    def decide(self, token: str, actor: Actor, responder: Responder, *, confirm: bool,
               private: Responder | None = None) -> Outcome:
        """A Confirm or Cancel click on a preview.

        What replaces the preview (the outcome, "cancelled", "expired") goes to `responder`;
        answers that change nothing (not yours, already decided) go to `private` only.
        """
        started = time.monotonic()
        try:
            outcome = self._decide(token, actor, responder, private or responder, confirm,
                                   started)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("internal error %s deciding confirmation %s", reference, token[:8])
            message = error_views.internal(reference)
            self._send(private or responder, message)
            outcome = Outcome("", "allowed", "internal", message, time.monotonic() - started)
        metrics.CLICKS.labels(CONFIRM_ACTION if confirm else CANCEL_ACTION, outcome.result).inc()
        return outcome

    def click(self, token: str, action_id: str, actor: Actor, responder: Responder,
              private: Responder) -> Outcome:
        """A click on a button that carries a command: run the stored command as the clicker.

        Unknown, forged (another action's token), expired and used tokens are refused and
        audited. Refusals by the gate go to `private` and leave the button usable; once the
        clicker passed the gate the button is used up and the answer goes to `responder`.
        """
        started = time.monotonic()
        try:
            return self._click(token, action_id, actor, responder, private, started)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("internal error %s on a click of %s", reference, action_id)
            message = error_views.internal(reference)
            self._send(private, message)
            return Outcome("", "allowed", "internal", message, time.monotonic() - started)

    def _click(self, token: str, action_id: str, actor: Actor, responder: Responder,
               private: Responder, started: float) -> Outcome:
        button = self.buttons.get(token)
        if button is None or button.action_id != action_id or button.used_by \
                or button.expired():
            message = error_views.error(_unusable(button, action_id))
            self._send(private, message)
            self._write(AuditRow(
                user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
                source=actor.source, command=f"click {action_id}"[:64],
                text=mask_command(button.command if button else "")[:2000],
                decision="refused", outcome="invalid", message=unescape(message.text)[:500],
                duration_ms=int((time.monotonic() - started) * 1000)))
            metrics.CLICKS.labels(action_id, "invalid").inc()
            return Outcome("", "refused", "invalid", message, time.monotonic() - started)
        outcome = self._run(button.command, actor, responder, confirmed=False, private=private,
                            claim=lambda: self.buttons.use(token, actor.user_id),
                            via=f"button {token[:8]} ({action_id})")
        metrics.CLICKS.labels(action_id, outcome.result).inc()
        return outcome

    # -- one command ---------------------------------------------------------------------

    def _run(self, text: str, actor: Actor, responder: Responder, *, confirmed: bool,
             pinned: tuple[str, ...] | None = None, finish: Finish | None = None,
             private: Responder | None = None, claim: Claim | None = None,
             via: str = "") -> Outcome:
        started = time.monotonic()
        progress = _Progress()
        # A click's answer is the clicker's alone until the gate let it through.
        answer_to = responder if private is None else _Routed(progress, responder, private)
        message = self._guarded(progress, text,
                                lambda: self._steps(progress, text, actor, answer_to, confirmed,
                                                    pinned, claim, via))
        if finish is not None:
            message = finish(message)
        invocation = progress.invocation
        outcome = Outcome(invocation.command.name if invocation else "", progress.decision,
                          progress.result, message, time.monotonic() - started, progress.token)
        # The audit row exists before the answer does: whoever reads the answer can audit it.
        self._audit_command(text, actor, progress, outcome, via)
        if message is not None:
            self._send(answer_to, message)
        metrics.COMMANDS.labels(outcome.command or "invalid", outcome.result).inc()
        metrics.COMMAND_SECONDS.labels(outcome.command or "invalid").observe(outcome.seconds)
        return outcome

    def _steps(self, progress: _Progress, text: str, actor: Actor, responder: Responder,
               confirmed: bool, pinned: tuple[str, ...] | None = None,
               claim: Claim | None = None, via: str = "") -> Message | None:
        progress.invocation = invocation = parse(text, TABLE)
        progress.decision = "refused"
        services = self.services
        hosts: tuple[str, ...] = ()

        def resolve() -> list[tuple[str, HostConfig | None]]:
            nonlocal hosts
            hosts = target_hosts(invocation, actor, services)
            return [(name, services.settings.hosts.get(name)) for name in hosts]

        role = authorize(invocation, actor, services.settings.access, resolve)
        progress.host = hosts[0] if len(hosts) == 1 else ""
        self._begin_audit(progress, text, actor, via)
        if claim is not None:
            if not claim():
                raise DockopsError("This button was used or expired a moment ago; this click did "
                                   "nothing.")
            progress.claimed = True
        ctx = Context(invocation, actor, role, services, responder, pinned, hosts,
                      progress.audit_id)
        if not confirmed and invocation.command.is_destructive(invocation):
            progress.decision, progress.result = "pending", "error"
            return self._hold(progress, ctx)
        progress.decision, progress.result = "allowed", "error"
        message = self._perform(ctx)
        progress.result = "ok" if message is None or message.ok else "error"
        return message

    def _guarded(self, progress: _Progress, text: str,
                 step: Callable[[], Message | None]) -> Message | None:
        """The step's answer, or the answer for the error it raised (never a traceback)."""
        try:
            return step()
        except UsageError as exc:
            metrics.COMMAND_ERRORS.labels("usage").inc()
            return error_views.error(exc)
        except RefusedError as exc:
            metrics.COMMAND_ERRORS.labels("refused").inc()
            progress.decision = progress.result = "refused"
            return error_views.error(exc)
        except DockopsError as exc:
            kind = metrics.error_kind(exc)  # a missing container is the user's, not the engine's
            metrics.COMMAND_ERRORS.labels(kind).inc()
            if kind == "engine":
                metrics.ENGINE_ERRORS.labels(progress.host or "unknown").inc()
            return error_views.error(exc)
        except Exception:
            metrics.COMMAND_ERRORS.labels("internal").inc()
            reference = uuid.uuid4().hex[:8]
            log.exception("internal error %s running %r", reference, mask_command(text))
            progress.result = "internal"
            return error_views.internal(reference)

    def _perform(self, ctx: Context) -> Message | None:
        name = ctx.invocation.command.name
        handler = HANDLERS.get(name)
        if handler is None:
            raise DockopsError(f"`{name}` is understood but not available in this build.")
        return handler(ctx)

    # -- confirmations -------------------------------------------------------------------

    def _hold(self, progress: _Progress, ctx: Context) -> Message:
        """Answer a destructive command with its preview and open a confirmation for it."""
        preview = self._preview(ctx)
        if not preview.ok:  # the preview found the seed's rule (e.g. stop it first): that's all
            return preview
        if preview.meta.get("nothing"):  # e.g. image prune with nothing unused: no button
            progress.decision, progress.result = "allowed", "ok"
            return preview
        self._expire_overdue()
        invocation = ctx.invocation
        ttl = self.services.settings.limits.confirm_ttl_seconds
        pending = self.confirmations.open(
            requester=ctx.actor.user_id, source=ctx.actor.source, channel=ctx.actor.channel_id,
            command=invocation.command.name, text=invocation.text, host=_one(ctx.hosts),
            ttl_seconds=ttl, pinned=preview.meta.get("pin"))
        progress.result, progress.token = "preview", pending.token
        return confirm_views.request(preview, token=pending.token, requester=ctx.actor.display,
                                     ttl_seconds=ttl, expires=pending.expires)

    def _preview(self, ctx: Context) -> Message:
        """What the command would do, computed without doing it; DockopsError when it can't."""
        preview = PREVIEWS.get(ctx.invocation.command.name)
        message = preview(ctx) if preview else None
        return message or confirm_views.generic_preview(ctx.invocation.text, _one(ctx.hosts))

    def _decide(self, token: str, actor: Actor, responder: Responder, private: Responder,
                confirm: bool, started: float) -> Outcome:
        pending = self.confirmations.get(token) if token and len(token) <= 64 else None
        if pending is None:
            return self._answer_click(None, actor, private, started, "refused", "invalid",
                                      DockopsError("This confirmation is not known here; "
                                                   "nothing was done.",
                                                   detail="Run the command again."))
        requester = confirm_views.who(pending.requester, pending.source)
        configured = self.services.settings.hosts
        on = [(pending.host, configured.get(pending.host))] if pending.host else []
        role, _ = role_on(actor, self.services.settings.access, on)
        mine = actor.user_id == pending.requester and actor.source == pending.source
        if not (mine or role >= Role.ADMIN):
            verb = "confirm" if confirm else "cancel"
            has = "no role" if role == Role.NONE else f"the {role.label} role"
            return self._answer_click(pending, actor, private, started, "refused", "refused",
                                      RefusedError(md("Only {} or an admin can {} this; nothing "
                                                      "was changed.", requester, verb),
                                                   detail=f"You have {has}."))
        state: State = "confirmed" if confirm else "cancelled"
        if self.confirmations.decide(token, state, actor.user_id):
            self._audit_click(pending, actor, started, "allowed", state)
            if not confirm:
                message = confirm_views.cancelled(pending.text, actor.display)
                self._send(responder, message)
                return Outcome(pending.command, "allowed", "cancelled", message,
                               time.monotonic() - started, token)
            return self._run(pending.text, actor, responder, confirmed=True,
                             pinned=pending.pinned,
                             finish=lambda m: confirm_views.confirmed(m, pending.text,
                                                                      actor.display))
        return self._too_late(token, actor, responder, private, started)

    def _too_late(self, token: str, actor: Actor, responder: Responder, private: Responder,
                  started: float) -> Outcome:
        """The click lost: the confirmation expired, or another click decided it first."""
        if self.confirmations.decide(token, "expired", ""):
            pending = self.confirmations.get(token)
            assert pending is not None
            self._audit_expired(pending)
        pending = self.confirmations.get(token)
        assert pending is not None
        if pending.state == "expired":
            message = confirm_views.expired(pending.text, pending.ttl_seconds)
            self._send(responder, message)
            return Outcome(pending.command, "refused", "expired", message,
                           time.monotonic() - started, token)
        by = confirm_views.who(pending.decided_by, pending.source) if pending.decided_by else "?"
        return self._answer_click(pending, actor, private, started, "refused", "ignored",
                                  DockopsError(md("Already {} by {}; this click did nothing.",
                                                  pending.state, by)))

    def _answer_click(self, pending: Pending | None, actor: Actor, private: Responder,
                      started: float, decision: str, result: str, error: DockopsError) -> Outcome:
        message = error_views.error(error)
        self._send(private, message)
        if pending is not None:
            self._audit_click(pending, actor, started, decision, result)
        else:
            self._write(AuditRow(
                user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
                source=actor.source, command="click confirmation", decision=decision,
                outcome=result, message=unescape(message.text)[:500],
                duration_ms=int((time.monotonic() - started) * 1000)))
        return Outcome(pending.command if pending else "", decision, result, message,
                       time.monotonic() - started, pending.token if pending else "")

    def _expire_overdue(self) -> None:
        """Mark confirmations nobody answered in time as expired, each with its audit row."""
        for pending in self.confirmations.overdue():
            if self.confirmations.decide(pending.token, "expired", ""):
                self._audit_expired(pending)

    # -- replies and the audit trail -----------------------------------------------------

    @staticmethod
    def _send(responder: Responder, message: Message) -> None:
        try:
            responder.send(message)
        except Exception:
            log.exception("could not deliver a reply")

    def _begin_audit(self, progress: _Progress, text: str, actor: Actor, via: str) -> None:
        """Write the command's row before anything reaches an engine (fail closed): what
        cannot be audited is not run. `_run` gives the row its outcome before the answer."""
        invocation = progress.invocation
        assert invocation is not None
        try:
            progress.audit_id = self.services.store.record_audit(AuditRow(
                user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
                source=actor.source, host=progress.host, command=invocation.command.name,
                text=mask_command(text)[:2000], decision="allowed", outcome="running",
                message=via))
        except Exception as exc:
            metrics.AUDIT_FAILURES.inc()
            log.warning("refused %s: its audit row could not be written (%s)",
                        invocation.command.name, self.services.store.audit_problem or exc)
            progress.unaudited = True
            progress.decision, progress.result = "refused", "unaudited"
            raise _unaudited(self.services.store.audit_problem or type(exc).__name__) from None

    def _audit_command(self, text: str, actor: Actor, progress: _Progress, outcome: Outcome,
                       via: str = "") -> None:
        if progress.unaudited:  # refused because no row can be written: nothing to add
            return
        summary = unescape(outcome.message.text)[:500] if outcome.message else ""
        if outcome.token:
            summary = f"confirmation {outcome.token[:8]}: {summary}"
        if via:
            summary = f"{via}: {summary}"
        row = AuditRow(
            user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
            source=actor.source, host=progress.host,
            command=outcome.command, text=mask_command(text)[:2000], decision=outcome.decision,
            outcome=outcome.result, message=mask_echoes(summary, text),
            duration_ms=int(outcome.seconds * 1000),
        )
        invocation = progress.invocation
        self._write(row, progress.audit_id,
                    mask_command(invocation.args[0])[:80] if invocation and invocation.args else "")

    def _audit_click(self, pending: Pending, actor: Actor, started: float, decision: str,
                     result: str) -> None:
        self._write(AuditRow(
            user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
            source=actor.source, host=pending.host, command=pending.command,
            text=mask_command(pending.text)[:2000], decision=decision, outcome=result,
            message=f"click: confirmation {pending.token[:8]} requested by {pending.requester}",
            duration_ms=int((time.monotonic() - started) * 1000),
        ))

    def _audit_expired(self, pending: Pending) -> None:
        self._write(AuditRow(
            user_id=pending.requester, channel_id=pending.channel, source=pending.source,
            host=pending.host, command=pending.command, text=mask_command(pending.text)[:2000],
            decision="pending", outcome="expired",
            message=f"confirmation {pending.token[:8]} expired unanswered", duration_ms=0,
        ))

    def _write(self, row: AuditRow, row_id: int = 0, target: str = "") -> None:
        """Record the row (or finish row `row_id`); a failure is logged and counted."""
        try:
            if row_id:
                self.services.store.finish_audit(row_id, row)
            else:
                row_id = self.services.store.record_audit(row)
        except Exception:
            metrics.AUDIT_FAILURES.inc()
            log.exception("could not write the audit row")
        if self.audit_channel is not None:
            self.audit_channel.post(row)
        log.info("command", extra=_log_fields(row, row_id, target))


def _log_fields(row: AuditRow, row_id: int, target: str) -> dict[str, object]:
    """The command log line's fields: who, where, what on which host, how it ended, the row."""
    failed = row.outcome not in ("ok", "preview", "cancelled")
    return {"user": row.user_id, "channel": row.channel_id, "host": row.host,
            "command": row.command, "target": target, "decision": row.decision,
            "outcome": row.outcome, "error": row.message.split("\n", 1)[0][:200] if failed else "",
            "duration_ms": row.duration_ms, "audit_id": row_id or None}


def _unusable(button: Button | None, action_id: str) -> DockopsError:
    """Why a clicked token cannot run: unknown or forged, used, or expired."""
    if button is None or button.action_id != action_id:
        return DockopsError("This button is not known here; nothing was done.",
                            detail="Run the command again by typing it.")
    if button.used_by:
        return DockopsError(md("This button was already used by {}; this click did nothing.",
                               confirm_views.who(button.used_by, "slack")))
    return DockopsError("This button has expired; nothing was done.",
                        detail="Run the command again by typing it.")


def _unaudited(problem: str) -> DockopsError:
    """The answer to a command refused because its audit row could not be written."""
    return DockopsError(f"Not run: the audit trail cannot be written ({problem}), and dockops "
                        "runs nothing it cannot audit; nothing was changed. Ask an admin to "
                        "free space in or fix the bot's data directory (/healthz shows the "
                        "reason), then try again.", kind="refused")


def _one(hosts: tuple[str, ...]) -> str:
    """The host name when the command acts on exactly one."""
    return hosts[0] if len(hosts) == 1 else ""
