"""`[[jobs]]` validation and `dockops check`: each mistake named with its line and the fix."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.check import check
from bot.config import EnvSettings, PruneJobConfig, Settings, UpdateJobConfig, parse_file
from bot.errors import DockopsError
from bot.jobs.cron import CronError, next_runs, parse_schedule

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[[jobs]]
name = "nightly-prune"
type = "prune"
schedule = "0 3 * * *"
channel = "C0OPS"
all = true
until = "168h"
keep = ["127.0.0.1:5000/base/*", "label:keep=true"]

[[jobs]]
name = "updates"
type = "update"
schedule = "*/30 * * * *"
channel = "C0OPS"
images = ["127.0.0.1:5000/team/api:latest"]
containers = "label:dockops.watch=true"
action = "notify"
"""


def mistakes(text: str) -> list[str]:
    with pytest.raises(DockopsError) as caught:
        parse_file(text)
    return caught.value.detail.splitlines()


def test_the_issue_example_is_valid_and_check_lists_the_next_runs_in_utc() -> None:
    settings = Settings(EnvSettings(dockops_data_dir="/tmp/unused"), parse_file(GOOD), None)
    out = io.StringIO()
    assert check(settings, out) == 0
    text = out.getvalue()
    assert "configuration OK" in text
    assert "job nightly-prune: prune every '0 3 * * *' (UTC)" in text
    assert "job updates: update" in text and "posts to C0OPS" in text


def test_crontab_sunday_is_zero_or_seven_not_monday() -> None:
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC)
    for schedule in ("30 3 * * 0", "30 3 * * 7", "30 3 * * sun", "30 3 * * SUN"):
        fire = next_runs(schedule, 1, after=saturday)[0]
        assert fire.strftime("%a %H:%M") == "Sun 03:30", schedule
    weekdays = {d.strftime("%a") for d in next_runs("0 9 * * 1-5", 10, after=saturday)}
    assert weekdays == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert {d.strftime("%a") for d in next_runs("0 9 * * 5-7", 6, after=saturday)} == \
        {"Fri", "Sat", "Sun"}
    assert str(parse_schedule("@daily").timezone) == "UTC"


@pytest.mark.parametrize("schedule, words", [
    ("61 * * * *", "minute '61'"),
    ("0 3 * *", "has 4 field(s)"),
    ("0 3 * * funday", "'funday' is not a day"),
    ("0 3 1 * mon", "restricts both"),
    ("0 3 * 13 *", "month '13'"),
])
def test_bad_schedules_say_which_field(schedule: str, words: str) -> None:
    with pytest.raises(CronError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(schedule)


def test_each_mistake_names_the_job_its_line_and_the_fix() -> None:
    text = """[access]
default_role = "viewer"

[[jobs]]
name = "nightly-prune"
type = "prune"
schedule = "0 3 * * *"
channel = "C0OPS"

[[jobs]]
name = "updates"
type = "update"
schedule = "0 25 * * *"
channel = "#ops"
images = ["127.0.0.1:5000/team/api:latest"]
colour = "red"
"""
    lines = mistakes(text)
    assert len(lines) == 3
    assert lines[0].startswith("line 13: [[jobs]] #2 (updates) schedule:")
    assert "hour '25'" in lines[0] and "hour (0-23)" in lines[0]
    assert lines[1].startswith("line 14: [[jobs]] #2 (updates) channel:")
    assert "not a channel ID" in lines[1] and "not its #name" in lines[1]
    assert lines[2].startswith("line 16: [[jobs]] #2 (updates) colour: unknown key")


def test_names_are_unique_types_keep_their_own_keys_and_durations_parse() -> None:
    twice = GOOD + '\n[[jobs]]\nname = "updates"\ntype = "prune"\nschedule = "0 4 * * *"\n' \
                   'channel = "C0OPS"\n'
    [line] = mistakes(twice)
    assert line.startswith("line 21: [[jobs]]") and "'updates' is used twice" in line
    stray = '[[jobs]]\nname = "p"\ntype = "prune"\nschedule = "0 4 * * *"\nchannel = "C0OPS"\n' \
            'images = ["a:1"]\n'
    [line] = mistakes(stray)
    assert line.startswith("line 1: [[jobs]] #1 (p):") and "images do(es) not apply to a prune job" \
        in line
    empty = '[[jobs]]\nname = "u"\ntype = "update"\nschedule = "0 4 * * *"\nchannel = "C0OPS"\n'
    assert "an update job watches something" in mistakes(empty)[0]
    bad_until = '[[jobs]]\nname = "p"\ntype = "prune"\nschedule = "0 4 * * *"\n' \
                'channel = "C0OPS"\nuntil = "a week"\n'
    [line] = mistakes(bad_until)
    assert line.startswith("line 6:") and "'a week' is not a duration" in line
    missing = '[[jobs]]\nname = "p"\ntype = "prune"\nschedule = "0 4 * * *"\n'
    assert mistakes(missing) == ["line 1: [[jobs]] #1 (p) channel: required, but missing. Add it."]


def test_the_type_picks_the_job_model_and_durations_arrive_as_timedeltas() -> None:
    prune, update = parse_file(GOOD).jobs
    assert isinstance(prune, PruneJobConfig) and prune.until == timedelta(hours=168)
    assert isinstance(update, UpdateJobConfig)
    assert (update.jitter, update.recreate_timeout) == (timedelta(seconds=5), timedelta(seconds=60))
    week = parse_file(GOOD.replace('"168h"', '"7d"').replace('action = "notify"',
                                                            'jitter = "0s"\nrecreate_timeout = "2m"'))
    assert week.jobs[0].until == timedelta(days=7)
    assert (week.jobs[1].jitter, week.jobs[1].recreate_timeout) == (timedelta(0), timedelta(minutes=2))
    assert parse_file(GOOD.replace('until = "168h"', 'until = ""')).jobs[0].until is None


@pytest.mark.parametrize(("setting", "expected"), [
    ('jitter = 5', 'line 6: [[jobs]] #1 (u) jitter: expected a duration, got 5. Write it in double '
                   'quotes, e.g. "10m".'),
    ('recreate_timeout = "1 minute"', "line 6: [[jobs]] #1 (u) recreate_timeout: '1 minute' is not "
                                      "a duration: use forms like 30s, 10m, 2h, 7d."),
    ('recreate_timeout = ""', "line 6: [[jobs]] #1 (u) recreate_timeout: '' is not a duration"),
])
def test_each_duration_mistake_is_one_line(setting: str, expected: str) -> None:
    text = ('[[jobs]]\nname = "u"\ntype = "update"\nschedule = "0 4 * * *"\nchannel = "C0OPS"\n'
            f'{setting}\nimages = ["a:1"]\n')
    [line] = mistakes(text)
    assert line.startswith(expected)


def test_a_missing_or_unknown_job_type_is_named_like_any_other_key() -> None:
    job = '[[jobs]]\nname = "p"\nschedule = "0 4 * * *"\nchannel = "C0OPS"\n'
    assert mistakes(job) == ["line 1: [[jobs]] #1 (p) type: required, but missing. Add it."]
    assert mistakes(job + 'type = "cleanup"\n') == \
        ['line 5: [[jobs]] #1 (p) type: must be "prune" or "update", got "cleanup".']
    [line] = mistakes(job + 'type = "update"\nimages = ["a:1"]\njiter = "1s"\n')
    assert line.startswith("line 7: [[jobs]] #1 (p) jiter: unknown key: did you mean jitter?")


def test_a_job_on_an_unconfigured_host_is_a_mistake() -> None:
    text = GOOD.replace('name = "updates"', 'name = "updates"\nhosts = ["prod"]')
    settings = Settings(EnvSettings(dockops_data_dir="/tmp/unused"), parse_file(text), None)
    out = io.StringIO()
    assert check(settings, out) == 1
    assert "host 'prod' is not configured" in out.getvalue()


def test_dockops_check_exits_non_zero_and_prints_the_lines(tmp_path: Path) -> None:
    config = tmp_path / "dockops.toml"
    config.write_text(GOOD.replace('"*/30 * * * *"', '"*/30 * * *"'))
    env = {**os.environ, "DOCKOPS_CONFIG": str(config), "DOCKOPS_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run([sys.executable, "-m", "bot", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "line 14: [[jobs]] #2 (updates) schedule:" in done.stderr
    assert "has 4 field(s)" in done.stderr
    config.write_text(GOOD)
    done = subprocess.run([sys.executable, "-m", "bot", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "configuration OK" in done.stdout
