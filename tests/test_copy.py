"""`cp` both ways, content compared byte for byte: container <-> Slack, container <-> host paths."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import docker
import pytest

from bot.engine.copy import tar_of_file
from tests.bot_rig import BotProcess
from tests.lifecycle_rig import Run
from tests.support import unique, wait_for

Make = Callable[..., docker.models.containers.Container]
PAYLOAD = bytes(range(256)) * 300 + b"\x00end"  # binary, with NULs: must arrive unchanged
TOKEN = "xoxb-test-token"


def put_file(container: docker.models.containers.Container, path: str, content: bytes) -> None:
    directory, name = os.path.split(path)
    container.exec_run(["mkdir", "-p", directory])
    container.put_archive(directory, tar_of_file(name, content))


def read_file(container: docker.models.containers.Container, path: str) -> bytes:
    chunks, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        assert member is not None and member.isfile()
        handle = tar.extractfile(member)
        assert handle is not None
        return handle.read()


class FileServer:
    """Serves files like Slack's url_private: only with the bot token as Bearer."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, str]] = []
        files, seen = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append((self.path, self.headers.get("Authorization", "")))
                content, kind = files.get(self.path, (b"", ""))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    content, kind = b"<html>sign in</html>", "text/html"
                elif not kind:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def add(self, name: str, content: bytes, kind: str = "application/octet-stream") -> str:
        path = f"/files-pri/T0TEAM-F{unique('f')[-6:]}/{name}"
        self.files[path] = (content, kind)
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def files() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def exchange(tmp_path: Path) -> Path:
    """The host directory `[copy] host_paths` allows."""
    path = tmp_path / "exchange"
    path.mkdir()
    return path


@pytest.fixture
def cp_run(make_pipeline: Callable[..., Run], files: FileServer, exchange: Path) -> Run:
    return make_pipeline(f'[copy]\nhost_paths = ["{exchange}"]\nmax_bytes = 1000000\n',
                         slack_api_url=files.api_url, slack_bot_token=TOKEN)


# -- container -> Slack -------------------------------------------------------------------------

def test_cp_of_a_file_to_slack_attaches_it_byte_for_byte(run_command: Run,
                                                         make_container: Make) -> None:
    web = make_container()
    put_file(web, "/data/blob.bin", PAYLOAD)
    outcome, sent = run_command(f"cp {web.name}:/data/blob.bin -", user="U0OPER", source="slack")
    assert outcome.ok, sent.text()
    attachment = sent.last.attachment
    assert attachment is not None and attachment.filename == "blob.bin"
    assert attachment.content == PAYLOAD


def test_cp_of_a_directory_to_slack_attaches_a_tar_gz(run_command: Run,
                                                      make_container: Make) -> None:
    web = make_container()
    put_file(web, "/test/a.txt", b"alpha\n")
    put_file(web, "/test/sub/b.bin", PAYLOAD)
    outcome, sent = run_command(f"cp {web.name}:/test -")
    attachment = sent.last.attachment
    assert outcome.ok and attachment is not None and attachment.filename == "test.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(attachment.content))) as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert contents == {"test/a.txt": b"alpha\n", "test/sub/b.bin": PAYLOAD}


def test_cp_of_a_missing_path_says_so(run_command: Run, make_container: Make) -> None:
    web = make_container()
    outcome, sent = run_command(f"cp {web.name}:/nope -")
    assert not outcome.ok and "/nope" in sent.text() and "Traceback" not in sent.text()


def test_cp_past_max_bytes_is_refused(make_pipeline: Callable[..., Run],
                                      make_container: Make) -> None:
    run = make_pipeline("[copy]\nmax_bytes = 1000\n")
    web = make_container()
    put_file(web, "/data/blob.bin", PAYLOAD)
    for path in ("/data/blob.bin", "/data"):
        outcome, sent = run(f"cp {web.name}:{path} -")
        assert not outcome.ok and "max_bytes" in sent.text() and sent.last.attachment is None


# -- Slack -> container ---------------------------------------------------------------------

def test_cp_from_a_slack_link_copies_the_file_in_byte_for_byte(
        cp_run: Run, files: FileServer, make_container: Make) -> None:
    web = make_container()
    put_file(web, "/srv/keep", b"")
    link = files.add("upload.bin", PAYLOAD)
    outcome, sent = cp_run(f"cp - {web.name}:/srv/ <{link}>")
    assert outcome.ok, sent.text()
    assert read_file(web, "/srv/upload.bin") == PAYLOAD
    assert files.requests[-1][1] == f"Bearer {TOKEN}"
    # To a new name in an existing directory.
    outcome, sent = cp_run(f"cp - {web.name}:/srv/renamed.bin {link}")
    assert outcome.ok and read_file(web, "/srv/renamed.bin") == PAYLOAD


def test_cp_from_slack_needs_an_admin_and_a_slack_link(cp_run: Run, files: FileServer,
                                                       make_container: Make) -> None:
    web = make_container()
    link = files.add("x.txt", b"x")
    outcome, sent = cp_run(f"cp - {web.name}:/ {link}", user="U0OPER", source="slack")
    assert outcome.result == "refused" and "admin role" in sent.text()
    for url in ("https://example.com/x.txt", f"{files.api_url}conversations.history?channel=C1"):
        outcome, sent = cp_run(f"cp - {web.name}:/ {url}")
        assert outcome.result == "refused" and "not a Slack file link" in sent.text(), url
    outcome, sent = cp_run(f"cp - {web.name}:/")
    assert not outcome.ok and "Slack file" in sent.text()
    outcome, sent = cp_run(f"cp - {web.name}:/no/such/dir/ {link}")
    assert not outcome.ok and "does not exist" in sent.text()
    assert len(files.requests) == 1  # only the last one fetched: the others stopped before


def test_cp_from_slack_explains_a_login_page_and_a_size_limit(
        make_pipeline: Callable[..., Run], files: FileServer, make_container: Make) -> None:
    web = make_container()
    link = files.add("big.bin", PAYLOAD)
    wrong_token = make_pipeline("", slack_api_url=files.api_url, slack_bot_token="xoxb-other")
    outcome, sent = wrong_token(f"cp - {web.name}:/ {link}")
    assert not outcome.ok and "files:read" in sent.text()
    small = make_pipeline("[copy]\nmax_bytes = 100\n", slack_api_url=files.api_url,
                          slack_bot_token=TOKEN)
    outcome, sent = small(f"cp - {web.name}:/ {link}")
    assert not outcome.ok and "max_bytes" in sent.text()


# -- host paths -------------------------------------------------------------------------------

def test_cp_host_directory_contents_in_and_back_out_byte_for_byte(
        cp_run: Run, exchange: Path, make_container: Make) -> None:
    source = exchange / "dummy"
    (source / "nested").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"alpha\n")
    (source / "nested" / "b.bin").write_bytes(PAYLOAD)
    web = make_container()
    put_file(web, "/test/existing", b"old")
    # Relative host paths are read under the [copy] host_paths directories.
    outcome, sent = cp_run(f"cp ./dummy/. {web.name}:/test")
    assert outcome.ok, sent.text()
    assert read_file(web, "/test/a.txt") == b"alpha\n"
    assert read_file(web, "/test/nested/b.bin") == PAYLOAD
    outcome, sent = cp_run(f"cp {web.name}:/test ./back")
    assert outcome.ok, sent.text()
    assert (exchange / "back" / "a.txt").read_bytes() == b"alpha\n"
    assert (exchange / "back" / "nested" / "b.bin").read_bytes() == PAYLOAD
    assert (exchange / "back" / "existing").read_bytes() == b"old"
    # Into an existing host directory: under the source's name, as the CLI does.
    outcome, _ = cp_run(f"cp {web.name}:/test/nested/b.bin {exchange}/back/nested")
    assert outcome.ok and (exchange / "back" / "nested" / "b.bin").read_bytes() == PAYLOAD


def test_cp_of_a_host_directory_without_dot_lands_under_its_name(
        cp_run: Run, exchange: Path, make_container: Make) -> None:
    (exchange / "tree").mkdir()
    (exchange / "tree" / "f").write_bytes(PAYLOAD)
    web = make_container()
    put_file(web, "/dest/keep", b"")
    outcome, sent = cp_run(f"cp {exchange}/tree {web.name}:/dest")
    assert outcome.ok, sent.text()
    assert read_file(web, "/dest/tree/f") == PAYLOAD


def test_host_paths_outside_the_allowed_directories_are_refused(
        cp_run: Run, exchange: Path, tmp_path: Path, make_container: Make) -> None:
    web = make_container()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("no")
    os.symlink(outside, exchange / "link")
    for text in (f"cp {outside}/secret {web.name}:/", f"cp {exchange}/../outside {web.name}:/",
                 f"cp {exchange}/link/secret {web.name}:/", f"cp {web.name}:/bin/sh /tmp/x",
                 f"cp ../outside/secret {web.name}:/", f"cp link/secret {web.name}:/",
                 f"cp {web.name}:/bin/sh {exchange}/link/sh"):
        outcome, sent = cp_run(text)
        assert outcome.result == "refused", text
        assert "host_paths" in sent.text() and "[copy]" in sent.text(), text
    assert not (outside / "sh").exists()


def test_host_paths_are_off_by_default(run_command: Run, make_container: Make,
                                       tmp_path: Path) -> None:
    web = make_container()
    outcome, sent = run_command(f"cp {web.name}:/bin/sh {tmp_path}/sh")
    assert outcome.result == "refused" and "host_paths" in sent.text()
    assert not (tmp_path / "sh").exists()


def test_cp_between_containers_is_not_supported(run_command: Run) -> None:
    outcome, sent = run_command("cp a:/x b:/y")
    assert not outcome.ok and "between containers" in sent.text()


# -- end to end through Slack ---------------------------------------------------------------

@pytest.mark.timeout(120)
def test_cp_to_slack_uploads_the_file_through_slack(bot_server: BotProcess,
                                                    make_container: Make) -> None:
    web = make_container()
    put_file(web, "/data/blob.bin", PAYLOAD)
    answer = bot_server.command(f"cp {web.name}:/data/blob.bin -", user_id="U0OPER")
    assert answer.status == 200 and answer.ack_seconds < 3
    uploaded = wait_for(lambda: [f for f in bot_server.slack.files if f.filename == "blob.bin"],
                        timeout=15, what="the upload")
    assert uploaded[0].data == PAYLOAD and uploaded[0].channel_id == "C0OPS"
    body = bot_server.answers(answer)[0]
    assert "blob.bin" in str(body)


@pytest.mark.timeout(120)
def test_cp_from_a_file_shared_in_slack_copies_it_in_through_slack(
        bot_server: BotProcess, make_container: Make) -> None:
    web = make_container()
    put_file(web, "/data/.keep", b"")  # the scratch image has no directories to copy into
    link = bot_server.slack.add_file("config.bin", PAYLOAD)
    body = bot_server.ask(f"cp - {web.name}:/data/config.bin {link}")
    assert "config.bin" in str(body)
    assert read_file(web, "/data/config.bin") == PAYLOAD
    fetches = bot_server.slack.calls_to("files-pri")
    assert fetches and fetches[-1].headers.get("Authorization") == \
        f"Bearer {bot_server.slack.bot_token}"
