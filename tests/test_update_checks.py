"""The update job's detection against real registries and the real engine: each unique image
once across hosts (HEADs only, counted from the access log), new version tags told once each,
the card of a new digest, quota skips, and the engine's distribution API as the fallback."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest

from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.jobs.registry_checks import image_created, quota_lines
from bot.jobs.runner import JobRunner
from bot.mrkdwn import unescape
from bot.registry import RegistryClient, RegistryUnreachable
from bot.registry.quota import Quota, QuotaFile
from bot.services import Services
from bot.store import Buttons
from bot.views.jobs import render
from tests.conftest import ACCESS, make_settings
from tests.registry_push import push_image
from tests.registry_rig import RegistryRig
from tests.support import unique, wait_for
from tests.test_registry_client import hub_like  # noqa: F401 (a fixture)

SOCKET = "unix:///var/run/docker.sock"
TWO_HOSTS = (f'[hosts.alpha]\nurl = "{SOCKET}"\ndefault = true\n'
             f'[hosts.beta]\nurl = "{SOCKET}"\n')


def job(images: list[str], *, hosts: tuple[str, ...] = (), extra: str = "") -> str:
    return ("[[jobs]]\nname = \"updates\"\ntype = \"update\"\nschedule = \"*/30 * * * *\"\n"
            f"channel = \"C0OPS\"\njitter = \"0s\"\nhosts = {json.dumps(list(hosts))}\n"
            f"images = {json.dumps(images)}\n{extra}")


@pytest.fixture
def boot(tmp_path: Path) -> Iterator[Callable[[str], JobRunner]]:
    made: list[Services] = []

    def start(toml: str) -> JobRunner:
        services = Services.build(make_settings(tmp_path / f"bot{len(made)}", ACCESS + toml))
        made.append(services)
        return JobRunner(services, outbox=None)

    yield start
    for services in made:
        services.close()


@pytest.fixture
def pushed(docker_client: docker.DockerClient, busybox: str, registry: RegistryRig
           ) -> Iterator[Callable[[int], list[str]]]:
    """`pushed(n)`: n repositories in the plain registry, pushed by the engine (so the local
    images carry their repo digests); all removed locally after the test."""
    refs: list[str] = []

    def push(count: int) -> list[str]:
        for _ in range(count):
            repo = f"{registry.host}/dockops-test/{unique('upd').lower()}"
            docker_client.api.tag(busybox, repo, "1.0")
            for event in docker_client.api.push(repo, tag="1.0", stream=True, decode=True):
                assert "error" not in event, event
            refs.append(f"{repo}:1.0")
        return refs[-count:]

    yield push
    for ref in refs:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_image(ref)


def test_each_unique_image_once_across_hosts_heads_only(
        boot: Callable[[str], JobRunner], pushed: Callable[[int], list[str]],
        registry: RegistryRig) -> None:
    refs = pushed(5)
    runner = boot(TWO_HOSTS + job(refs, hosts=("alpha", "beta")))
    runner.run("updates")  # the first run meets the registry (/v2/ once)
    mark = registry.mark()
    report, notices = runner.run("updates")
    assert report.outcome == "ok" and report.summary == "10 image(s) checked, 0 changed"
    assert notices == []
    wait_for(lambda: registry.mark() >= mark + 5, timeout=10, what="the job's HEADs")
    logged = registry.requests(mark)
    assert [r.method for r in logged if r.is_manifest] == ["HEAD"] * 5
    assert [r for r in logged if r.is_blob] == [] and [r for r in logged if r.path == "/v2/"] == []


def test_token_registry_job_run_one_head_and_at_most_one_token_per_repository(
        boot: Callable[[str], JobRunner], token_registry: RegistryRig) -> None:
    repos = [f"dockops-test/{unique('tok').lower()}" for _ in range(4)]
    for repo in repos:
        push_image(token_registry, repo, "1.0")
    refs = [f"{token_registry.host}/{repo}:1.0" for repo in repos]
    issuer = token_registry.token
    assert issuer is not None
    runner = boot(TWO_HOSTS + job(refs, hosts=("alpha", "beta"), extra="summary = true\n"))
    issued, mark = issuer.count(), token_registry.mark()
    report, _ = runner.run("updates")
    # Nothing local: each is "changed" (told once per host), and its card asks the manifest.
    assert report.summary.startswith("8 image(s) checked, 8 changed")
    heads = wait_for(lambda: [r for r in token_registry.requests(mark)
                              if r.is_manifest and r.method == "HEAD"] or None, timeout=10)
    assert len(heads) == 4
    assert issuer.count(issued) == 4  # one token per repository, reused by the card's GETs
    mark = token_registry.mark()
    report, notices = runner.run("updates")
    assert issuer.count(issued) == 4 and notices[-1:] and isinstance(notices[-1], n.UpdateSummary)
    wait_for(lambda: token_registry.mark() >= mark + 4, timeout=10, what="four HEADs")
    logged = token_registry.requests(mark)
    assert [r.method for r in logged if r.is_manifest] == ["HEAD"] * 4  # cards: seen, cached
    assert not [r for r in logged if r.is_blob]


def test_new_version_tags_are_told_once_each_with_buttons_on_that_tag(
        boot: Callable[[str], JobRunner], registry: RegistryRig) -> None:
    repo = f"dockops-test/{unique('semver').lower()}"
    for tag in ("1.2.3", "1.2.4", "1.3.0-rc1", "latest"):
        push_image(registry, repo, tag)
    ref = f"{registry.host}/{repo}:1.2.3"
    runner = boot(job([ref], extra="watch_tags = true\n") + "\n" + job(
        [ref], extra="watch_tags = true\ninclude_tags = ['^1\\.']\n").replace(
        'name = "updates"', 'name = "with-rc"') + "\n" + job(
        [ref], extra="watch_tags = true\ninclude_tags = ['^1\\.']\nexclude_tags = ['-rc']\n"
    ).replace('name = "updates"', 'name = "no-rc"'))

    def told(name: str) -> list[str]:
        _, notices = runner.run(name)
        return [f"{t.current} -> {t.tag}" for t in notices if isinstance(t, n.TagAvailable)]

    assert told("updates") == ["1.2.3 -> 1.2.4"]
    assert told("with-rc") == ["1.2.3 -> 1.2.4", "1.2.3 -> 1.3.0-rc1"]
    assert told("no-rc") == ["1.2.3 -> 1.2.4"]
    assert told("updates") == [] and told("with-rc") == []  # each once
    push_image(registry, repo, "1.2.5")
    _, notices = runner.run("updates")
    [tag] = [t for t in notices if isinstance(t, n.TagAvailable)]
    message = render(tag)
    assert unescape(message.text).startswith(f"{repo.rsplit('/', 1)[1]} 1.2.3 -> 1.2.5 available")
    actions = next(b for b in message.blocks if b["type"] == "actions")["elements"]
    stored = [Buttons(runner.services.store).get(a["value"]) for a in actions]
    assert [b.command if b else None for b in stored] == [
        f"--host local pull {registry.host}/{repo}:1.2.5"]  # no container: no Recreate


def test_a_new_digest_card_says_when_what_and_where_from(
        boot: Callable[[str], JobRunner], registry: RegistryRig) -> None:
    repo = f"dockops-test/{unique('card').lower()}"
    push_image(registry, repo, "2", created="2026-11-28T09:30:00Z", layer_size=4000, labels={
        "org.opencontainers.image.version": "2.4.1",
        "org.opencontainers.image.revision": "abcdef0123456789",
        "org.opencontainers.image.source": "https://github.com/acme/app?a=1&b=<2>"})
    runner = boot(job([f"{registry.host}/{repo}:2"]))
    _, notices = runner.run("updates")
    [update] = [x for x in notices if isinstance(x, n.UpdateAvailable)]
    assert update.details is not None
    assert (update.details.created, update.details.platform, update.details.size) == (
        "2026-11-28T09:30:00Z", "linux/amd64", 4000)
    assert update.details.link == ""  # `<` is not in a link dockops draws
    text = json.dumps(render(update).blocks)
    assert "2026-11-28 09:30:00 UTC" in text and "2.4.1 (abcdef012345)" in text
    assert "&lt;2&gt;" in text and "<https://" not in text
    decoded = n.decode(n.encode(update))
    assert decoded == update  # the outbox keeps the card


def test_min_remaining_skips_the_registry_and_says_so(
        boot: Callable[[str], JobRunner], hub_like: str) -> None:  # noqa: F811
    from tests.test_registry_client import _HubLike

    runner = boot(job([f"{hub_like}/team/app:1"], extra="min_remaining = 10\n"))
    report, _ = runner.run("updates")
    assert "7 of 100 pulls left (per 6h)" in report.summary
    before = _HubLike.heads
    report, notices = runner.run("updates")
    assert _HubLike.heads == before  # not asked
    assert report.outcome == "ok" and notices == []
    assert f"skipped: {hub_like} has 7 of 100 pulls left (per 6h), below the job's " \
           "min_remaining = 10" in report.summary
    assert any("7 of 100 pulls left" in line for line in quota_lines(runner.services))


def test_jobs_lists_the_quota_left(make_pipeline) -> None:
    runner = make_pipeline(job(["127.0.0.1:5999/x:1"]))
    QuotaFile(runner.services.settings.data_dir / "registry" / "quota.json").save(
        [Quota("docker.io", 100, 76, 21600, time.time())])
    _, answer = runner("jobs")
    assert "docker.io: 76 of 100 pulls left (per 6h)" in json.dumps(answer.last.blocks)


def test_the_engine_is_the_fallback_and_the_report_says_so(
        boot: Callable[[str], JobRunner], pushed: Callable[[int], list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    [ref] = pushed(1)

    def unreachable(*args: object) -> None:
        raise RegistryUnreachable("http://x could not be reached: connection refused.")

    monkeypatch.setattr(RegistryClient, "head", unreachable)
    report, notices = boot(job([ref])).run("updates")
    assert report.outcome == "ok" and notices == []
    assert report.summary == ("1 image(s) checked, 0 changed; 1 through the engine's "
                              "distribution API (registry not reachable directly)")


def test_a_bad_tag_regex_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DockopsError) as bad:
        make_settings(tmp_path, ACCESS + job(["r/x:1"], extra="include_tags = ['(']\n"))
    assert "1 mistake" in bad.value.message
    assert "'(' is not a regular expression (missing ), unterminated subpattern at position " \
           "0)" in bad.value.detail


def test_image_created_gives_min_age_the_build_date(
        boot: Callable[[str], JobRunner], registry: RegistryRig) -> None:
    repo = f"dockops-test/{unique('age').lower()}"
    digest = push_image(registry, repo, "1", created="2026-11-29T23:59:59.123456789Z")
    services = boot(job([f"{registry.host}/{repo}:1"])).services
    created = image_created(services, f"{registry.host}/{repo}:1", digest)
    assert created == datetime(2026, 11, 29, 23, 59, 59, 123456, tzinfo=UTC)
    assert image_created(services, f"{registry.host}/{repo}:1", "sha256:" + "0" * 64) is None


def test_a_tag_list_that_fails_is_told_once(boot: Callable[[str], JobRunner],
                                            hub_like: str) -> None:  # noqa: F811
    runner = boot(job([f"{hub_like}/team/app:1.0"], extra="watch_tags = true\n"))

    def failures() -> list[str]:
        _, notices = runner.run("updates")
        return [x.error for x in notices if isinstance(x, n.CheckFailed)]

    assert failures() == [f"Could not list its tags: {hub_like}/team/app has no such "
                          "repository (HTTP 404)."]
    assert failures() == []
