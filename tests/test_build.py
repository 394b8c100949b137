"""build from configured contexts against the real engine: one updated message, no leftovers."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from bot.config import Settings
from bot.views.terminal import render
from tests.conftest import ACCESS, make_settings
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, unique

Runner = Callable[..., tuple]


class Context:
    """A FROM-scratch busybox build context in a temp dir, labelled so all it makes is found."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.label = unique("build")
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/busybox", directory / "busybox")

    def dockerfile(self, *steps: str, name: str = "Dockerfile") -> Context:
        head = ["FROM scratch", "COPY busybox /bin/busybox",
                # Early, so intermediate containers carry it too.
                f"LABEL {TEST_LABEL}={RUN_ID} dockops.unique={self.label}",
                'RUN ["/bin/busybox", "--install", "-s", "/bin"]']
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*head, *steps]) + "\n")
        return self

    @property
    def selector(self) -> dict[str, str]:
        return {"label": f"dockops.unique={self.label}"}


@pytest.fixture
def contexts(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[Callable[[str], Context]]:
    """Build contexts under tmp_path/roots; their images are removed after the test."""
    made: list[Context] = []

    def make(name: str) -> Context:
        context = Context(tmp_path / "roots" / name)
        made.append(context)
        return context

    yield make
    for context in made:
        for container in docker_client.containers.list(all=True, sparse=True, filters=context.selector):
            container.remove(force=True)
        # Children before parents: the newest image first.
        images = docker_client.images.list(all=True, filters=context.selector)
        for image in sorted(images, key=lambda i: i.attrs["Created"], reverse=True):
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.images.remove(image.id, force=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    toml = (f'{ACCESS}\n[build]\nroots = ["{tmp_path / "roots"}"]\n'
            f'[build.contexts]\napp = "{tmp_path / "roots" / "app"}"\n')
    return make_settings(tmp_path, toml)


def leftovers(client: docker.DockerClient, context: Context) -> list[str]:
    """Containers the build left behind (intermediate ones carry the context's label)."""
    return [c.id for c in client.containers.list(all=True, sparse=True, filters=context.selector)]


def final(responder: RecordingResponder) -> tuple[str, bytes]:
    """The build message's last state, and its attached log."""
    assert len(responder.threads) == 1, "one build message, updated in place"
    last = responder.threads[0].updates[-1]
    assert last.attachment is not None
    return render(last), last.attachment.content


def test_build_from_a_named_context_names_the_image_and_attaches_the_log(
        run_command: Runner, contexts, docker_client: docker.DockerClient) -> None:
    app = contexts("app").dockerfile("ARG MODE=dev", "RUN echo mode=$MODE")
    first, second = f"{unique('app')}:1.0", f"{unique('app')}:latest"
    outcome, responder = run_command(
        f"build -t {first} -t {second} --build-arg MODE=prod --label team=goals app")
    assert outcome.ok, responder.text()
    assert responder.sent == []  # the answer is the build message itself
    shown, log = final(responder)
    image = docker_client.images.get(first)
    assert image.short_id.split(":")[1] in shown
    assert first in shown and second in shown
    assert set(image.tags) == {first, second}
    assert image.labels["team"] == "goals"
    assert b"mode=prod" in log and b"Successfully built" in log
    assert leftovers(docker_client, app) == []


def test_a_failing_build_shows_the_step_and_its_last_lines_and_leaves_nothing(
        run_command: Runner, contexts, docker_client: docker.DockerClient) -> None:
    app = contexts("app").dockerfile("RUN echo before-the-failure && exit 3", "RUN echo never")
    outcome, responder = run_command(f"build -t {unique('broken')}:1 app")
    assert not outcome.ok
    shown, log = final(responder)
    assert "failed at" in shown and "RUN echo before-the-failure" in shown
    assert "non-zero code: 3" in shown and "before-the-failure" in shown
    assert b"Step 6/6" not in log  # the build stopped at the failing step
    assert "failed at Step 5/6" in responder.text()  # the command's answer, one line
    assert leftovers(docker_client, app) == []


def test_a_path_inside_the_build_roots_is_a_context(run_command: Runner, contexts,
                                                    tmp_path: Path) -> None:
    other = contexts("other").dockerfile()
    outcome, responder = run_command(f"build -t {unique('other')}:1 {other.directory}")
    assert outcome.ok, responder.text()


@pytest.mark.parametrize("context", ["/etc", "relative/dir", "nosuchname", "{tmp}/roots/../escape"])
def test_contexts_outside_the_config_are_refused_naming_the_keys(
        run_command: Runner, context: str, tmp_path: Path) -> None:
    (tmp_path / "escape").mkdir()
    outcome, responder = run_command(f"build -t x:1 {context.format(tmp=tmp_path)}")
    assert outcome.result == "refused"
    assert "[build.contexts]" in responder.text() and "[build] roots" in responder.text()
    assert responder.threads == []


def test_a_dockerfile_outside_the_context_is_refused(run_command: Runner, contexts) -> None:
    contexts("app").dockerfile()
    outcome, responder = run_command("build -t x:1 -f ../../../../etc/passwd app")
    assert outcome.result == "refused" and "outside the build context" in responder.text()
    assert responder.threads == []


def test_a_dockerfile_in_a_subdirectory_is_used(run_command: Runner, contexts) -> None:
    contexts("app").dockerfile("RUN echo from-the-prod-file", name="docker/Dockerfile.prod")
    outcome, responder = run_command(f"build -t {unique('prod')}:1 -f docker/Dockerfile.prod app")
    assert outcome.ok, responder.text()
    assert b"from-the-prod-file" in final(responder)[1]


@pytest.mark.parametrize(("text", "problem"), [
    ("build -t Not_Lower:1 app", "invalid tag"),
    ("build -t x:1 --build-arg MODE app", "KEY=VALUE"),
    ("build -t x:1 -f missing.Dockerfile app", "no file"),
])
def test_bad_options_are_one_clear_message_before_building(
        run_command: Runner, contexts, text: str, problem: str) -> None:
    contexts("app").dockerfile()
    outcome, responder = run_command(text)
    assert not outcome.ok and problem in responder.text()
    assert responder.threads == []


def test_progress_updates_at_most_about_once_a_second(run_command: Runner, contexts) -> None:
    contexts("app").dockerfile("RUN for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
                               "22 23 24 25; do echo line-$i; sleep 0.1; done")
    outcome, responder = run_command(f"build -t {unique('slow')}:1 app")
    assert outcome.ok, responder.text()
    updates = responder.threads[0].updates
    seconds = float(render(updates[-1]).split(" in ")[1].split(" s")[0])
    progress = updates[1:-1]
    assert 1 <= len(progress) <= seconds + 2
    assert any("line-" in render(update) for update in progress)


def test_no_cache_rebuilds_every_step(run_command: Runner, contexts) -> None:
    contexts("app").dockerfile("RUN echo cached-step")
    name = f"{unique('cache')}:1"
    assert run_command(f"build -t {name} app")[0].ok
    _, responder = run_command(f"build -t {name} app")
    assert b"Using cache" in final(responder)[1]
    _, responder = run_command(f"build --no-cache -t {name} app")
    assert b"Using cache" not in final(responder)[1]


def test_an_operator_may_not_build(run_command: Runner, contexts) -> None:
    contexts("app").dockerfile()
    outcome, responder = run_command("build -t x:1 app", user="U0OPER", source="slack")
    assert outcome.result == "refused" and responder.threads == []


def test_a_build_in_slack_is_one_message_updated_with_the_log_in_its_thread(
        start_bot, slack, contexts, tmp_path: Path) -> None:
    contexts("app").dockerfile("RUN for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo tick-$i; "
                               "sleep 0.1; done")
    config = (f'{ACCESS}\n[build.contexts]\napp = "{tmp_path / "roots" / "app"}"\n')
    bot = start_bot(config)
    name = f"{unique('slack')}:1"
    answer = bot.command(f"build -t {name} app", user_id="U0ADMIN")
    assert answer.status == 200 and answer.ack_seconds < 3
    upload = slack.wait_for(lambda: slack.files, timeout=60, message="the build log")[0]
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 1, "one build message"
    ts = posted[0].response["ts"]
    assert upload.thread_ts == ts and b"Successfully built" in upload.data
    message = slack.message("C0OPS", ts)
    assert message is not None and "Built" in message["text"] and name in message["text"]
    assert 1 <= len(slack.calls_to("chat.update")) <= 8
    assert slack.responses(answer.response_url) == []  # no second answer


def test_throttled_progress_shows_the_latest_state_and_nothing_after_the_end() -> None:
    from bot.handlers.progress import ThrottledThread
    from bot.views.message import Message
    from tests.support import RecordingThread, wait_for

    thread = RecordingThread(RecordingResponder(), Message("start"))
    throttled = ThrottledThread(thread, interval=0.2)
    for step in range(50):  # a burst: only the last one is worth showing
        throttled.progress(lambda step=step: Message(f"step {step}"))
    wait_for(lambda: thread.updates[-1].text == "step 49", timeout=2, what="the trailing update")
    assert len(thread.updates) <= 3

    ending = RecordingThread(RecordingResponder(), Message("start"))
    throttled = ThrottledThread(ending, interval=0.2)
    throttled.progress(lambda: Message("pending"))  # within the interval: waits for its timer
    throttled.finish(Message("done"))
    time.sleep(0.3)  # past the interval: a timer left running would have sent "pending" by now
    assert [m.text for m in ending.updates] == ["start", "done"]
