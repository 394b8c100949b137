"""A tiny token service for the distribution registry's `auth: token`: it answers
`GET /token?service=...&scope=...` with a JWT (RS256) signed by a key whose self-signed
certificate the registry trusts (`auth.token.rootcertbundle`), and counts what it was asked.

Users (Basic auth to the issuer) get the actions they ask for; anonymous callers get `pull`
only when `anonymous_pull` is set, else 401.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "dockops-test-issuer"
SERVICE = "dockops-test-registry"
TOKEN_SECONDS = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class TokenRequest:
    """One request the issuer answered."""

    scope: str
    user: str  # "" for anonymous
    status: int


class TokenIssuer:
    """The token service on 127.0.0.1 (a thread); `.realm`, `.cert_path`, `.requests`."""

    def __init__(self, root: Path, users: dict[str, str] | None = None, *,
                 anonymous_pull: bool = True) -> None:
        self.users = dict(users or {})
        self.anonymous_pull = anonymous_pull
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.now(UTC)
        self._cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                      .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                      .not_valid_before(now - timedelta(minutes=5))
                      .not_valid_after(now + timedelta(days=2))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                      .add_extension(x509.KeyUsage(True, False, False, False, False, True, False,
                                                   False, False), True)
                      .sign(self._key, hashes.SHA256()))
        self.cert_path = root / "token.crt"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="token-issuer")
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, since: int = 0) -> int:
        return len(self.requests) - since

    def token(self, user: str, scopes: list[str]) -> str:
        """A JWT granting each `repository:NAME:ACTIONS` scope."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        der = self._cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + TOKEN_SECONDS,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def _answer(self, query: dict[str, list[str]], authorization: str) -> tuple[int, dict]:
        user = ""
        if authorization.lower().startswith("basic "):
            raw = base64.b64decode(authorization.split(" ", 1)[1]).decode()
            name, _, password = raw.partition(":")
            if self.users.get(name) != password:
                return 401, {"details": "wrong username or password"}
            user = name
        scopes = query.get("scope", [])
        if not user:
            if not self.anonymous_pull:
                return 401, {"details": "authentication required"}
            scopes = [scope.rsplit(":", 1)[0] + ":pull" for scope in scopes
                      if "pull" in scope.rsplit(":", 1)[-1]]
        return 200, {"token": self.token(user, scopes), "expires_in": TOKEN_SECONDS,
                     "issued_at": datetime.now(UTC).isoformat()}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                status, body = issuer._answer(query, self.headers.get("Authorization", ""))
                user = ""
                auth = self.headers.get("Authorization", "")
                if auth.lower().startswith("basic "):
                    user = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")[0]
                with issuer._lock:
                    issuer.requests.append(TokenRequest(",".join(query.get("scope", [])), user,
                                                        status))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
