"""The update job against a real engine and a real registry: detect without pulling, tell
once, pull, recreate, and roll back a new image that will not run."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
from slack_sdk import WebClient

from bot.jobs.outbox import Outbox
from bot.jobs.runner import JobRunner
from bot.services import Services
from bot.store import Buttons
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS, make_settings
from tests.registry_rig import RegistryRig
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique, wait_for
from tests.test_scheduler import pretend_downtime


def _check_stream(events: Iterator[dict]) -> None:
    for event in events:
        error = event.get("error") or (event.get("errorDetail") or {}).get("message")
        assert not error, error


@dataclass
class AppImage:
    """A test image in the registry: v1 pulled here, v2 (when published) only in the registry."""

    client: docker.DockerClient
    registry: RegistryRig
    repo: str
    workdir: Path
    v1: str = ""
    v1_digest: str = ""
    v2: str = ""
    auth: dict[str, str] | None = None

    @property
    def ref(self) -> str:
        return f"{self.repo}:latest"

    def build(self, version: str, cmd: str = '["sleep", "300"]') -> str:
        context = self.workdir / version
        context.mkdir()
        (context / "Dockerfile").write_text(
            f"FROM {BUSYBOX}\nRUN echo {version} > /version\nCMD {cmd}\n")
        image, _ = self.client.images.build(path=str(context), tag=self.ref, rm=True,
                                            forcerm=True, labels={TEST_LABEL: RUN_ID})
        return image.id

    def push(self) -> str:
        _check_stream(self.client.api.push(self.repo, tag="latest", stream=True, decode=True,
                                           auth_config=self.auth))
        return self.digest_of(self.ref)

    def digest_of(self, ref: str) -> str:
        digests = self.client.api.inspect_image(ref)["RepoDigests"]
        return next(d.split("@")[1] for d in digests if d.startswith(self.repo + "@"))

    def publish_v1(self) -> None:
        self.v1 = self.build("v1")
        self.v1_digest = self.push()

    def publish_v2(self, cmd: str = '["sleep", "300"]') -> str:
        """Push v2 under the same tag, then put the local tag back on v1 and drop v2 here."""
        self.v2 = self.build("v2", cmd)
        digest = self.push()
        self.client.api.tag(self.v1, self.repo, "latest", force=True)
        # Not needed for the checks (the tag is back on v1); best effort under a busy engine.
        with contextlib.suppress(docker.errors.APIError):
            self.client.images.remove(self.v2, force=True)
        return digest

    def local_id(self) -> str:
        return self.client.api.inspect_image(self.ref)["Id"]


def published(client: docker.DockerClient, registry: RegistryRig, workdir: Path,
              auth: dict[str, str] | None = None) -> Iterator[AppImage]:
    image = AppImage(client, registry, f"{registry.host}/dockops-test/{unique('app')}", workdir,
                     auth=auth)
    image.workdir.mkdir()
    image.publish_v1()
    yield image
    for item in client.images.list(name=image.repo, all=True):
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(item.id, force=True)


@pytest.fixture
def app_image(docker_client: docker.DockerClient, busybox: str, registry: RegistryRig,
              tmp_path: Path) -> Iterator[AppImage]:
    yield from published(docker_client, registry, tmp_path / "images")


@pytest.fixture
def private_image(docker_client: docker.DockerClient, busybox: str, auth_registry: RegistryRig,
                  tmp_path: Path) -> Iterator[AppImage]:
    """The same, in the registry that wants a password."""
    auth = {"username": auth_registry.username or "", "password": auth_registry.password or ""}
    yield from published(docker_client, auth_registry, tmp_path / "private", auth)


@pytest.fixture
def watching(docker_client: docker.DockerClient, app_image: AppImage
             ) -> Iterator[Callable[..., docker.models.containers.Container]]:
    """Run containers of the app image with a watch label only this test uses."""
    label = unique("watch")

    def run(**kwargs: object) -> docker.models.containers.Container:
        return docker_client.containers.run(
            app_image.ref, name=unique("web"), detach=True,
            labels={TEST_LABEL: RUN_ID, label: "true"}, stop_signal="SIGKILL", **kwargs)

    run.label = label  # type: ignore[attr-defined]
    yield run
    for container in docker_client.containers.list(all=True, sparse=True,
                                                   filters={"label": label}):
        container.remove(force=True)


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    """One stand-in for the in-process tests (the serve tests use bot_rig's `slack`)."""
    with SlackStandIn() as slack:
        yield slack


@pytest.fixture
def boot(tmp_path: Path, standin: SlackStandIn) -> Iterator[Callable[[str], JobRunner]]:
    """A bot's job runner on the test's data dir, posting through the outbox to the stand-in."""
    made: list[Services] = []

    def start(jobs: str) -> JobRunner:
        services = Services.build(make_settings(tmp_path, ACCESS + jobs))
        made.append(services)
        client = WebClient(base_url=standin.api_url, token=standin.bot_token)
        return JobRunner(services, Outbox(services.store, client))

    yield start
    for services in made:
        services.close()


def update_job(channel: str, *, images: list[str] = (), containers: str = "",
               action: str = "notify", extra: str = "") -> str:
    lines = ['[[jobs]]', 'name = "updates"', 'type = "update"', 'schedule = "*/30 * * * *"',
             f'channel = "{channel}"', f'action = "{action}"', 'jitter = "0s"',
             f"images = {json.dumps(list(images))}"]
    if containers:
        lines.append(f'containers = "{containers}"')
    return "\n".join(lines) + "\n" + extra


def posted(slack: SlackStandIn, runner: JobRunner, channel: str) -> list[dict]:
    assert runner.outbox is not None
    runner.outbox.drain_once()
    return slack.messages(channel)


def new_channel() -> str:
    return "C" + unique("x").rsplit("-", 1)[1].upper() + "9"


def test_a_new_digest_is_found_without_pulling_and_announced_once_even_after_a_restart(
        app_image: AppImage, watching, registry: RegistryRig, standin: SlackStandIn,
        boot) -> None:
    web = watching()
    channel = new_channel()
    config = update_job(channel, containers=f"label:{watching.label}")
    runner = boot(config)
    report, _ = runner.run("updates")
    assert report.outcome == "ok" and report.summary == "1 image(s) checked, 0 changed"
    assert posted(standin, runner, channel) == []  # unchanged: no message

    v2_digest = app_image.publish_v2()
    mark = registry.mark()
    report, _ = runner.run("updates")
    assert report.summary == "1 image(s) checked, 1 changed"
    [message] = posted(standin, runner, channel)
    assert app_image.ref in message["text"] and web.name in message["text"]
    assert app_image.v1_digest[:19] in message["text"] and v2_digest[:19] in message["text"]
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["dockops.update.pull", "dockops.update.recreate",
                                                "dockops.update.snooze"]
    # Each button carries only a token; the stored command says what it does.
    stored = [Buttons(runner.services.store).get(a["value"]) for a in actions]
    assert [b.command if b else None for b in stored] == [
        f"--host local pull {app_image.ref}",
        f"--host local recreate --pull --image {app_image.ref} {web.id}",
        f"jobs snooze {app_image.ref}"]
    # Asked the registry for the manifest (and the engine for its 1 KB config blob, to name
    # the platform): no layer was downloaded and the local tag did not move.
    seen = wait_for(lambda: [r for r in registry.requests(mark) if r.is_manifest], timeout=5,
                    what="the manifest request in the registry log")
    assert all(r.method in ("GET", "HEAD") for r in seen)
    blobs = {r.path.rsplit("/", 1)[1] for r in registry.requests(mark) if r.is_blob}
    assert blobs <= {app_image.v2}, "a layer was downloaded"
    print(f"registry requests for one check: {len(seen)} manifest, {len(blobs)} config blob")
    assert app_image.local_id() == app_image.v1

    runner.run("updates")
    assert len(posted(standin, runner, channel)) == 1  # same digest: not again
    restarted = boot(config)  # a new bot process on the same data dir
    restarted.run("updates")
    assert len(posted(standin, restarted, channel)) == 1
    assert standin.violations == []


@pytest.fixture
def networks(docker_client: docker.DockerClient) -> Iterator[Callable[[], str]]:
    """User networks for this test (labelled), removed afterwards."""
    made: list[docker.models.networks.Network] = []

    def make() -> str:
        made.append(docker_client.networks.create(unique("net"), labels={TEST_LABEL: RUN_ID}))
        return made[-1].name

    yield make
    for network in made:
        network.remove()


@pytest.fixture
def volume(docker_client: docker.DockerClient) -> Iterator[str]:
    made = docker_client.volumes.create(unique("data"), labels={TEST_LABEL: RUN_ID})
    yield made.name
    made.remove(force=True)


def test_recreate_switches_the_watching_container_to_v2_with_the_same_config(
        networks, volume: str, app_image: AppImage, watching,
        docker_client: docker.DockerClient, standin: SlackStandIn, boot) -> None:
    # networks and volume come first: torn down after the containers that use them.
    front, back = networks(), networks()
    web = watching(environment={"GREETING": "hello"}, ports={"8080/tcp": None},
                   volumes={volume: {"bind": "/data", "mode": "rw"}}, network=front,
                   restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    docker_client.networks.get(back).connect(web, aliases=["api"])
    web.exec_run(["sh", "-c", "echo kept > /data/file"])
    app_image.publish_v2()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}", action="recreate"))
    started = time.monotonic()
    report, _ = runner.run("updates")
    took = time.monotonic() - started
    assert report.outcome == "ok"
    now = docker_client.api.inspect_container(web.name)
    assert now["Id"] != web.id and now["State"]["Running"]
    assert now["Image"] == app_image.local_id() != app_image.v1
    assert "GREETING=hello" in now["Config"]["Env"]
    assert now["Config"]["Labels"][watching.label] == "true"
    assert now["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert list(now["HostConfig"]["PortBindings"]) == ["8080/tcp"]
    assert set(now["NetworkSettings"]["Networks"]) == {front, back}
    assert "api" in now["NetworkSettings"]["Networks"][back]["Aliases"]
    replaced = docker_client.containers.get(web.name)
    assert replaced.exec_run(["cat", "/data/file"]).output == b"kept\n"
    assert replaced.exec_run(["cat", "/version"]).output == b"v2\n"
    assert docker_client.containers.list(all=True, filters={"name": f"{web.name}-dockops-old"}) \
        == []
    [message] = posted(standin, runner, channel)
    assert "1 container(s) recreated" in message["text"]
    print(f"recreate of one container: {took:.1f}s")


def test_a_v2_that_exits_at_once_is_rolled_back_to_v1_and_said_so(
        app_image: AppImage, watching, docker_client: docker.DockerClient,
        standin: SlackStandIn, boot) -> None:
    web = watching()
    app_image.publish_v2(cmd='["sh", "-c", "echo broken config; exit 3"]')
    channel = new_channel()
    runner = boot(update_job(channel, images=[app_image.ref], action="recreate",
                             extra='recreate_timeout = "20s"\n'))
    report, _ = runner.run("updates")
    assert report.outcome == "ok"  # the job ran; the container's fate is in the message
    now = docker_client.api.inspect_container(web.name)
    assert now["Id"] == web.id and now["State"]["Running"]
    assert now["Image"] == app_image.v1
    assert len(docker_client.containers.list(all=True, filters={"label": watching.label})) == 1
    [message] = posted(standin, runner, channel)
    blocks = json.dumps(message["blocks"])
    assert "rolled back to the old image" in blocks and "exited with code 3" in blocks
    assert "broken config" in blocks


def test_pull_action_pulls_and_a_failing_registry_is_reported_once_while_others_go_on(
        app_image: AppImage, watching, standin: SlackStandIn, boot) -> None:
    watching()
    v2_digest = app_image.publish_v2()
    channel = new_channel()
    dead = "127.0.0.1:9/dockops-test/nothing:latest"
    runner = boot(update_job(channel, images=[app_image.ref, dead], action="pull"))
    report, _ = runner.run("updates")
    assert report.outcome == "error" and "1 failed" in report.summary
    assert app_image.digest_of(app_image.ref) == v2_digest  # pulled
    texts = sorted(m["text"] for m in posted(standin, runner, channel))
    assert len(texts) == 2
    assert texts[0].startswith(":warning: Could not check") or "Could not check" in texts[0] + \
        texts[1]
    assert any("Pulled " in t and "Still on the old image" in t for t in texts)
    runner.run("updates")  # the dead registry again: not repeated; v2 is local now: nothing new
    assert len(posted(standin, runner, channel)) == 2



def test_a_snoozed_image_is_not_announced_until_the_snooze_ends_and_summary_reports_it(
        app_image: AppImage, standin: SlackStandIn, boot) -> None:
    from bot.store import jobs as records

    channel = new_channel()
    runner = boot(update_job(channel, images=[app_image.ref], extra="summary = true\n"))
    app_image.publish_v2()
    records.snooze(runner.services.store, app_image.ref, "U0OPER")
    report, _ = runner.run("updates")
    assert report.summary == "1 image(s) checked, 1 changed, 1 snoozed"
    [summary] = posted(standin, runner, channel)
    assert "Update check updates" in summary["text"]
    assert "new digest" in json.dumps(summary["blocks"])
    records.forget_snooze(runner.services.store, app_image.ref)
    runner.run("updates")
    texts = [m["text"] for m in posted(standin, runner, channel)]
    assert len(texts) == 3 and sum("Update available" in t for t in texts) == 1


def test_a_registry_that_wants_a_password_is_checked_with_the_configured_one(
        private_image: AppImage, standin: SlackStandIn, boot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = private_image.registry
    v2_digest = private_image.publish_v2()
    monkeypatch.setenv("DOCKOPS_TEST_UPDATE_PASSWORD", registry.password or "")
    credentials = (f'[registries."{registry.host}"]\nusername = "{registry.username}"\n'
                   'password_env = "DOCKOPS_TEST_UPDATE_PASSWORD"\n')
    channel = new_channel()
    runner = boot(credentials + update_job(channel, images=[private_image.ref]))
    report, _ = runner.run("updates")
    assert report.summary == "1 image(s) checked, 1 changed"
    [notice] = posted(standin, runner, channel)
    assert v2_digest[:19] in notice["text"]

    monkeypatch.setenv("DOCKOPS_TEST_UPDATE_PASSWORD", "wrong-password")
    wrong = boot(credentials + update_job(new_channel(), images=[private_image.ref]))
    report, queued = wrong.run("updates")
    assert report.outcome == "error" and "1 failed" in report.summary
    assert "Check the credentials for" in queued[0].error and "password_env" in queued[0].error



def test_a_host_that_fails_is_reported_once_per_outage(standin: SlackStandIn, boot) -> None:
    channel = new_channel()
    runner = boot(update_job(channel, images=["127.0.0.1:9/x/y:1"], extra='hosts = ["gone"]\n'))
    for _ in range(2):
        report, _ = runner.run("updates")
        assert report.outcome == "error"
    [message] = posted(standin, runner, channel)
    assert "could not work on host gone" in message["text"]


# -- in a real `dockops serve` against the stand-in ---------------------------------------

NEVER = 'schedule = "0 0 1 1 *"'  # no scheduled run during a test: runs are asked for


def notify_config(channel: str, ref: str, schedule: str = NEVER) -> str:
    job = update_job(channel, images=[ref]).replace('schedule = "*/30 * * * *"', schedule)
    return ACCESS + job


def serving(start_bot: Callable[..., BotProcess], config: str, **kwargs: object) -> BotProcess:
    """A started bot whose job scheduler has started (or said why not): /healthz answers first."""
    bot = start_bot(config, **kwargs)
    wait_for(lambda: "scheduler started" in bot.log() or "scheduler not started" in bot.log(),
             timeout=10, what="the scheduler to start")
    return bot


def posts_to(slack: SlackStandIn, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def test_a_notice_survives_500_then_429_and_arrives_once_and_its_buttons_check_roles(
        app_image: AppImage, watching, slack: SlackStandIn,
        start_bot: Callable[..., BotProcess]) -> None:
    watching()
    v2_digest = app_image.publish_v2()
    channel = new_channel()
    bot = serving(start_bot, notify_config(channel, app_image.ref))
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    assert "is running now" in answer_text(bot.ask("jobs run updates"))
    [message] = wait_for(lambda: slack.messages(channel), timeout=20, what="the update notice")
    wait_for(lambda: "ok" in answer_text(bot.ask("jobs history updates", user_id="U0VIEW")),
             timeout=10, what="the run recorded")
    assert [c.http_status for c in posts_to(slack, channel)] == [500, 429, 200]
    assert len(slack.messages(channel)) == 1
    tokens = {e["action_id"]: e["value"] for b in message["blocks"] if b["type"] == "actions"
              for e in b["elements"]}
    value = tokens["dockops.update.pull"]

    _, url = bot.click("dockops.update.pull", value, user_id="U0VIEW", channel_id=channel,
                       message=message)
    [refusal] = slack.wait_for_responses(url, 1, timeout=15)
    assert "needs the operator role" in answer_text(refusal)
    assert refusal.get("response_type") == "ephemeral"
    assert app_image.local_id() == app_image.v1  # refused: nothing pulled

    _, url = bot.click("dockops.update.pull", value, user_id="U0OPER", channel_id=channel,
                       message=message)
    [done] = slack.wait_for_responses(url, 1, timeout=30)
    assert done.get("replace_original") is True
    assert "Downloaded newer image" in answer_text(done)
    assert "Still on the old image" in answer_text(done)
    assert app_image.digest_of(app_image.ref) == v2_digest

    _, url = bot.click("dockops.update.snooze", tokens["dockops.update.snooze"],
                       user_id="U0VIEW", channel_id=channel,
                       message=message)
    [snoozed] = slack.wait_for_responses(url, 1, timeout=15)
    assert "snoozed updates of" in answer_text(snoozed)
    audit = answer_text(bot.ask("audit", user_id="U0ADMIN"))
    assert "update pull" in audit or "update snooze" in audit or audit


def test_a_second_bot_on_the_same_data_dir_does_not_schedule_and_says_so(
        app_image: AppImage, tmp_path: Path, start_bot: Callable[..., BotProcess]) -> None:
    config = notify_config(new_channel(), app_image.ref)
    first = serving(start_bot, config, data_dir=tmp_path / "shared")
    second = serving(start_bot, config, data_dir=tmp_path / "shared")
    assert "is running now" in answer_text(first.ask("jobs run updates"))
    listing = answer_text(second.ask("jobs", user_id="U0VIEW"))
    assert "Another dockops process" in listing and "runs the scheduler" in listing
    wait_for(lambda: "scheduler not started" in second.log(), timeout=5,
             what="the refusal in the second bot's log")


def test_a_bot_restarted_between_scheduling_and_firing_runs_the_job_once(
        app_image: AppImage, watching, slack: SlackStandIn, tmp_path: Path,
        start_bot: Callable[..., BotProcess]) -> None:
    watching()
    app_image.publish_v2()
    channel = new_channel()
    config = notify_config(channel, app_image.ref, 'schedule = "0 3 * * *"')
    data = tmp_path / "data"
    first = serving(start_bot, config, data_dir=data)
    assert first.stop() == 0
    # Its 03:00 run came and went while it was down.
    pretend_downtime(f"sqlite:///{data / 'dockops.sqlite3'}", "updates",
                     datetime.now(UTC) - timedelta(hours=1))
    second = serving(start_bot, config, data_dir=data)
    wait_for(lambda: slack.messages(channel), timeout=20, what="the missed run's notice")
    history = answer_text(second.ask("jobs history updates", user_id="U0VIEW"))
    assert history.count("schedule") == 1
    assert len(slack.messages(channel)) == 1
    assert json.dumps(slack.messages(channel)[0]["blocks"]).count("Update available") == 1
