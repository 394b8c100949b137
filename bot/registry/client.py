"""A registry client that asks only what it must: manifest HEADs for digests, tag lists, and
(once per new digest) a manifest and its config. Built on requests (already in the bot
through docker-py and slack_sdk): one pooled Session, thread-safe for these calls.

Auth follows the challenge of the registry's `/v2/` (asked once per registry): a bearer token
per repository scope from the realm (Basic credentials to the issuer, or anonymous), reused
until it expires; or Basic on every request.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from bot.errors import DockopsError
from bot.registry.auth import Challenge, TokenCache, parse_challenge, pull_scope
from bot.registry.quota import Quota, parse_quota, retry_after
from bot.registry.transport import CERTS_DIR, TLS, Insecure, api_host, tls_for

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join(MANIFEST_TYPES)
TIMEOUT = 15.0
CREDENTIALS_SECONDS = 300.0  # a credential helper runs at most once per registry in this time
MAX_TAG_PAGES = 100
MAX_JSON_BYTES = 4 * 1024 * 1024  # a manifest, config or tag page; a registry may be hostile
UNREACHABLE_SECONDS = 60.0  # a registry out of reach is not asked again (per image) for this


class RegistryError(DockopsError):
    """The registry answered, but not with what was asked (denied, unknown, malformed)."""


class RegistryUnreachable(RegistryError):
    """The registry could not be reached directly (network, TLS): the engine may still can."""


class RegistryLimited(RegistryError):
    """The registry said 429 (or dockops still waits out its Retry-After)."""

    def __init__(self, registry: str, seconds: float) -> None:
        super().__init__(f"{registry} is rate-limiting dockops (HTTP 429); it asked to wait "
                         f"{seconds:.0f} s.",
                         detail="The next run tries again; watch fewer images of this registry "
                                "or log in to raise its limit.")
        self.seconds = seconds


@dataclass(frozen=True)
class Login:
    """Credentials for one registry (a password, or an OAuth identity token)."""

    username: str
    password: str
    identity_token: bool = False

    def __repr__(self) -> str:
        return f"Login({self.username!r}, ***)"


@dataclass(frozen=True)
class Head:
    """What a manifest HEAD says about a tag."""

    digest: str
    media_type: str
    quota: Quota | None


@dataclass
class _Endpoint:
    """How one registry is reached and how it wants to be asked."""

    base: str  # https://host or http://host
    tls: TLS
    challenge: Challenge | None  # None: it asked for no auth


Credentials = Callable[[str], Login | None]


class RegistryClient:
    """Direct registry requests for many images, shared by every update job of the bot."""

    def __init__(self, credentials: Credentials | None = None, *, certs_dir: Path = CERTS_DIR,
                 timeout: float = TIMEOUT, pool_size: int = 16) -> None:
        self._credentials = credentials or (lambda registry: None)
        self.certs_dir = certs_dir
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=32, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.trust_env = False  # no ~/.netrc Basic on top of ours
        self.tokens = TokenCache()
        self.insecure = Insecure()
        self.token_requests = 0
        self.tag_page = 1000  # tags asked per page (the registry may send fewer)
        self._endpoints: dict[str, _Endpoint] = {}
        self._endpoint_locks: dict[str, threading.Lock] = {}
        self._logins: dict[str, tuple[float, Login | None]] = {}
        self._quota: dict[str, Quota] = {}
        self._blocked_until: dict[str, float] = {}
        self._unreachable: dict[str, tuple[float, RegistryUnreachable]] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        self.session.close()

    # -- what the job asks ----------------------------------------------------------------

    def head(self, registry: str, repository: str, tag: str) -> Head:
        """The digest the registry serves for a tag now: one HEAD (Docker Hub: not a pull)."""
        response = self._request("HEAD", registry, repository,
                                 f"/v2/{repository}/manifests/{tag}", {"Accept": ACCEPT})
        response.close()
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest:
            raise RegistryError(f"{registry} answered for {repository}:{tag} without a "
                                "Docker-Content-Digest header.",
                                detail="The registry may not speak the v2 API fully.")
        return Head(digest, response.headers.get("Content-Type", ""), self.quota(registry))

    def manifest(self, registry: str, repository: str, digest: str) -> dict[str, Any]:
        """A manifest (or index) by digest: a GET, which Docker Hub counts as a pull."""
        response = self._request("GET", registry, repository,
                                 f"/v2/{repository}/manifests/{digest}", {"Accept": ACCEPT})
        return _json(response, f"the manifest {digest}")

    def blob_json(self, registry: str, repository: str, digest: str) -> dict[str, Any]:
        """A small JSON blob (an image config) by digest."""
        response = self._request("GET", registry, repository,
                                 f"/v2/{repository}/blobs/{digest}", {})
        return _json(response, f"the blob {digest}")

    def tags(self, registry: str, repository: str) -> list[str]:
        """Every tag of a repository, page after page (`Link: <...>; rel="next"`)."""
        found: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n={self.tag_page}"
        for _ in range(MAX_TAG_PAGES):
            if path is None:
                break
            response = self._request("GET", registry, repository, path, {})
            found.extend(_json(response, "the tag list").get("tags") or [])
            path = _next_link(response.headers.get("Link", ""))
        return found

    def quota(self, registry: str) -> Quota | None:
        """The registry's pull allowance as last seen; None when it sends none."""
        return self._quota.get(registry)

    def quotas(self) -> list[Quota]:
        return sorted(self._quota.values(), key=lambda quota: quota.registry)

    def blocked_for(self, registry: str) -> float:
        """Seconds left of a 429's Retry-After (0 when free to ask)."""
        return max(0.0, self._blocked_until.get(registry, 0.0) - time.monotonic())

    # -- one request, with auth -----------------------------------------------------------

    def _request(self, method: str, registry: str, repository: str, path: str,
                 headers: dict[str, str]) -> requests.Response:
        waiting = self.blocked_for(registry)
        if waiting:
            raise RegistryLimited(registry, waiting)
        endpoint = self._endpoint(registry)
        scope = pull_scope(repository)
        response = self._send(method, endpoint, path, headers, self._auth(registry, endpoint,
                                                                          scope))
        if response.status_code == 401:
            # A token that expired early, or a challenge that changed: ask once more.
            response.close()
            endpoint.challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            response = self._send(method, endpoint, path, headers,
                                  self._auth(registry, endpoint, scope, fresh=True))
        quota = parse_quota(registry, response.headers)
        if quota is not None:
            self._quota[registry] = quota
        if response.status_code == 429:
            response.close()
            seconds = retry_after(response.headers)
            self._blocked_until[registry] = time.monotonic() + seconds
            raise RegistryLimited(registry, seconds)
        if response.status_code >= 400:
            response.close()
            raise _status_error(response, registry, repository, path, self._login(registry))
        return response

    def _send(self, method: str, endpoint: _Endpoint, path: str, headers: dict[str, str],
              auth: str) -> requests.Response:
        if auth:
            headers = {**headers, "Authorization": auth}
        try:
            return self.session.request(method, urljoin(endpoint.base, path), headers=headers,
                                        timeout=self.timeout, verify=endpoint.tls.verify,
                                        cert=endpoint.tls.cert, allow_redirects=True,
                                        stream=True)
        except requests.RequestException as exc:
            raise RegistryUnreachable(f"{endpoint.base} could not be reached: "
                                      f"{_reason(exc)}.") from None

    def _auth(self, registry: str, endpoint: _Endpoint, scope: str, *, fresh: bool = False) -> str:
        challenge = endpoint.challenge
        if challenge is None:
            return ""
        login = self._login(registry)
        if challenge.scheme == "basic":
            if login is None:
                return ""
            raw = f"{login.username}:{login.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        key = (challenge.realm, challenge.service, scope, login.username if login else "")
        with self.tokens.lock(key):
            token = "" if fresh else self.tokens.get(key)
            if not token:
                token, expires_in = self._fetch_token(registry, challenge, scope, login)
                self.tokens.put(key, token, expires_in)
        return f"Bearer {token}"

    def _fetch_token(self, registry: str, challenge: Challenge, scope: str,
                     login: Login | None) -> tuple[str, float]:
        """A token from the realm: GET with Basic (or anonymous), or the OAuth refresh-token
        POST for an identity token."""
        endpoint = self._endpoint(registry)
        if login is not None and not _may_receive_credentials(challenge.realm, endpoint.base):
            raise RegistryError(
                f"The registry {registry} asks for its credentials at {challenge.realm}, which is "
                "neither HTTPS nor the registry itself: dockops does not send them there.",
                detail="Check the registry's token service (`auth.token.realm`) is an https URL.")
        self.token_requests += 1
        params = {"service": challenge.service, "scope": scope} if challenge.service else {
            "scope": scope}
        tls = endpoint.tls
        try:
            if login is not None and login.identity_token:
                answer = self.session.post(challenge.realm, timeout=self.timeout, verify=tls.verify,
                                           data={**params, "grant_type": "refresh_token",
                                                 "refresh_token": login.password,
                                                 "client_id": "dockops"}, stream=True)
            else:
                answer = self.session.get(challenge.realm, params=params, timeout=self.timeout,
                                          verify=tls.verify, stream=True,
                                          auth=(login.username, login.password) if login else None)
        except requests.RequestException as exc:
            raise RegistryUnreachable(f"The token service of {registry} ({challenge.realm}) could "
                                      f"not be reached: {_reason(exc)}.") from None
        if answer.status_code >= 400:
            answer.close()
        if answer.status_code in (401, 403):
            raise RegistryError(f"The token service of {registry} refused the credentials "
                                f"(HTTP {answer.status_code}).",
                                detail=_login_hint(registry))
        if answer.status_code >= 400:
            raise RegistryError(f"The token service of {registry} answered HTTP "
                                f"{answer.status_code}.")
        body = _json(answer, "the token")
        token = body.get("token") or body.get("access_token") or ""
        if not token:
            raise RegistryError(f"The token service of {registry} answered without a token.")
        try:
            expires_in = float(body.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0.0
        return str(token), expires_in

    def _login(self, registry: str) -> Login | None:
        with self._guard:
            cached = self._logins.get(registry)
        if cached is not None and time.monotonic() - cached[0] < CREDENTIALS_SECONDS:
            return cached[1]
        login = self._credentials(registry)
        with self._guard:
            self._logins[registry] = (time.monotonic(), login)
        return login

    def _endpoint(self, registry: str) -> _Endpoint:
        """The registry's base URL and challenge, learnt from one `GET /v2/` per registry."""
        found = self._endpoints.get(registry)
        if found is not None:
            return found
        with self._guard:
            lock = self._endpoint_locks.setdefault(registry, threading.Lock())
        with lock:
            found = self._endpoints.get(registry)
            if found is not None:
                return found
            failed = self._unreachable.get(registry)
            if failed is not None and failed[0] > time.monotonic():
                raise failed[1]  # one timeout per registry, not one per image
            try:
                found = self._discover(registry)
            except RegistryUnreachable as exc:
                self._unreachable[registry] = (time.monotonic() + UNREACHABLE_SECONDS, exc)
                raise
            self._endpoints[registry] = found
            return found

    def _discover(self, registry: str) -> _Endpoint:
        host = api_host(registry)
        tls = tls_for(registry, self.certs_dir)
        tries = [_Endpoint(f"https://{host}", tls, None)]
        if self.insecure.allows_http(registry):
            # As the engine: HTTPS without verification first, then plain HTTP.
            tries = [_Endpoint(f"https://{host}", TLS(False, tls.cert), None),
                     _Endpoint(f"http://{host}", TLS(), None)]
        failure: RegistryUnreachable | None = None
        for endpoint in tries:
            try:
                answer = self._send("GET", endpoint, "/v2/", {}, "")
            except RegistryUnreachable as exc:
                failure = exc
                continue
            answer.close()
            if answer.status_code == 401:
                endpoint.challenge = parse_challenge(answer.headers.get("WWW-Authenticate", ""))
            elif answer.status_code >= 400 and answer.status_code != 404:
                raise RegistryError(f"{registry} answered HTTP {answer.status_code} to /v2/.",
                                    detail="Is it a Docker registry (API v2)?")
            return endpoint
        assert failure is not None
        raise failure


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        raw = response.raw.read(MAX_JSON_BYTES + 1, decode_content=True)
    except (OSError, requests.RequestException):
        raise RegistryUnreachable(f"The registry broke off while sending {what}.") from None
    finally:
        response.close()
    if len(raw) > MAX_JSON_BYTES:
        raise RegistryError(f"The registry sent {what} larger than "
                            f"{MAX_JSON_BYTES // (1024 * 1024)} MiB; dockops does not read it.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise RegistryError(f"The registry sent {what} as something other than JSON.") from None
    if not isinstance(body, dict):
        raise RegistryError(f"The registry sent {what} in an unexpected shape.")
    return body


def _next_link(header: str) -> str | None:
    """The path of `Link: </v2/app/tags/list?last=x&n=100>; rel="next"`: only a /v2/ path on
    the same registry (a link elsewhere would carry our credentials there)."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            link = urlsplit(target.strip().strip("<>"))
            if link.scheme or link.netloc or not link.path.startswith("/v2/"):
                return None
            return link.path + (f"?{link.query}" if link.query else "")
    return None


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return "its TLS certificate was not accepted (put its CA in /etc/docker/certs.d/HOST/ca.crt)"
    if isinstance(exc, requests.exceptions.Timeout):
        return "it did not answer in time"
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "no such host"
    return type(exc).__name__


def _may_receive_credentials(realm: str, base: str) -> bool:
    """A token realm may see the password over HTTPS, or in the clear only where the registry
    itself is asked in the clear (an insecure registry) on the same host."""
    where, registry = urlsplit(realm), urlsplit(base)
    if where.scheme == "https":
        return True
    return (where.scheme == "http" and registry.scheme == "http"
            and where.hostname == registry.hostname)


def _login_hint(registry: str) -> str:
    return (f"Check the credentials for {registry}: [registries.\"{registry}\"] in the dockops "
            "config, or `docker login` on the bot's host.")


def _status_error(response: requests.Response, registry: str, repository: str, path: str,
                  login: Login | None) -> RegistryError:
    status = response.status_code
    what = f"{registry}/{repository}"
    if status in (401, 403):
        who = "the configured credentials" if login else "anonymous access"
        return RegistryError(f"{registry} refused {who} for {repository} (HTTP {status}, "
                             "unauthorized).", detail=_login_hint(registry))
    if status == 404:
        thing = "tag" if "/manifests/" in path else "repository"
        return RegistryError(f"{what} has no such {thing} (HTTP 404).",
                             detail="Check the image name and tag in the job's images.")
    return RegistryError(f"{registry} answered HTTP {status} for {repository}.")

