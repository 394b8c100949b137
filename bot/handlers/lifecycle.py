"""run, start, stop, restart, kill, exec: the run policy first, then the engine, then the view."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable, Iterable

from bot import credentials, refs
from bot.commands.spec import Invocation
from bot.commands.values import RunRequest
from bot.engine import lifecycle, volumes
from bot.engine import registry as engine_registry
from bot.engine.client import Engine
from bot.engine.privileges import ContainerPrivileges, container_privileges
from bot.errors import DockopsError, EngineError, NoSuchContainer, RefusedError, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.progress import ThrottledThread
from bot.policy import check_run
from bot.policy.objects import check_named_volumes
from bot.policy.run import (
    check_auto_restart,
    check_exec,
    check_join,
    check_start,
    check_user,
    join_targets,
)
from bot.redact import mask_command
from bot.roles import Role
from bot.views import lifecycle as views
from bot.views import remove as remove_views
from bot.views.message import Message


def no_terminal(inv: Invocation) -> UsageError:
    """`-i`/`-t`: Slack has no terminal, and dockops never waits for input that cannot come.

    The sentence gives the line to type instead: the same one without -i/-t (`run` detached).
    """
    verb = inv.command.name
    words = mask_command(without_terminal_flags(inv))  # the reply is public: no -e secret
    if verb == "run":
        name = inv.opt("name") or "NAME"
        return UsageError(
            f"Slack has no terminal, so `{verb} -it` cannot work here: run it detached with "
            f"`/docker {words}` and follow its output with `/docker logs -f {name}`.",
            detail="`run -d` prints the new container's ID; `ps` shows its name.")
    return UsageError(
        f"Slack has no terminal, so `{verb} -it` cannot work here: run the command without it, "
        f"`/docker {words}`, and dockops posts its output and exit code.",
        detail="A shell needs its commands as arguments: `exec NAME sh -c 'cmd1; cmd2'`.")


def without_terminal_flags(inv: Invocation) -> str:
    """The typed command line with -i/-t (and --interactive/--tty) taken out of the flags that
    come before the image or container, and -d added to `run`; what follows is kept as typed."""
    command = inv.command
    words = shlex.split(inv.text)
    start = _command_end(words, [command.path, *command.aliases])
    out, at = words[:start], start
    detach = False
    while at < len(words) and words[at].startswith("-") and words[at] != "-":
        word = words[at]
        at += 1
        if word.startswith("--"):
            name, has_value, _ = word[2:].partition("=")
            flag = command.flag(name)
            detach = detach or name == "detach"
            if flag is not None and flag.long in ("interactive", "tty"):
                continue
            out.append(word)
            if flag is not None and flag.takes_value and not has_value and at < len(words):
                out.append(words[at])
                at += 1
            continue
        kept = ""
        for index, letter in enumerate(word[1:], start=1):
            flag = command.flag(letter)
            detach = detach or letter == "d"
            if flag is not None and flag.takes_value:
                kept += word[index:]
                if index == len(word) - 1 and at < len(words):
                    out += [f"-{kept}", words[at]] if kept else [words[at]]
                    at, kept = at + 1, ""
                break
            if letter not in ("i", "t"):
                kept += letter
        if kept:
            out.append(f"-{kept}")
    if command.name == "run" and not detach:
        out.insert(start, "-d")
    return shlex.join(out + words[at:])


def _command_end(words: list[str], paths: list[tuple[str, ...]]) -> int:
    """Where the command's own words (`run`, `container run`) end in the typed words."""
    for index in range(len(words)):
        for path in paths:
            if tuple(words[index:index + len(path)]) == tuple(path):
                return index + len(path)
    return 0


def run_request(inv: Invocation) -> RunRequest:
    """The `run` command line as a request; its values were converted when it was parsed.

    Only what no single flag can see is checked here: --rm with a restart policy.
    """
    opt = inv.opt
    restart = opt("restart")
    if opt("rm") and restart is not None and restart.name != "no":
        raise UsageError("Conflicting options: --restart and --rm.",
                         detail="A container removed when it exits cannot be restarted: keep "
                                "one of the two.")
    return RunRequest(
        image=inv.args[0], command=tuple(inv.args[1:]), name=opt("name"),
        detach=bool(opt("detach")), remove=bool(opt("rm")), env=opt("env"), labels=opt("label"),
        ports=opt("publish"), restart=restart, workdir=opt("workdir"),
        entrypoint=opt("entrypoint"), volumes=opt("volume"), mounts=opt("mount"),
        network=opt("network"), user=opt("user"), hostname=opt("hostname"),
        memory=opt("memory"), nano_cpus=opt("cpus"),
        privileged=bool(opt("privileged")), cap_add=tuple(opt("cap_add")),
        devices=tuple(opt("device")), pid=opt("pid"), ipc=opt("ipc"),
        security_opt=tuple(opt("security_opt")), uts=opt("uts"),
        volumes_from=tuple(opt("volumes_from")),
    )


def _existing(ctx: Context, container: str) -> ContainerPrivileges:
    """The facts about a container a command needs to exist; NoSuchContainer when it does not."""
    found = container_privileges(ctx.engine, container)
    if found is None:
        raise NoSuchContainer(f"No such container: `{container}`. Nothing was done.",
                              detail="`/docker ps -a` lists the containers.")
    return found


def _joins_checked(ctx: Context, request: RunRequest) -> RunRequest:
    """Check every container the run joins; name each by the ID checked, so no other is used."""
    ids: dict[str, str] = {}
    for join in join_targets(ctx.invocation):
        target = _existing(ctx, join.container)
        check_join(join, target, ctx.services.settings.run)
        ids[join.container] = target.id

    def pinned(value: str | None) -> str | None:
        if value is None or not value.strip().lower().startswith("container:"):
            return value
        return "container:" + ids[value.split(":", 1)[1].strip()]

    def pinned_volumes(value: str) -> str:
        name, colon, mode = value.partition(":")
        return ids[name.strip()] + colon + mode

    if not ids:
        return request
    return dataclasses.replace(
        request, pid=pinned(request.pid), ipc=pinned(request.ipc),
        network=pinned(request.network), uts=pinned(request.uts),
        volumes_from=tuple(pinned_volumes(v) for v in request.volumes_from))


def _starts_checked(ctx: Context, verb: str) -> dict[str, str]:
    """Re-check the bind mounts of every container named before any starts: name -> ID.

    Missing names are left out: the verb itself reports them, as before.
    """
    ids: dict[str, str] = {}
    for name in ctx.invocation.args:
        target = container_privileges(ctx.engine, name)
        if target is not None:
            check_start(target, ctx.role, ctx.services.settings.run, verb)
            if ctx.role < Role.ADMIN:
                _check_named_volumes(ctx, target.volume_names)
            ids[name] = target.id
    return ids


def _check_named_volumes(ctx: Context, names: Iterable[str]) -> None:
    """A named volume whose local-driver options bind a host path is a bind: same rule."""
    check_named_volumes(volumes.volume_options(ctx.engine, names), ctx.services.settings.run)


def _named_volumes(request: RunRequest) -> list[str]:
    """The named volumes a run mounts (`-v NAME:/path`, `--mount type=volume,source=NAME`)."""
    return [*(v.source for v in request.volumes if v.source and not v.is_bind),
            *(m.source for m in request.mounts if m.type == "volume" and m.source)]


@handles("run")
def run(ctx: Context) -> Message:
    inv = ctx.invocation
    if inv.opt("interactive") or inv.opt("tty"):
        raise no_terminal(inv)
    if inv.opt("env_file"):
        raise RefusedError("`--env-file` is refused: dockops cannot read files on your machine, "
                           "and a file on the bot's host is not yours to choose.",
                           detail="Pass each variable with `-e KEY=VALUE`.")
    check_run(inv, ctx.services.settings.run)
    request = run_request(inv)
    _check_named_volumes(ctx, _named_volumes(request))
    check_auto_restart(inv, ctx.role)
    request = _joins_checked(ctx, request)
    # Allowed by now: only a run the policy lets through may pull its image.
    pull = _pull_policy(inv)
    if pull == "always" or (pull == "missing"
                            and not lifecycle.image_present(ctx.engine, request.image)):
        _pull_for_run(ctx, request.image, missing=pull == "missing")
    if request.detach:
        return views.started(lifecycle.run_detached(ctx.engine, request), host=ctx.host_label)
    wait = ctx.services.settings.limits.attached_run_seconds
    result = lifecycle.run_attached(ctx.engine, request, wait_seconds=wait)
    return views.attached(result, wait_seconds=wait, host=ctx.host_label)


def _pull_policy(inv: Invocation) -> str:
    """`--pull`, read as the CLI reads it (default "missing")."""
    value = inv.opt("pull") or "missing"
    if value not in ("always", "missing", "never"):
        raise UsageError(f"invalid pull option: '{value}': must be one of \"always\", "
                         "\"missing\" or \"never\".", detail="Example: /docker run --pull "
                                                              "always -d IMAGE")
    return value


def _pull_for_run(ctx: Context, image: str, *, missing: bool = True) -> None:
    """As the CLI: "Unable to find image 'x:latest' locally", the pull in place, then the run."""
    try:
        reference = refs.normalize(image)
    except refs.InvalidReference:
        return  # an image ID or a malformed name: the create says what is wrong with it
    thread = ThrottledThread(ctx.responder.start_thread(
        views.run_pulling(reference, None, missing=missing)))
    auth = credentials.auth_config(ctx.services.settings, reference)
    try:
        result = engine_registry.pull(
            ctx.engine, reference, auth,
            on_progress=lambda progress: thread.progress(
                lambda: views.run_pulling(reference, progress, missing=missing)))
    except DockopsError as exc:
        thread.finish(views.run_pull_failed(reference, exc, missing=missing))
        raise
    thread.finish(views.run_pulled(result, missing=missing))


@handles("start")
def start(ctx: Context) -> Message:
    inv = ctx.invocation
    if inv.opt("attach"):
        if len(inv.args) > 1:
            raise UsageError("`start -a` attaches to one container at a time.",
                             detail=f"Example: /docker start -a {inv.args[0]}")
        ids = _starts_checked(ctx, "start")
        wait = ctx.services.settings.limits.attached_run_seconds
        result = lifecycle.start_attached(ctx.engine, ids.get(inv.args[0], inv.args[0]),
                                          wait_seconds=wait)
        return views.attached(result, wait_seconds=wait, host=ctx.host_label)
    ids = _starts_checked(ctx, "start")
    return _each(ctx, "start", lambda engine, name: lifecycle.start(engine, ids.get(name, name)))


def _each(ctx: Context, verb: str, action: Callable[[Engine, str], None], suffix: str = ""
          ) -> Message:
    """One verb on every container named; a failure stops only its own container."""
    results = lifecycle.each(ctx.invocation.args, lambda name: action(ctx.engine, name))
    return views.done(verb, results, suffix=suffix, host=ctx.host_label)


def _stop_wait(ctx: Context) -> int | None:
    """`-t N` of stop/restart, at most [limits] stop_timeout_max_seconds (a worker waits it out).

    docker-py adds N to the call's HTTP timeout, so the engine call outlives the wait.
    """
    seconds = ctx.invocation.opt("time")
    if seconds is not None and seconds < 0:
        raise UsageError(f"`-t {seconds}`: the time to wait cannot be negative.")
    most = ctx.services.settings.limits.stop_timeout_max_seconds
    if seconds is not None and seconds > most:
        shown = seconds if len(str(seconds)) <= 12 else f"{str(seconds)[:9]}..."
        raise UsageError(f"`-t {shown}`: dockops waits at most {most:g} s before killing "
                         "(`stop_timeout_max_seconds` in [limits]).")
    return seconds


@handles("stop")
def stop(ctx: Context) -> Message:
    seconds = _stop_wait(ctx)
    return _each(ctx, "stop", lambda engine, name: lifecycle.stop(engine, name, timeout=seconds))


@handles("restart")
def restart(ctx: Context) -> Message:
    seconds = _stop_wait(ctx)
    ids = _starts_checked(ctx, "restart")
    return _each(ctx, "restart", lambda engine, name: lifecycle.restart(
        engine, ids.get(name, name), timeout=seconds))


def _signal(inv: Invocation) -> str | None:
    signal = inv.opt("signal")
    if signal is not None and not signal.strip():
        raise UsageError("`-s` needs a signal name or number, e.g. -s HUP.")
    return signal


@handles("kill")
def kill(ctx: Context) -> Message:
    signal = _signal(ctx.invocation)
    return _each(ctx, "kill", lambda engine, name: lifecycle.kill(engine, name, signal=signal),
                 suffix=f" with {signal}" if signal else "")


@previews("kill")
def kill_preview(ctx: Context) -> Message:
    signal = _signal(ctx.invocation)
    targets = lifecycle.find_for_signal(ctx.engine, ctx.invocation.args)
    idle = [t for t in targets if t.state not in ("running", "restarting", "paused")]
    if idle:
        names = ", ".join(f"`{t.name}`" for t in idle)
        raise EngineError(f"{names} {'is' if len(idle) == 1 else 'are'} not running: there is "
                          "nothing to kill. Nothing was done.",
                          detail="`/docker ps` lists the running containers.")
    return remove_views.signal_preview("kill", targets, f" with {signal or 'SIGKILL'}",
                                       signal=signal)


@previews("stop")
def stop_preview(ctx: Context) -> Message:
    seconds = _stop_wait(ctx)
    targets = lifecycle.find_for_signal(ctx.engine, ctx.invocation.args)
    waits = {seconds} if seconds is not None else {
        10 if t.stop_timeout is None else t.stop_timeout for t in targets}
    shown = f"{waits.pop()} s" if len(waits) == 1 else "each one's --stop-timeout"
    return remove_views.signal_preview("stop", targets,
                                       f" (killed after {shown} if still running)")


@handles("exec")
def exec_(ctx: Context) -> Message:
    inv = ctx.invocation
    if inv.opt("interactive") or inv.opt("tty"):
        raise no_terminal(inv)
    check_user(inv.opt("user"), ctx.services.settings.run)
    target = container_privileges(ctx.engine, inv.args[0])
    if target is not None:  # missing: exec says so itself
        check_exec(target, ctx.role, ctx.services.settings.run)
    wait = ctx.services.settings.limits.attached_run_seconds
    result = lifecycle.exec_run(ctx.engine, inv.args[0], inv.args[1:],
                                env=inv.opt("env"), workdir=inv.opt("workdir"),
                                user=inv.opt("user"), detach=bool(inv.opt("detach")),
                                wait_seconds=wait)
    return views.exec_result(result, wait_seconds=wait)
