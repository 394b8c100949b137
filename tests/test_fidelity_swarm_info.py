"""`info` on a Swarm manager (the private Swarm of tests/swarm_rig.py): the Swarm section
(NodeID, Is Manager, ClusterID, Managers, Nodes, Raft, CA...) as `docker -H SOCKET info`."""

from __future__ import annotations

from collections.abc import Callable

from tests.fidelity import assert_same, shown
from tests.support import Runner
from tests.swarm_rig import SwarmRig


def _swarm_part(text: str) -> list[str]:
    """The lines from ` Swarm:` up to the next top-level entry of the Server part."""
    lines = text.split("Server:", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(" Swarm:"))
    end = next((i for i, line in enumerate(lines[start + 1:], start + 1)
                if line.startswith(" ") and not line.startswith("  ")), len(lines))
    return lines[start:end]


def test_info_on_a_swarm_manager_prints_the_swarm_section_as_the_cli(
        swarm_rig: SwarmRig, make_pipeline: Callable[..., Runner]) -> None:
    bot = make_pipeline(swarm_rig.toml())
    outcome, sent = bot("info")
    assert outcome.ok, sent.text()
    mine = _swarm_part(shown(sent.last))
    theirs = _swarm_part(swarm_rig.cli("info").stdout)
    assert any("ClusterID:" in line for line in theirs)  # a manager: the cluster is listed
    assert_same("info (swarm)", {line.split(":")[0].strip(): line for line in mine},
                {line.split(":")[0].strip(): line for line in theirs})
    assert mine == theirs
