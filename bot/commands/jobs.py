"""The bot's own commands: scheduled jobs (list, run, pause, resume, history, snooze) and
open follows (list, stop). They touch no Docker host directly."""

from __future__ import annotations

from bot.commands.spec import Arg, Command, Flag
from bot.roles import Role

JOBS = Command(
    ("jobs",), "List scheduled jobs with their next run and last result", Role.VIEWER,
    aliases=(("jobs", "ls"),),
    examples=("jobs",),
    on_host=False,
)

JOBS_RUN = Command(
    ("jobs", "run"), "Run a job now (the schedule does not move)", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs run nightly-prune",),
    on_host=False,
)

JOBS_PAUSE = Command(
    ("jobs", "pause"), "Pause a job's schedule", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs pause updates",),
    on_host=False,
)

JOBS_RESUME = Command(
    ("jobs", "resume"), "Resume a paused job", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs resume updates",),
    on_host=False,
)

JOBS_HISTORY = Command(
    ("jobs", "history"), "Show a job's recent runs", Role.VIEWER,
    args=(Arg("NAME"),),
    flags=(Flag("last", "n", "int", "How many runs (default 10)", "N"),),
    examples=("jobs history nightly-prune",),
    on_host=False,
)

JOBS_SNOOZE = Command(
    ("jobs", "snooze"), "Stop update notices for an image for a while (default 24h)", Role.VIEWER,
    args=(Arg("IMAGE"),),
    flags=(Flag("for", kind="str", help="How long: 30m, 24h, 7d (default 24h)",
                metavar="DURATION"),),
    examples=("jobs snooze registry.example/team/app:1.4", "jobs snooze app:latest --for 7d"),
    on_host=False,
)

FOLLOWS = Command(
    ("follows",), "List the open follows (logs -f, attach) and who started them", Role.VIEWER,
    aliases=(("follows", "ls"),),
    examples=("follows",),
    on_host=False,
)

FOLLOWS_STOP = Command(
    ("follows", "stop"), "Stop an open follow (what its Stop button does)", Role.OPERATOR,
    args=(Arg("FOLLOW_ID"),),
    examples=("follows stop 3f2a9c1d7e4b",),
    on_host=False,
)

COMMANDS = (JOBS, JOBS_RUN, JOBS_PAUSE, JOBS_RESUME, JOBS_HISTORY, JOBS_SNOOZE, FOLLOWS,
            FOLLOWS_STOP)
