"""bot/registry against real distribution registries (plain, htpasswd, token auth with
tests/token_issuer.py): digests from one HEAD each, tokens reused per repository, tags page
by page, what a new digest brings, quotas and 429s, credential helpers, TLS rules."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bot import credentials
from bot.registry import RegistryClient, RegistryError, RegistryLimited
from bot.registry.changes import ChangesCache, describe
from bot.registry.checks import DigestChecks
from bot.registry.client import ACCEPT, Login
from bot.registry.quota import parse_quota, retry_after
from bot.registry.transport import Insecure, tls_for
from bot.registry.versions import newer_tags
from tests.conftest import ACCESS, make_settings
from tests.registry_push import push_image
from tests.registry_rig import RegistryRig
from tests.support import unique, wait_for


def _repo(prefix: str = "app") -> str:
    return f"dockops-test/{unique(prefix).lower()}"


def _logged(rig: RegistryRig, since: int, count: int) -> list:
    """The access log after `since`, once `count` more lines are in (it logs after answering)."""
    wait_for(lambda: rig.mark() >= since + count, timeout=10, what="the registry's access log")
    return rig.requests(since)


# -- the three registries ------------------------------------------------------------------

def test_token_registry_many_repositories_one_head_each_and_one_token_per_repository(
        token_registry: RegistryRig) -> None:
    repos = [_repo() for _ in range(6)]
    digests = {repo: push_image(token_registry, repo, "1.0") for repo in repos}
    client = RegistryClient()  # anonymous: the issuer grants pull
    checks = DigestChecks(client)
    issued, mark = token_registry.token.count(), token_registry.mark()  # type: ignore[union-attr]
    # Four "hosts" asking for every image at once: each image is asked once.
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda repo: checks.head(token_registry.host, repo, "1.0").digest,
                              repos * 4))
    assert found == [digests[repo] for repo in repos * 4]
    wait_for(lambda: len([r for r in token_registry.requests(mark) if r.is_manifest]) >= 6,
             timeout=10, what="six HEADs")
    logged = token_registry.requests(mark)
    heads = [r for r in logged if r.is_manifest]
    assert {r.method for r in heads} == {"HEAD"} and 6 <= len(heads) <= 24
    assert not [r for r in logged if r.is_blob]
    assert token_registry.token.count(issued) == 6  # type: ignore[union-attr]
    # A second run reuses the tokens until they expire: no new token request.
    for repo in repos:
        assert client.head(token_registry.host, repo, "1.0").digest == digests[repo]
    assert token_registry.token.count(issued) == 6  # type: ignore[union-attr]


def test_single_flight_joins_concurrent_checks_of_one_tag(registry: RegistryRig) -> None:
    repo = _repo()
    push_image(registry, repo, "1.0")
    checks = DigestChecks(RegistryClient())
    checks.head(registry.host, repo, "1.0")  # the /v2/ ping is out of the way
    mark = registry.mark()
    gate = threading.Barrier(8)

    def ask(_: int) -> str:
        gate.wait()
        return checks.head(registry.host, repo, "1.0").digest

    with ThreadPoolExecutor(8) as pool:
        assert len(set(pool.map(ask, range(8)))) == 1
    heads = [r for r in _logged(registry, mark, 1) if r.is_manifest]
    assert 1 <= len(heads) < 8 and all(r.method == "HEAD" for r in heads)


def test_htpasswd_registry_with_and_without_credentials(auth_registry: RegistryRig) -> None:
    repo = _repo()
    digest = push_image(auth_registry, repo, "2.0")
    login = Login(auth_registry.username or "", auth_registry.password or "")
    assert RegistryClient(lambda r: login).head(auth_registry.host, repo, "2.0").digest == digest
    with pytest.raises(RegistryError) as refused:
        RegistryClient().head(auth_registry.host, repo, "2.0")
    assert "refused anonymous access" in refused.value.message
    assert "credentials" in refused.value.detail and "\n" not in refused.value.message


def test_token_service_refusing_a_password_is_one_sentence(token_registry: RegistryRig) -> None:
    repo = _repo()
    push_image(token_registry, repo, "1.0")
    client = RegistryClient(lambda r: Login("dockops", "wrong"))
    with pytest.raises(RegistryError) as refused:
        client.head(token_registry.host, repo, "1.0")
    assert "refused the credentials (HTTP 401)" in refused.value.message


def test_missing_tag_and_unreachable_registry_are_sentences(registry: RegistryRig) -> None:
    repo = _repo()
    push_image(registry, repo, "1.0")
    client = RegistryClient()
    with pytest.raises(RegistryError) as missing:
        client.head(registry.host, repo, "9.9")
    assert "has no such tag (HTTP 404)" in missing.value.message
    with pytest.raises(RegistryError) as down:
        client.head("127.0.0.1:9", repo, "1.0")
    assert "could not be reached: connection refused" in down.value.message


# -- tags, versions, what changed ----------------------------------------------------------

def test_tags_are_listed_and_sorted_as_versions(registry: RegistryRig) -> None:
    repo = _repo()
    for tag in ("1.2.3", "1.2.4", "1.3.0-rc1", "latest", "v1.10.0", "1.2.4-alpine"):
        push_image(registry, repo, tag)
    tags = RegistryClient().tags(registry.host, repo)
    assert sorted(tags) == sorted(["1.2.3", "1.2.4", "1.3.0-rc1", "latest", "v1.10.0",
                                   "1.2.4-alpine"])
    assert newer_tags("1.2.3", tags) == ["1.2.4", "v1.10.0"]
    assert newer_tags("1.2.3", tags, include=[r"^1\.\d+\.\d+(-rc\d+)?$"]) == ["1.2.4", "1.3.0-rc1"]
    assert newer_tags("1.2.3", tags, exclude=[r"^v"]) == ["1.2.4"]
    assert newer_tags("latest", tags) == []


def test_a_new_digest_is_described_from_its_manifest_and_config_once(
        registry: RegistryRig, tmp_path: Path) -> None:
    repo = _repo()
    labels = {"org.opencontainers.image.version": "1.25.4",
              "org.opencontainers.image.revision": "0123456789abcdef",
              "org.opencontainers.image.source": "https://github.com/acme/app"}
    digest = push_image(registry, repo, "1.25", labels=labels, created="2026-11-20T08:00:00Z",
                        platforms=(("linux", "amd64"), ("linux", "arm64")), layer_size=3000)
    cache = ChangesCache(tmp_path / "digests")
    client = RegistryClient()
    mark = registry.mark()
    found = cache.describe(client, registry.host, repo, digest, os="linux", arch="arm64")
    assert (found.created, found.platform, found.size) == ("2026-11-20T08:00:00Z",
                                                           "linux/arm64", 3000)
    assert (found.version, found.revision, found.link) == ("1.25.4", "0123456789abcdef",
                                                           "https://github.com/acme/app")
    logged = _logged(registry, mark, 3)
    assert [r.method for r in logged if r.is_manifest] == ["GET", "GET"]  # index, then arm64
    assert len([r for r in logged if r.is_blob]) == 1  # the config, never a layer
    again = registry.mark()
    assert cache.describe(client, registry.host, repo, digest) == found
    assert registry.requests(again) == []


def test_only_http_links_are_offered(registry: RegistryRig) -> None:
    repo = _repo()
    digest = push_image(registry, repo, "1", labels={
        "org.opencontainers.image.source": "javascript:alert(1)",
        "org.opencontainers.image.url": "https://example.com/a|<b>"})
    found = describe(RegistryClient(), registry.host, repo, digest)
    assert found.source == "javascript:alert(1)" and found.link == ""


# -- quotas and 429 ------------------------------------------------------------------------

class _HubLike(BaseHTTPRequestHandler):
    """A registry that answers like Docker Hub's quota headers; `/v2/limited/` says 429."""

    heads = 0

    def do_GET(self) -> None:
        if self.path.startswith("/v2/paged/tags/list"):
            # distribution 2.8 ignores `n`; newer registries and Docker Hub page with Link.
            last = "last=1.1" in self.path
            body = json.dumps({"name": "paged", "tags": ["2.0"] if last else ["1.0", "1.1"]})
            link = {} if last else {"Link": '</v2/paged/tags/list?last=1.1&n=2>; rel="next"'}
            self._answer(200, link, body.encode())
            return
        self._answer(200 if self.path == "/v2/" else 404)

    def do_HEAD(self) -> None:
        type(self).heads += 1
        if self.path.startswith("/v2/limited/"):
            self._answer(429, {"Retry-After": "120"})
            return
        self._answer(200, {"Docker-Content-Digest": "sha256:" + "a" * 64,
                           "ratelimit-limit": "100;w=21600",
                           "ratelimit-remaining": "7;w=21600"})

    def _answer(self, status: int, headers: dict[str, str] | None = None,
                body: bytes = b"") -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hub_like() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_quota_headers_are_read_and_a_429_backs_off(hub_like: str) -> None:
    client = RegistryClient()
    head = client.head(hub_like, "team/app", "1")
    assert head.quota is not None and (head.quota.limit, head.quota.remaining) == (100, 7)
    assert head.quota.describe() == "7 of 100 pulls left (per 6h)"
    before = _HubLike.heads
    with pytest.raises(RegistryLimited) as limited:
        client.head(hub_like, "limited/app", "1")
    assert limited.value.seconds == 120 and "HTTP 429" in limited.value.message
    with pytest.raises(RegistryLimited):  # waits it out: no request is sent
        client.head(hub_like, "team/app", "1")
    assert _HubLike.heads == before + 1
    assert 0 < client.blocked_for(hub_like) <= 120


def test_tags_follow_the_link_header_page_by_page(hub_like: str) -> None:
    client = RegistryClient()
    client.tag_page = 2
    assert client.tags(hub_like, "paged") == ["1.0", "1.1", "2.0"]


def test_quota_and_retry_after_parsing() -> None:
    quota = parse_quota("docker.io", {"ratelimit-limit": "100;w=21600",
                                      "ratelimit-remaining": "76;w=21600"})
    assert quota is not None and (quota.limit, quota.remaining, quota.window) == (100, 76, 21600)
    assert parse_quota("r", {}) is None and parse_quota("r", {"ratelimit-limit": "x"}) is None
    assert retry_after({"retry-after": "30"}) == 30
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 1.0  # past
    assert retry_after({}) == 60


# -- credentials, TLS, insecure ------------------------------------------------------------

def test_credential_helper_program_is_run_for_the_registry(
        auth_registry: RegistryRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo()
    digest = push_image(auth_registry, repo, "1.0")
    bin_dir, config_dir = tmp_path / "bin", tmp_path / "docker"
    bin_dir.mkdir()
    config_dir.mkdir()
    ran = tmp_path / "helper-ran"
    helper = bin_dir / "docker-credential-test"
    answer = json.dumps({"ServerURL": auth_registry.host, "Username": auth_registry.username,
                         "Secret": auth_registry.password})
    helper.write_text(f"#!/bin/sh\nread server\necho \"$1 $server\" >> {ran}\n"
                      f"[ \"$1\" = get ] && echo '{answer}'\n")
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    (config_dir / "config.json").write_text(json.dumps(
        {"credHelpers": {auth_registry.host: "test"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    settings = make_settings(tmp_path, ACCESS)
    client = RegistryClient(credentials.registry_login(settings))
    assert client.head(auth_registry.host, repo, "1.0").digest == digest
    assert client.head(auth_registry.host, repo, "1.0").digest == digest
    assert ran.read_text().splitlines() == [f"get {auth_registry.host}"]  # once, then kept


def test_plain_http_only_for_registries_the_engine_calls_insecure() -> None:
    insecure = Insecure.from_info([{"InsecureRegistryCIDRs": ["127.0.0.0/8", "10.9.0.0/16"],
                                    "IndexConfigs": {"old.example:5000": {"Secure": False},
                                                     "docker.io": {"Secure": True}}}])
    assert insecure.allows_http("127.0.0.1:5000") and insecure.allows_http("localhost:5000")
    assert insecure.allows_http("10.9.1.2") and insecure.allows_http("old.example:5000")
    assert not insecure.allows_http("docker.io") and not insecure.allows_http("192.0.2.1:443")


def test_certs_d_gives_the_ca_and_client_pair(tmp_path: Path) -> None:
    folder = tmp_path / "registry.example:5000"
    folder.mkdir()
    for name in ("ca.crt", "client.cert", "client.key"):
        (folder / name).write_text("x")
    tls = tls_for("registry.example:5000", tmp_path)
    assert tls.verify == str(folder / "ca.crt")
    assert tls.cert == (str(folder / "client.cert"), str(folder / "client.key"))
    assert tls_for("other.example", tmp_path).verify is True


def test_accept_names_the_four_manifest_types() -> None:
    for kind in ("oci.image.index.v1", "oci.image.manifest.v1",
                 "docker.distribution.manifest.list.v2", "docker.distribution.manifest.v2"):
        assert f"application/vnd.{kind}+json" in ACCEPT


def test_a_tag_page_link_to_another_host_is_not_followed() -> None:
    from bot.registry.client import _next_link

    assert _next_link('</v2/app/tags/list?last=b&n=2>; rel="next"') == "/v2/app/tags/list?last=b&n=2"
    assert _next_link('<https://evil.example/v2/app/tags/list?last=b>; rel="next"') is None
    assert _next_link('</steal>; rel="next"') is None and _next_link("") is None


class _Collector(BaseHTTPRequestHandler):
    """A token service that records every Authorization header it is sent."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"token": "t"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_registry_cannot_send_the_password_to_a_plain_http_realm_elsewhere() -> None:
    """A hostile registry names `http://localhost:PORT/token` (another host, in the clear)."""
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)

    class _Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="http://localhost:'
                                                 f'{collector.server_address[1]}/token",'
                                                 'service="x"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    hostile = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    for server in (collector, hostile):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = RegistryClient(lambda r: Login("dockops", "s3cret-password"))
        with pytest.raises(RegistryError, match="does not send them there"):
            client.head(f"127.0.0.1:{hostile.server_address[1]}", "team/app", "1")
        assert _Collector.seen == []  # the token service never heard from dockops
    finally:
        for server in (collector, hostile):
            server.shutdown()
            server.server_close()
