"""Scheduled maintenance job control: list, run now, pause, resume, history."""

from __future__ import annotations

from bot.commands.spec import Arg, Command, Flag
from bot.roles import Role

JOBS = Command(
    ("jobs",), "List scheduled jobs with their next run and last result", Role.VIEWER,
    aliases=(("jobs", "ls"),),
    examples=("jobs",),
)

JOBS_RUN = Command(
    ("jobs", "run"), "Run a job now (the schedule does not move)", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs run nightly-prune",),
)

JOBS_PAUSE = Command(
    ("jobs", "pause"), "Pause a job's schedule", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs pause updates",),
)

JOBS_RESUME = Command(
    ("jobs", "resume"), "Resume a paused job", Role.ADMIN,
    args=(Arg("NAME"),),
    examples=("jobs resume updates",),
)

JOBS_HISTORY = Command(
    ("jobs", "history"), "Show a job's recent runs", Role.VIEWER,
    args=(Arg("NAME"),),
    flags=(Flag("last", "n", "int", "How many runs (default 10)", "N"),),
    examples=("jobs history nightly-prune",),
)

COMMANDS = (JOBS, JOBS_RUN, JOBS_PAUSE, JOBS_RESUME, JOBS_HISTORY)
