"""The stats columns as docker/cli's stats_helpers.go computes them, and `docker events` lines;
plain samples, no engine."""

from __future__ import annotations

import pytest

from bot.engine.results import ContainerStats, EngineEvent
from bot.engine.runtime import event_of, stats_row
from bot.views.runtime import event_line, port_lines, stats_cells


def _sample(**memory: object) -> dict[str, object]:
    return {
        "id": "a" * 64, "name": "/web",
        "cpu_stats": {"cpu_usage": {"total_usage": 400, "percpu_usage": [1, 2]},
                      "system_cpu_usage": 2000, "online_cpus": 4},
        "precpu_stats": {"cpu_usage": {"total_usage": 200}, "system_cpu_usage": 1000},
        "memory_stats": memory,
        "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 10},
                     "eth1": {"rx_bytes": 990_000, "tx_bytes": 0}},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"op": "Read", "value": 4096}, {"op": "write", "value": 1_000_000},
            {"op": "Total", "value": 9}, {"op": "", "value": 7}]},
        "pids_stats": {"current": 3},
    }


@pytest.mark.parametrize(("memory", "used", "percent"), [
    ({"usage": 500, "limit": 1000, "stats": {"total_inactive_file": 400}}, 100.0, 10.0),  # v1
    ({"usage": 500, "limit": 1000, "stats": {"inactive_file": 400}}, 100.0, 10.0),  # v2
    ({"usage": 500, "limit": 1000, "stats": {"total_inactive_file": 600}}, 500.0, 50.0),
    ({"usage": 500, "limit": 0, "stats": {}}, 500.0, 0.0),  # no limit: 0%, as the CLI
    ({}, 0.0, 0.0),  # a stopped container's empty sample
])
def test_memory_is_usage_without_the_inactive_page_cache(memory: dict, used: float,
                                                         percent: float) -> None:
    row = stats_row(_sample(**memory))
    assert (row.memory, row.memory_percent) == (used, percent)


def test_cpu_network_block_io_and_pids_as_the_cli() -> None:
    row = stats_row(_sample(usage=1536 * 1024, limit=int(23.54 * 1024 ** 3)))
    assert row.cpu_percent == pytest.approx(200 / 1000 * 4 * 100)
    assert (row.net_rx, row.net_tx, row.block_read, row.block_write, row.pids) == \
        (991_000, 10, 4096, 1_000_000, 3)
    assert stats_cells(row) == ("aaaaaaaaaaaa", "web", "80.00%", "1.5MiB / 23.54GiB", "0.01%",
                                "991kB / 10B", "4.1kB / 1MB", "3")
    assert stats_cells(ContainerStats("b" * 64, "--", valid=False))[2:] == \
        ("--", "-- / --", "--", "--", "--", "--")


def test_no_cpu_delta_is_zero_percent() -> None:
    sample = _sample()
    sample["precpu_stats"] = sample["cpu_stats"]
    assert stats_row(sample).cpu_percent == 0.0


def test_an_event_line_is_the_clis() -> None:
    raw = {"Type": "container", "Action": "start", "timeNano": 1_796_040_000_000_000_123,
           "Actor": {"ID": "c" * 64, "Attributes": {"name": "web", "image": "app", "a": "1"}}}
    assert event_line(event_of(raw)) == (
        f"2026-11-30T12:00:00.000000123Z container start {'c' * 64} (a=1, image=app, name=web)")
    assert event_line(EngineEvent(0, "network", "create", "n1")) == "network create n1"


def test_port_lines_sort_naturally_and_bracket_ipv6() -> None:
    bindings = {"8080/tcp": [("0.0.0.0", "18080")], "80/tcp": [("::", "3000"), ("0.0.0.0", "3000")]}
    assert port_lines(bindings) == ["80/tcp -> 0.0.0.0:3000", "80/tcp -> [::]:3000",
                                    "8080/tcp -> 0.0.0.0:18080"]
    assert port_lines(bindings, "80/tcp") == ["0.0.0.0:3000", "[::]:3000"]
