"""Every button passes the one gate: a click runs its stored command as the clicker.

Each test asserts the effect on the engine (or the store), not the wording: a refused,
forged, expired or used click changes nothing; an allowed one does what its row says.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

import docker
import pytest
from sqlalchemy import update

from bot import metrics
from bot.follows import FOLLOWS
from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.store import Buttons, ButtonTable
from bot.store import jobs as records
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION
from bot.views.jobs import PULL_ACTION, RECREATE_ACTION, SNOOZE_ACTION
from bot.views.lifecycle import STOP_FOLLOW_ACTION
from tests.conftest import MakePipeline
from tests.support import BUSYBOX, RecordingResponder, unique, wait_for

ROLES = {"none": "U0NOBODY", "viewer": "U0VIEW", "operator": "U0OPER", "admin": "U0ADMIN"}
Make = Callable[..., docker.models.containers.Container]


class Clicker:
    """Buttons issued into a real store and clicked through the real pipeline."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pipeline = Pipeline(services)
        self.buttons = Buttons(services.store)

    def issue(self, action_id: str, command: str, ttl: float = 600) -> str:
        return self.buttons.issue(action_id, command, ttl_seconds=ttl, channel="C0OPS")

    def click(self, token: str, action_id: str, user: str
              ) -> tuple[Outcome, RecordingResponder, RecordingResponder]:
        answer, private = RecordingResponder(), RecordingResponder()
        actor = Actor(user_id=user, channel_id="C0OPS")
        return self.pipeline.click(token, action_id, actor, answer, private), answer, private

    def audit(self) -> list[tuple[str, str, str, str]]:
        return [(r.user_id, r.command, r.decision, r.outcome)
                for r in self.services.store.audit_rows(limit=50)]


@pytest.fixture
def clicker(make_pipeline: MakePipeline) -> Clicker:
    return Clicker(make_pipeline().services)


def test_unknown_forged_expired_and_used_tokens_are_refused_audited_and_change_nothing(
        clicker: Clicker, make_container: Make, docker_client: docker.DockerClient) -> None:
    web = make_container(name=unique("btn"))
    stop = clicker.issue(STOP_FOLLOW_ACTION, f"--host local restart {web.name}")
    started_at = docker_client.api.inspect_container(web.id)["State"]["StartedAt"]
    before = metrics.CLICKS.labels(STOP_FOLLOW_ACTION, "invalid")._value.get()

    # Unknown token; a real token sent with another button's action_id (forged).
    for token, action in (("not-a-token", STOP_FOLLOW_ACTION), (stop, PULL_ACTION),
                          ("x" * 5000, STOP_FOLLOW_ACTION)):
        outcome, answer, private = clicker.click(token, action, "U0ADMIN")
        assert outcome.decision == "refused" and not answer.sent and private.sent
    # Expired: the deadline passed before the click.
    expired = clicker.issue(STOP_FOLLOW_ACTION, f"--host local restart {web.name}", ttl=600)
    with clicker.services.store.session.begin() as session:
        session.execute(update(ButtonTable).where(ButtonTable.token == expired)
                        .values(expires=time.time() - 1))
    assert clicker.click(expired, STOP_FOLLOW_ACTION, "U0ADMIN")[0].decision == "refused"

    assert docker_client.api.inspect_container(web.id)["State"]["StartedAt"] == started_at
    audit = clicker.audit()
    assert sum(1 for row in audit if row[1].startswith("click ") and row[2] == "refused") == 4
    assert metrics.CLICKS.labels(STOP_FOLLOW_ACTION, "invalid")._value.get() == before + 3

    # Used: the first click acts, the second one does nothing more.
    first, answer, _ = clicker.click(stop, STOP_FOLLOW_ACTION, "U0OPER")
    assert first.ok and answer.sent
    restarted_at = docker_client.api.inspect_container(web.id)["State"]["StartedAt"]
    assert restarted_at != started_at
    again, answer, private = clicker.click(stop, STOP_FOLLOW_ACTION, "U0ADMIN")
    assert again.decision == "refused" and not answer.sent and private.sent
    assert docker_client.api.inspect_container(web.id)["State"]["StartedAt"] == restarted_at
    rows = [row for row in clicker.services.store.audit_rows(limit=50)
            if row.command == "restart"]
    assert rows and "button" in rows[0].message  # the click is audited like a command


# -- the role x button matrix ------------------------------------------------------------

# What each button's command needs, and a command that shows the effect.
MATRIX = {
    SNOOZE_ACTION: "viewer",
    PULL_ACTION: "operator",
    RECREATE_ACTION: "operator",
    STOP_FOLLOW_ACTION: "operator",
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(MATRIX))
def test_every_button_is_allowed_exactly_from_its_commands_role(
        clicker: Clicker, make_container: Make, docker_client: docker.DockerClient,
        action: str, role: str) -> None:
    allowed = list(ROLES).index(role) >= list(ROLES).index(MATRIX[action])
    web = make_container(name=unique("mx"))
    ref = f"dockops-test/matrix-{unique('i')}:1"
    if action == SNOOZE_ACTION:
        command = f"jobs snooze {ref}"
    elif action == PULL_ACTION:
        command = "--host local pull 127.0.0.1:9/nothing/here:1"  # fails at the registry
    elif action == RECREATE_ACTION:
        command = f"--host local recreate {web.id}"
    else:
        command = "follows stop 0123456789ab"
    token = clicker.issue(action, command)
    outcome, answer, private = clicker.click(token, action, ROLES[role])

    if not allowed:
        assert outcome.decision == "refused" and outcome.result == "refused"
        assert private.sent and not answer.sent
        assert clicker.buttons.get(token).used_by == ""  # a refused click leaves it usable
        assert records.snoozed_until(clicker.services.store, ref) is None
        assert docker_client.api.inspect_container(web.id)["Id"] == web.id
        return
    assert outcome.decision in ("allowed", "pending") and answer.sent and not private.sent
    assert clicker.buttons.get(token).used_by == ROLES[role]
    if action == SNOOZE_ACTION:
        assert records.snoozed_until(clicker.services.store, ref) is not None
        records.forget_snooze(clicker.services.store, ref)
    if action == RECREATE_ACTION:
        assert outcome.awaiting_confirmation  # like rm: a preview first, nothing recreated
        assert docker_client.api.inspect_container(web.name)["Id"] == web.id


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("confirm", [True, False])
def test_confirm_and_cancel_need_the_requester_or_an_admin_on_that_host(
        clicker: Clicker, make_container: Make, docker_client: docker.DockerClient,
        role: str, confirm: bool) -> None:
    web = make_container(name=unique("cf"))
    requester = Actor("U0OPER", "C0OPS")
    preview = clicker.pipeline.execute(f"kill {web.name}", requester, RecordingResponder())
    assert preview.awaiting_confirmation
    answer, private = RecordingResponder(), RecordingResponder()
    outcome = clicker.pipeline.decide(preview.token, Actor(ROLES[role], "C0OPS"), answer,
                                      confirm=confirm, private=private)
    allowed = role in ("operator", "admin")  # U0OPER asked; only an admin may decide for them
    running = docker_client.api.inspect_container(web.id)["State"]["Running"]
    if not allowed:
        assert outcome.decision == "refused" and running and not answer.sent
        return
    assert running is not confirm
    action = CONFIRM_ACTION if confirm else CANCEL_ACTION
    assert metrics.CLICKS.labels(action, outcome.result)._value.get() >= 1


# -- per-host roles decide clicks too ---------------------------------------------------------

def test_a_hosts_own_roles_decide_a_click_on_that_host(make_pipeline: MakePipeline,
                                                       make_container: Make,
                                                       docker_client: docker.DockerClient) -> None:
    hosts = ('[hosts.prod]\nurl = "unix:///var/run/docker.sock"\ndefault = true\n'
             '[hosts.prod.roles]\noperator = []\n'
             '[hosts.staging]\nurl = "unix:///var/run/docker.sock"\n'
             '[hosts.staging.roles]\noperator = ["U0VIEW"]\n')
    clicker = Clicker(make_pipeline(hosts).services)
    web = make_container(name=unique("hr"))
    started = docker_client.api.inspect_container(web.id)["State"]["StartedAt"]
    on_prod = clicker.issue(STOP_FOLLOW_ACTION, f"--host prod restart {web.name}")
    outcome, _, private = clicker.click(on_prod, STOP_FOLLOW_ACTION, "U0OPER")
    assert outcome.decision == "refused" and private.sent
    assert docker_client.api.inspect_container(web.id)["State"]["StartedAt"] == started
    # staging makes a global viewer its operator: the host's lists decide, both ways.
    on_staging = clicker.issue(STOP_FOLLOW_ACTION, f"--host staging restart {web.name}")
    outcome, answer, _ = clicker.click(on_staging, STOP_FOLLOW_ACTION, "U0VIEW")
    assert outcome.ok and answer.sent
    assert docker_client.api.inspect_container(web.id)["State"]["StartedAt"] != started
    assert [r.host for r in clicker.services.store.audit_rows(limit=1)] == ["staging"]


# -- recreate from a notice ---------------------------------------------------------------

def test_recreate_from_a_notice_confirms_first_and_touches_only_the_listed_containers(
        clicker: Clicker, make_container: Make, docker_client: docker.DockerClient) -> None:
    listed = make_container(name=unique("listed"))
    other = make_container(name=unique("other"))  # same image, not on the notice
    token = clicker.issue(RECREATE_ACTION, shlex.join(
        ["--host", "local", "recreate", "--image", BUSYBOX, listed.id]))
    outcome, answer, _ = clicker.click(token, RECREATE_ACTION, "U0OPER")
    assert outcome.awaiting_confirmation
    assert listed.name in answer.text() and other.name not in answer.text()
    assert docker_client.api.inspect_container(listed.name)["Id"] == listed.id  # not yet

    done = clicker.pipeline.decide(outcome.token, Actor("U0OPER", "C0OPS"), RecordingResponder(),
                                   confirm=True)
    assert done.ok, done.message
    replaced = docker_client.api.inspect_container(listed.name)
    assert replaced["Id"] != listed.id and replaced["State"]["Running"]
    assert docker_client.api.inspect_container(other.name)["Id"] == other.id
    docker_client.api.remove_container(replaced["Id"], force=True)


def test_recreate_refuses_another_repository_and_a_host_reaching_container_for_operators(
        clicker: Clicker, make_container: Make, docker_client: docker.DockerClient) -> None:
    web = make_container(name=unique("repo"))
    outcome = clicker.pipeline.execute(f"recreate --image evil/image:1 {web.name}",
                                       Actor("U0OPER", "C0OPS"), RecordingResponder())
    assert outcome.result == "refused" and not outcome.token
    assert docker_client.api.inspect_container(web.name)["Id"] == web.id

    # Made outside dockops with the Docker socket: a new copy would hand the host over again.
    sock = make_container(name=unique("sock"), volumes={
        "/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}})
    refused = clicker.pipeline.execute(f"recreate {sock.name}", Actor("U0OPER", "C0OPS"),
                                       RecordingResponder())
    assert refused.result == "refused" and not refused.token
    admin = clicker.pipeline.execute(f"recreate {sock.name}", Actor("U0ADMIN", "C0OPS"),
                                     RecordingResponder())
    assert admin.awaiting_confirmation  # an admin may, after the preview
    assert docker_client.api.inspect_container(sock.name)["Id"] == sock.id


# -- a follow's Stop ------------------------------------------------------------------------

def test_stop_runs_follows_stop_through_the_gate(clicker: Clicker, make_container: Make) -> None:
    web = make_container(["sh", "-c", "while true; do echo tick; sleep 0.2; done"],
                         name=unique("fs"))
    sent = RecordingResponder()
    outcome = clicker.pipeline.execute(f"logs -f {web.name}", Actor("U0OPER", "C0OPS"), sent)
    assert outcome.ok
    first = sent.threads[0].updates[0]
    [token] = [e["value"] for b in first.blocks for e in b.get("elements", ())
               if e.get("action_id") == STOP_FOLLOW_ACTION]
    assert clicker.buttons.get(token).command.endswith("follows stop " + FOLLOWS.open()[-1].id)
    viewer = clicker.click(token, STOP_FOLLOW_ACTION, "U0VIEW")[0]
    assert viewer.decision == "refused"
    assert any(f.container == web.name for f in FOLLOWS.open())
    assert clicker.click(token, STOP_FOLLOW_ACTION, "U0OPER")[0].ok
    wait_for(lambda: not any(f.container == web.name for f in FOLLOWS.open()), timeout=10,
             what="the follow to stop")
    assert "stopped by <@U0OPER>" in str(sent.threads[0].updates[-1].blocks)
