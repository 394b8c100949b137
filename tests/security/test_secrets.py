"""§5 Secrets: what a container holds or prints never reaches a reply, a file, the audit or a log;
a typed password is refused however it is quoted; the bot token only ever goes to Slack files."""

from __future__ import annotations

import io
import json
import logging
import shlex
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import docker
import pytest

from bot import metrics
from bot.commands.secrets import carries_password
from bot.engine import registry as engine_registry
from bot.redact import MASK, is_secret_key, mask_document, mask_output
from bot.services import Services
from bot.views.message import Message
from tests.lifecycle_rig import Run
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, RecordingResponder, unique, wait_for

Make = Callable[..., docker.models.containers.Container]

ENV_SECRET = "hunter2-xyz"  # MYSQL_PW of a container
IMAGE_SECRET = "s3cret-img-xyz"  # ENV DB_PASS of an image
PRINTED_SECRET = "abc123zz"  # what a container prints as AWS_SECRET_ACCESS_KEY
SECRETS = (ENV_SECRET, IMAGE_SECRET, PRINTED_SECRET)
TYPED = "Typed-Pw-77q"
TOKEN = "xoxb-test-token-sec5"
PRINTER = ("echo AWS_SECRET_ACCESS_KEY=abc123zz; echo MYSQL_PW=$MYSQL_PW; echo ready; "
           "while true; do echo AWS_SECRET_ACCESS_KEY=abc123zz; sleep 0.2; done")


# -- the rule -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "secret"), [
    ("MYSQL_PW", True), ("DB_PASS", True), ("AWS_SECRET_ACCESS_KEY", True), ("PWD", True),
    ("MYSQL_ROOT_PASSWORD", True), ("PASSWD", True), ("GITHUB_TOKEN", True),
    ("SSH_PRIVATE_KEY", True), ("GOOGLE_APPLICATION_CREDENTIALS", True), ("BASIC_AUTH", True),
    ("db_credential", True), ("api-key", True), ("apiKey", True), ("db.password", True),
    ("DBPASSWORD", True), ("APITOKEN", True), ("CLIENTSECRET", True), ("x-auth", True),
    ("KEYBOARD_LAYOUT", False), ("PATH", False), ("MONKEY", False), ("HOME", False),
    ("AUTHOR", False), ("PASSENGER_COUNT", False), ("OLDPWD", False), ("HOSTNAME", False),
    ("KEYNOTE", False), ("COMPASS", False), ("MODE", False),
])
def test_which_names_are_secret(name: str, secret: bool) -> None:
    assert is_secret_key(name) is secret


@pytest.mark.parametrize(("text", "shown"), [
    ("AWS_SECRET_ACCESS_KEY=abc123zz", f"AWS_SECRET_ACCESS_KEY={MASK}"),
    ("export DB_PASS='two words' MODE=prod", f"export DB_PASS={MASK} MODE=prod"),
    ('{"Env":["MYSQL_PW=hunter2-xyz","PATH=/bin"]}', f'{{"Env":["MYSQL_PW={MASK}","PATH=/bin"]}}'),
    ("java -Dspring.datasource.password=pw1 -jar app", f"java -Dspring.datasource.password={MASK}"
                                                        " -jar app"),
    ("KEYBOARD_LAYOUT=us PATH=/bin MONKEY=banana", "KEYBOARD_LAYOUT=us PATH=/bin MONKEY=banana"),
    ("connect https://app:pw1@db.example/", f"connect https://app:{MASK}@db.example/"),
])
def test_container_output_masks_secret_pairs_only(text: str, shown: str) -> None:
    assert mask_output(text) == shown


def test_every_env_list_at_any_depth_is_masked_and_the_engine_copy_kept() -> None:
    document = {"Config": {"Env": ["MYSQL_PW=a b c", "PATH=/bin"], "Labels": {"db.password": "x1"}},
                "ContainerConfig": {"Env": ["DB_PASS=y2"], "Cmd": ["/bin/sh", "-c", "#(nop) ",
                                                                  "ENV DB_PASS=y2"]},
                "Deep": [{"Env": ["TOKEN=z3"]}]}
    masked = json.dumps(mask_document(document))
    assert not any(secret in masked for secret in ("a b c", "x1", "y2", "z3"))
    assert "PATH=/bin" in masked
    assert document["Config"]["Env"][0] == "MYSQL_PW=a b c"  # the engine's copy is untouched


# -- effects: replies, files, audit and logs ----------------------------------------------------

def received(responder: RecordingResponder) -> str:
    """Every byte the responder got: texts, blocks, files, thread updates and replies."""
    messages: list[Message] = [*responder.sent]
    for thread in responder.threads:
        messages += [*thread.updates, *thread.replies]
    parts: list[str] = []
    for message in messages:
        parts += [message.text, json.dumps(message.blocks)]
        if message.attachment:
            parts += [message.attachment.filename, message.attachment.title,
                      message.attachment.content.decode("utf-8", errors="replace")]
    return "\n".join(parts)


def audit_text(services: Services) -> str:
    return "\n".join(row.text + "\n" + row.message
                     for row in services.store.audit_rows(limit=1000))


def assert_nowhere(what: str, *places: str) -> None:
    for place in places:
        for secret in SECRETS:
            assert secret not in place, f"{what}: {secret!r} leaked"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def secret_image(docker_client: docker.DockerClient, busybox: str) -> Iterator[str]:
    """An image whose ENV DB_PASS is a secret; the classic builder copies it into ContainerConfig."""
    tag = f"{unique('img')}:1"
    dockerfile = f"FROM {busybox}\nENV DB_PASS={IMAGE_SECRET}\n".encode()
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True,
                                          labels={TEST_LABEL: RUN_ID})
    yield tag
    docker_client.images.remove(image.id, force=True)


def test_container_inspect_in_every_form_shows_no_env_secret(
        run_command: Run, services: Services, make_container: Make, logged) -> None:
    web = make_container(environment={"MYSQL_PW": ENV_SECRET, "MODE": "prod"})
    answers = []
    for text in (f"inspect {web.name}", f"inspect --format '{{{{json .Config.Env}}}}' {web.name}",
                 f"inspect --format '{{{{.Config.Env}}}}' {web.name}",
                 f"inspect --raw {web.name}"):
        outcome, sent = run_command(text, user="U0VIEW", source="slack")
        assert outcome.ok, sent.text()
        answers.append(received(sent))
        assert f"MYSQL_PW={MASK}" in answers[-1] and "MODE=prod" in answers[-1], text
    assert_nowhere("inspect", *answers, audit_text(services), logged.text)


def test_image_inspect_masks_config_and_container_config(
        run_command: Run, services: Services, secret_image: str, docker_client, logged) -> None:
    raw = docker_client.api.inspect_image(secret_image)
    assert f"DB_PASS={IMAGE_SECRET}" in raw["ContainerConfig"]["Env"]  # the engine has it twice
    answers = []
    for text in (f"image inspect {secret_image}", f"inspect {secret_image}",
                 f"image inspect --format '{{{{json .ContainerConfig}}}}' {secret_image}",
                 f"inspect --format '{{{{json .Config.Env}}}}' {secret_image}",
                 f"image inspect --raw {secret_image}"):
        outcome, sent = run_command(text, user="U0VIEW", source="slack")
        assert outcome.ok, sent.text()
        answers.append(received(sent))
        assert f"DB_PASS={MASK}" in answers[-1], text
    assert_nowhere("image inspect", *answers, audit_text(services), logged.text)


def test_logs_exec_and_attached_runs_mask_what_the_container_prints(
        run_command: Run, services: Services, make_container: Make, names, logged) -> None:
    printer = make_container(["sh", "-c", PRINTER], environment={"MYSQL_PW": ENV_SECRET})
    wait_for(lambda: b"ready" in printer.logs(), timeout=10, what="the secret lines")
    stopped = make_container("env", environment={"MYSQL_PW": ENV_SECRET}, start=False)
    answers = []
    for text in (f"logs {printer.name}", f"logs --tail all {printer.name}",
                 f"exec {printer.name} env", f"exec {printer.name} sh -c 'echo DB_PASS=$MYSQL_PW'",
                 f"run --rm --name {names('run')} --label {TEST_LABEL}={RUN_ID} "
                 f"-e MYSQL_PW={ENV_SECRET} {BUSYBOX} env",
                 f"start -a {stopped.name}"):
        outcome, sent = run_command(text)
        assert outcome.ok, sent.text()
        answers.append(received(sent))
        assert MASK in answers[-1], text
    assert f"AWS_SECRET_ACCESS_KEY={MASK}" in answers[0]
    assert f"MYSQL_PW={MASK}" in answers[2] and f"DB_PASS={MASK}" in answers[3]
    assert_nowhere("output", *answers, audit_text(services), logged.text)


@pytest.mark.parametrize("verb", ["logs -f --tail 5", "attach"])
def test_live_output_masks_what_the_container_prints(
        verb: str, make_pipeline: Callable[..., Run], make_container: Make, logged) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 3\n")  # the follow ends by itself
    printer = make_container(["sh", "-c", PRINTER], environment={"MYSQL_PW": ENV_SECRET})
    wait_for(lambda: b"ready" in printer.logs(), timeout=10, what="the secret lines")
    outcome, sent = run(f"{verb} {printer.name}", user="U0OPER", source="slack")
    assert outcome.ok, sent.text()
    wait_for(lambda: "Stopped after" in received(sent), timeout=15, what="the follow to end")
    assert f"AWS_SECRET_ACCESS_KEY={MASK}" in received(sent)
    assert_nowhere(verb, received(sent), logged.text)


# -- /metrics ---------------------------------------------------------------------------------------

def test_metric_labels_carry_resolved_host_names_never_typed_text(run_command: Run) -> None:
    typed = 'evil"} 1\nforged_metric{x="'
    outcome, _ = run_command(f"--host {shlex.quote(typed)} logs {unique('missing')}")
    assert not outcome.ok
    outcome, _ = run_command(f"logs {unique('missing')}")  # an engine error on the one host
    assert not outcome.ok
    body = metrics.exposition()[0].decode()
    assert "evil" not in body and "forged_metric" not in body
    assert 'dockops_engine_errors_total{host="local"}' in body


# -- a typed password -----------------------------------------------------------------------------

QUOTED_LOGINS = [
    f"'login' -p {TYPED} 127.0.0.1:5000",
    f'l""ogin -p {TYPED} 127.0.0.1:5000',
    f'"login" --password={TYPED}',
    f"lo\\gin -p {TYPED}",
    f"'lo'gin -p'{TYPED}'",
    f"-H nowhere \"login\" -p {TYPED}",
    f"--private l'o'gin -u bob -p {TYPED}",
    f"\u2018login\u2019 -p {TYPED}",
    f"'login' -p {TYPED} '",  # a quote left open: read leniently, still login
]


@pytest.mark.parametrize("text", QUOTED_LOGINS)
def test_a_quoted_login_with_a_password_is_refused_before_the_engine(
        text: str, run_command: Run, services: Services, logged,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(engine_registry, "login", lambda *args, **kwargs: calls.append(args))
    assert carries_password(text)  # the slash listener answers such text privately
    outcome, sent = run_command(text, user="U0VIEW", source="slack")
    assert outcome.result == "refused" and "carries a password" in sent.text()
    assert calls == []
    rows = services.store.audit_rows(limit=5)
    assert rows and rows[0].outcome == "refused"
    for place in (received(sent), audit_text(services), logged.text):
        assert TYPED not in place


# -- cp: the bot token goes to Slack files only ----------------------------------------------------

class CountingServer:
    """Answers every GET with a small file (or a redirect), counting requests and tokens."""

    def __init__(self, redirect_to: str = "") -> None:
        self.requests: list[tuple[str, str]] = []
        seen = self.requests
        self.redirect_to = redirect_to
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append((self.path, self.headers.get("Authorization", "")))
                if "redirect" in self.path and server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"data")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def tokens(self) -> list[str]:
        return [auth for _, auth in self.requests if TOKEN in auth]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_files() -> Iterator[tuple[CountingServer, CountingServer]]:
    """The configured Slack API host (serving /files-pri/) and another host."""
    elsewhere = CountingServer()
    slack = CountingServer(redirect_to=f"{elsewhere.base}/files-pri/T0-F1/stolen.bin")
    yield slack, elsewhere
    slack.close()
    elsewhere.close()


def test_cp_sends_the_token_to_slack_file_paths_only(
        make_pipeline: Callable[..., Run], slack_files, make_container: Make) -> None:
    slack, elsewhere = slack_files
    run = make_pipeline("", slack_api_url=f"{slack.base}/api/", slack_bot_token=TOKEN)
    web = make_container()
    web.exec_run(["mkdir", "-p", "/data"])
    refused = [
        f"{slack.base}/api/conversations.history?channel=C1",
        f"{slack.base}/files-pri/../api/conversations.history",
        f"{slack.base}/files-pri/%2e%2e/api/chat.postMessage",
        f"{slack.base}/files-pri/%2E%2E%2Fapi%2Fchat.postMessage",
        f"{slack.base}/files-pri/T0-F1/..%2f..%2fapi/auth.test",
        f"{slack.base}/files-pri/%252e%252e/api/auth.test",
        f"{slack.base}/files-pri",
        f"{elsewhere.base}/files-pri/T0-F1/a.bin",
        "https://files.slack.com.evil.example/files-pri/T0-F1/a.bin",
        f"https://files.slack.com@127.0.0.1:{elsewhere.server.server_address[1]}/files-pri/a",
        f"{slack.base}\\@files.slack.com/files-pri/T0-F1/a.bin",
        "http://files.slack.com/files-pri/T0-F1/a.bin",
    ]
    for link in refused:
        outcome, sent = run(f"cp - {web.name}:/data/x.bin {link}")
        assert outcome.result == "refused" and "not a Slack file link" in sent.text(), link
    assert slack.requests == [] and elsewhere.requests == []
    # A Slack file that redirects away: the token is not carried there, nothing is fetched there.
    outcome, sent = run(f"cp - {web.name}:/data/x.bin {slack.base}/files-pri/T0-F1/redirect.bin")
    assert not outcome.ok and "did not follow" in sent.text()
    assert elsewhere.requests == []
    # Dot segments that stay inside /files-pri/ are resolved before the fetch.
    outcome, sent = run(f"cp - {web.name}:/data/x.bin "
                        f"{slack.base}/files-pri/T0-F2/../T0-F1/x.bin")
    assert outcome.ok, sent.text()
    assert slack.requests[-1] == ("/files-pri/T0-F1/x.bin", f"Bearer {TOKEN}")
    assert all(path.startswith("/files-pri/") for path, _ in slack.requests)
    assert elsewhere.tokens() == []
