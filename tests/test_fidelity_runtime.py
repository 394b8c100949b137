"""stats, port, diff, history, events: dockops's output against the docker CLI's, field by field
(tests/fidelity.py records each field for `make fidelity`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import docker

from tests.fidelity import assert_same, cli, cli_json, parse_table
from tests.lifecycle_rig import Run
from tests.support import wait_for

Make = Callable[..., docker.models.containers.Container]


def table_in(text: str, header: str) -> str:
    """The table that starts at `header` in rendered output, up to its end."""
    start = text.index(header)
    lines = []
    for line in text[start:].splitlines():
        if not line.strip() or line.strip().startswith("```"):
            break
        lines.append(line.rstrip("`"))
    return "\n".join(lines) + "\n"


def block_lines(run: Run, text: str) -> list[str]:
    """The lines of the code block dockops answered `text` with."""
    outcome, sent = run(text)
    assert outcome.ok, sent.text()
    code = next(b["text"]["text"] for b in sent.last.blocks
                if b.get("type") == "section" and b.get("text", {}).get("text", "")
                .startswith("```"))
    body = code.strip("`").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return [line for line in body.splitlines() if line.strip()]


def test_stats_no_stream_matches_the_cli(run_command: Run, make_container: Make) -> None:
    web = make_container(mem_limit="64m")
    worker = make_container()
    ours = parse_table(table_in(run_command(f"stats --no-stream {web.name} {worker.name}")[1]
                                .text(), "CONTAINER ID"))
    theirs = cli_json("stats", "--no-stream", web.name, worker.name)
    assert len(ours) == len(theirs) == 2
    for mine, cli_row in zip(ours, theirs, strict=True):
        assert_same("stats", {"ID": mine["CONTAINER ID"], "Name": mine["NAME"],
                              "Limit": mine["MEM USAGE / LIMIT"].split(" / ")[1],
                              "PIDs": mine["PIDS"]},
                    {"ID": cli_row["ID"], "Name": cli_row["Name"],
                     "Limit": cli_row["MemUsage"].split(" / ")[1], "PIDs": cli_row["PIDs"]})


def test_port_matches_the_cli(run_command: Run, make_container: Make) -> None:
    web = make_container(ports={"80/tcp": [("0.0.0.0", None), ("::", None)],
                                "53/udp": ("127.0.0.1", None), "9/tcp": ("127.0.0.1", None)})
    ours = block_lines(run_command, f"port {web.name}")
    theirs = cli("port", web.name).splitlines()
    assert_same("port", {"lines": ours}, {"lines": theirs})
    ours = block_lines(run_command, f"port {web.name} 80")
    assert_same("port", {"lines": ours}, {"lines": cli("port", web.name, "80").splitlines()})


def test_diff_matches_the_cli(run_command: Run, make_container: Make) -> None:
    web = make_container(["sh", "-c", "mkdir -p /srv/a; echo x > /srv/a/f; rm /bin/zcat; "
                                      "sleep 300"])
    # The last change is the one waited for: after it the filesystem holds still.
    wait_for(lambda: "D /bin/zcat" in cli("diff", web.name), timeout=10, what="the changes")
    # The engine lists the changes in a different order on each call (and the CLI prints them
    # as they come): the same lines, compared sorted.
    ours = sorted(block_lines(run_command, f"diff {web.name}"))
    theirs = sorted(cli("diff", web.name).splitlines())
    assert_same("diff", {"lines": ours}, {"lines": theirs})


def test_history_matches_the_cli(run_command: Run, busybox: str) -> None:
    for flags in ((), ("--no-trunc",)):
        text = run_command(" ".join(("history", *flags, busybox)))[1].text()
        ours = parse_table(table_in(text, "IMAGE"))
        theirs = parse_table(cli("history", *flags, busybox))
        assert len(ours) == len(theirs)
        for mine, cli_row in zip(ours, theirs, strict=True):
            assert_same("history", mine, cli_row)
    ours_q = block_lines(run_command, f"history -q {busybox}")
    assert_same("history", {"quiet": ours_q}, {"quiet": cli("history", "-q", busybox).split()})


def test_events_match_the_cli(run_command: Run, make_container: Make,
                              docker_client: docker.DockerClient) -> None:
    since = str(int(time.time()) - 1)
    job = make_container(["sh", "-c", "exit 2"], labels={"team": "a<b>&c"})
    wait_for(lambda: docker_client.api.inspect_container(job.id)["State"]["Status"] == "exited",
             timeout=10, what="exit")
    until = str(int(time.time()) + 1)
    time.sleep(1.2)  # until must have passed for both
    ours = block_lines(run_command,
                       f"events --since {since} --until {until} -f container={job.id}")
    theirs = cli("events", "--since", since, "--until", until, "--filter",
                 f"container={job.id}").splitlines()
    assert len(ours) == len(theirs) >= 3
    for mine, cli_line in zip(ours, theirs, strict=True):
        assert_same("events", {"line": mine}, {"line": cli_line})


def test_stats_no_stream_format_matches_the_cli(run_command: Run, make_container: Make) -> None:
    web = make_container(mem_limit="64m")
    worker = make_container()
    # CPU, memory and I/O move between two samples: the fields that hold still, compared whole.
    plain = "{{.Container}} {{.ID}} {{.Name}} {{.PIDs}}"
    for template, names in ((plain, ()),
                            ("table {{.Container}}\\t{{.Name}}\\t{{.ID}}\\t{{.PIDs}}",
                             (web.name, worker.id))):
        command = f"stats --no-stream --format '{template}' {' '.join(names)}"
        ours = block_lines(run_command, command)
        theirs = cli("stats", "--no-stream", "--format", template.replace("\\t", "\t"),
                     *names).splitlines()
        if not names:  # every running container: other tests' may come and go meanwhile
            ours = [line for line in ours if line.startswith(web.id[:12])]
            theirs = [line for line in theirs if line.startswith(web.id[:12])]
        assert_same("stats --format", {template: ours}, {template: theirs})
    mine = json.loads(block_lines(run_command, f"stats --no-stream --format json {web.name}")[0])
    cli_row = cli_json("stats", "--no-stream", web.name)[0]
    assert list(mine) == list(cli_row)  # the same keys in the same order
    assert_same("stats --format", {"Limit": mine["MemUsage"].split(" / ")[1]},
                {"Limit": cli_row["MemUsage"].split(" / ")[1]})


def test_history_format_matches_the_cli(run_command: Run, busybox: str) -> None:
    for template in ("{{json .}}", "json", "{{.ID}}|{{.CreatedSince}}|{{.CreatedAt}}|{{.Size}}",
                     "table {{.ID}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"):
        for flags in ((), ("--no-trunc",)):
            ours = block_lines(run_command, " ".join(("history", *flags, "--format",
                                                      f"'{template}'", busybox)))
            theirs = cli("history", *flags, "--format", template.replace("\\t", "\t"),
                         busybox).splitlines()
            assert_same("history --format", {template: ours}, {template: theirs})


def test_events_format_matches_the_cli(run_command: Run, make_container: Make,
                                       docker_client: docker.DockerClient) -> None:
    since = str(int(time.time()) - 1)
    job = make_container(["sh", "-c", "exit 2"], labels={"team": "a<b>&c"})
    wait_for(lambda: docker_client.api.inspect_container(job.id)["State"]["Status"] == "exited",
             timeout=10, what="exit")
    until = str(int(time.time()) + 1)
    time.sleep(1.2)  # until must have passed for both
    for template in ("{{json .}}", "json", "{{.Time}} {{.TimeNano}} {{.Status}} {{.ID}} {{.From}} "
                     "{{.Scope}} {{.Type}} {{.Action}} {{json .Actor}} {{.Actor.Attributes.team}}"):
        ours = block_lines(run_command, f"events --since {since} --until {until} "
                                        f"-f container={job.id} --format '{template}'")
        theirs = cli("events", "--since", since, "--until", until, "--filter",
                     f"container={job.id}", "--format", template).splitlines()
        assert len(ours) == len(theirs) >= 3
        assert_same("events --format", {template: ours}, {template: theirs})
