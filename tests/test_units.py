"""bot.units against the tables of go-units (size_test.go, duration_test.go) and docker/cli
(formatter/container_test.go, displayutils_test.go): the CLI's own cases, ported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import units
from bot.units import Port

KB, MB, GB, TB, PB = 1000, 1000**2, 1000**3, 1000**4, 1000**5
KiB, MiB, GiB, TiB, PiB = 1024, 1024**2, 1024**3, 1024**4, 1024**5
MINUTE, HOUR = 60, 3600
DAY = 24 * HOUR
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


@pytest.mark.parametrize(("n", "expected"), [
    (1024, "1KiB"), (1024 * 1024, "1MiB"), (1048576, "1MiB"), (2 * MiB, "2MiB"),
    (3.42 * GiB, "3.42GiB"), (5.372 * TiB, "5.372TiB"), (2.22 * PiB, "2.22PiB"),
    (KiB**5 * PiB, "1.049e+06YiB"), (23.54 * GiB, "23.54GiB"), (0, "0B"),
])
def test_bytes_size_is_go_units_bytes_size(n: float, expected: str) -> None:
    assert units.bytes_size(n) == expected


@pytest.mark.parametrize(("n", "expected"), [
    (1000, "1kB"), (1024, "1.024kB"), (1000000, "1MB"), (1048576, "1.049MB"), (2 * MB, "2MB"),
    (3.42 * GB, "3.42GB"), (5.372 * TB, "5.372TB"), (2.22 * PB, "2.22PB"),
    (10000000000000 * PB, "1e+04YB"),
])
def test_disk_size_is_go_units_human_size(n: float, expected: str) -> None:
    assert units.disk_size(n) == expected


@pytest.mark.parametrize(("n", "expected"), [
    (10, "10B"), (20, "20B"), (0, "0B"), (800, "800B"), (2500, "2.5kB"), (1990000, "1.99MB"),
    (1994999, "1.99MB"), (1024, "1.02kB"), (1048576, "1.05MB"), (999, "999B"),
    (999500, "1e+03kB"),  # Go's %.3g, kept as the CLI prints it
    (21.5 * MB, "21.5MB"), (4.4 * GB, "4.4GB"),
])
def test_human_size_is_the_cli_three_digit_size(n: float, expected: str) -> None:
    assert units.human_size(n) == expected


@pytest.mark.parametrize(("seconds", "expected"), [
    (0.45, "Less than a second"), (1, "1 second"), (45, "45 seconds"), (46, "46 seconds"),
    (59, "59 seconds"), (60, "About a minute"), (3 * MINUTE, "3 minutes"),
    (35 * MINUTE, "35 minutes"), (35 * MINUTE + 40, "35 minutes"), (45 * MINUTE, "45 minutes"),
    (45 * MINUTE + 40, "45 minutes"), (46 * MINUTE, "46 minutes"), (59 * MINUTE, "59 minutes"),
    (HOUR, "About an hour"), (HOUR + 29 * MINUTE, "About an hour"),
    (HOUR + 31 * MINUTE, "2 hours"), (HOUR + 59 * MINUTE, "2 hours"), (3 * HOUR, "3 hours"),
    (3 * HOUR + 29 * MINUTE, "3 hours"), (3 * HOUR + 31 * MINUTE, "4 hours"),
    (3 * HOUR + 59 * MINUTE, "4 hours"), (3 * HOUR + 60 * MINUTE, "4 hours"),
    (24 * HOUR, "24 hours"), (DAY + 12 * HOUR, "36 hours"), (2 * DAY, "2 days"),
    (7 * DAY, "7 days"), (13 * DAY + 5 * HOUR, "13 days"), (2 * WEEK, "2 weeks"),
    (2 * WEEK + 4 * DAY, "2 weeks"), (3 * WEEK, "3 weeks"), (4 * WEEK, "4 weeks"),
    (4 * WEEK + 3 * DAY, "4 weeks"), (MONTH, "4 weeks"), (MONTH + 2 * WEEK, "6 weeks"),
    (2 * MONTH, "2 months"), (2 * MONTH + 2 * WEEK, "2 months"), (3 * MONTH, "3 months"),
    (3 * MONTH + WEEK, "3 months"), (5 * MONTH + 2 * WEEK, "5 months"),
    (13 * MONTH, "13 months"), (23 * MONTH, "23 months"), (24 * MONTH, "24 months"),
    (24 * MONTH + 2 * WEEK, "2 years"), (3 * YEAR + 2 * MONTH, "3 years"),
    # what issue 13 saw wrong: 90-119 s, 30 hours, 20 days
    (90, "About a minute"), (119, "About a minute"), (30 * HOUR, "30 hours"),
    (20 * DAY, "2 weeks"), (-5, "Less than a second"),
])
def test_human_duration_is_go_units_human_duration(seconds: float, expected: str) -> None:
    assert units.human_duration(seconds) == expected


def test_ago_wraps_the_duration_as_the_cli() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert units.ago(now - timedelta(seconds=65), now) == "About a minute ago"
    assert units.ago(now - timedelta(days=1), now) == "24 hours ago"


@pytest.mark.parametrize(("value", "expected"), [
    ("sha256:a5a665ff33eced1e0803148700880edab4269067ed77e27737a708d0d293fbf5", "a5a665ff33ec"),
    ("a5a665ff33eced1e0803148700880edab4269067ed77e27737a708d0d293fbf5", "a5a665ff33ec"),
    ("abc", "abc"),
])
def test_short_id_is_truncate_id(value: str, expected: str) -> None:
    assert units.short_id(value) == expected


@pytest.mark.parametrize(("source", "width", "expected"), [
    ("t🐳ststring", 0, ""), ("t🐳ststring", 1, "t"), ("t🐳ststring", 2, "t…"),
    ("t🐳ststring", 6, "t🐳st…"), ("t🐳ststring", 20, "t🐳ststring"),
    ("你好世界teststring", 0, ""), ("你好世界teststring", 1, "你"), ("你好世界teststring", 3, "你…"),
    ("你好世界teststring", 6, "你好…"), ("你好世界teststring", 20, "你好世界teststring"),
    ("this-is-a-long-volume-name-and-will-be-truncated-if-trunc-is-set", 15, "this-is-a-long…"),
])
def test_ellipsis_is_the_cli_ellipsis(source: str, width: int, expected: str) -> None:
    assert units.ellipsis(source, width) == expected


@pytest.mark.parametrize(("command", "no_trunc", "expected"), [
    ("sh -c 'ls -la'", False, "\"sh -c 'ls -la'\""),
    ("", False, '""'),
    ("sh -c 'sleep 1000; echo done'", False, "\"sh -c 'sleep 1000; …\""),
    ("sh -c 'sleep 1000; echo done'", True, "\"sh -c 'sleep 1000; echo done'\""),
    ('echo "hi" \\ there', True, '"echo \\"hi\\" \\\\ there"'),
    ("printf 'a\tb\n'", True, '"printf \'a\\tb\\n\'"'),
    ("echo \x01é", True, '"echo \\x01é"'),
])
def test_ps_command_is_quoted_and_cut_as_the_cli(command: str, no_trunc: bool,
                                                  expected: str) -> None:
    assert units.ps_command(command, no_trunc=no_trunc) == expected


ID = "a5a665ff33eced1e0803148700880edab4269067ed77e27737a708d0d293fbf5"


@pytest.mark.parametrize(("image", "image_id", "no_trunc", "expected"), [
    ("ubuntu", "sha256:" + ID, False, "ubuntu"),
    ("verylongimagename", "", False, "verylongimagename"),
    ("a5a665ff33eced1e0803148700880edab4", ID, False, "a5a665ff33ec"),
    ("a5a665ff33eced1e0803148700880edab4", ID, True, "a5a665ff33eced1e0803148700880edab4"),
    ("sha256:" + ID, "sha256:" + ID, False, "a5a665ff33ec"),
    ("", "", False, "<no image>"),
    ("registry.example.com/team/a-very-long-image-name-past-thirty:1.0", "", False,
     "registry.example.com/team/a-very-long-image-name-past-thirty:1.0"),
    ("docker.io/library/busybox:1.36", "", False, "busybox:1.36"),
    ("127.0.0.1:5000/team/app:1.0@sha256:" + ID, "", False, "127.0.0.1:5000/team/app:1.0"),
])
def test_ps_image_is_the_cli_image_column(image: str, image_id: str, no_trunc: bool,
                                          expected: str) -> None:
    assert units.ps_image(image, image_id, no_trunc=no_trunc) == expected


P = Port
PORT_CASES = [
    ([P(9988, "tcp")], "9988/tcp"),
    ([P(9988, "udp")], "9988/udp"),
    ([P(9988, "tcp", 0, "0.0.0.0")], "0.0.0.0:0->9988/tcp"),
    ([P(9988, "tcp", 8899)], "9988/tcp"),
    ([P(9988, "tcp", 8899, "4.3.2.1")], "4.3.2.1:8899->9988/tcp"),
    ([P(9988, "tcp", 9988, "4.3.2.1")], "4.3.2.1:9988->9988/tcp"),
    ([P(9988, "udp"), P(9988, "udp")], "9988/udp, 9988/udp"),
    ([P(9998, "udp", 9998, "1.2.3.4"), P(9999, "udp", 9999, "1.2.3.4")],
     "1.2.3.4:9998-9999->9998-9999/udp"),
    ([P(9998, "udp", 8887, "1.2.3.4"), P(9999, "udp", 8888, "1.2.3.4")],
     "1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp"),
    ([P(9998, "udp"), P(9999, "udp")], "9998-9999/udp"),
    ([P(6677, "tcp", 7766, "1.2.3.4"), P(9988, "udp", 8899)],
     "9988/udp, 1.2.3.4:7766->6677/tcp"),
    ([P(9988, "udp", 8899, "1.2.3.4"), P(9988, "tcp", 8899, "1.2.3.4"),
      P(2233, "tcp", 3322, "4.3.2.1")],
     "4.3.2.1:3322->2233/tcp, 1.2.3.4:8899->9988/tcp, 1.2.3.4:8899->9988/udp"),
    ([P(9988, "udp", 8899), P(6677, "tcp", 7766, "1.2.3.4"), P(2233, "tcp", 3322, "4.3.2.1")],
     "9988/udp, 4.3.2.1:3322->2233/tcp, 1.2.3.4:7766->6677/tcp"),
    ([P(80, "tcp"), P(1024, "tcp"), P(80, "udp"), P(1024, "udp"),
      P(1024, "tcp", 80, "1.1.1.1"), P(1024, "udp", 80, "1.1.1.1"),
      P(80, "tcp", 1024, "1.1.1.1"), P(80, "udp", 1024, "1.1.1.1"),
      P(1024, "tcp", 80, "2.1.1.1"), P(1024, "udp", 80, "2.1.1.1"),
      P(80, "tcp", 1024, "2.1.1.1"), P(80, "udp", 1024, "2.1.1.1"), P(12345, "sctp")],
     "80/tcp, 80/udp, 1024/tcp, 1024/udp, 12345/sctp, 1.1.1.1:1024->80/tcp, "
     "1.1.1.1:1024->80/udp, 2.1.1.1:1024->80/tcp, 2.1.1.1:1024->80/udp, 1.1.1.1:80->1024/tcp, "
     "1.1.1.1:80->1024/udp, 2.1.1.1:80->1024/tcp, 2.1.1.1:80->1024/udp"),
    # IPv6 in brackets, as Go's net.JoinHostPort writes it
    ([P(80, "tcp", 3000, "0.0.0.0"), P(80, "tcp", 3000, "::")],
     "0.0.0.0:3000->80/tcp, [::]:3000->80/tcp"),
    ([P(8001, "tcp", 8001, "::"), P(8000, "tcp", 8000, "0.0.0.0"), P(8001, "tcp", 8001, "0.0.0.0"),
      P(8000, "tcp", 8000, "::")],
     "0.0.0.0:8000-8001->8000-8001/tcp, [::]:8000-8001->8000-8001/tcp"),
    ([], ""),
]


@pytest.mark.parametrize(("ports", "expected"), PORT_CASES)
def test_displayable_ports_is_the_cli_ports_column(ports: list[Port], expected: str) -> None:
    assert units.displayable_ports(ports) == expected
