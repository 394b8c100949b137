"""Push small synthetic images straight into a test registry over HTTP (no engine): a config
blob, one layer blob and a Docker v2 manifest, optionally an OCI index of several platforms.
Fast, and the config's labels, created date and platform are the test's to choose."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import requests

from tests.registry_rig import RegistryRig

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _headers(rig: RegistryRig, repository: str) -> dict[str, str]:
    if rig.token is not None:  # minted here: the issuer's request count stays the client's
        token = rig.token.token(rig.username or "", [f"repository:{repository}:pull,push"])
        return {"Authorization": f"Bearer {token}"}
    if rig.username and rig.password:
        raw = f"{rig.username}:{rig.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    return {}


def _blob(session: requests.Session, rig: RegistryRig, repository: str, data: bytes) -> str:
    digest = _digest(data)
    started = session.post(f"{rig.url}/v2/{repository}/blobs/uploads/", timeout=10)
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    location = location if location.startswith("http") else rig.url + location
    done = session.put(location, params={"digest": digest}, data=data, timeout=10,
                       headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text
    return digest


def _manifest(session: requests.Session, rig: RegistryRig, repository: str, reference: str,
              body: dict, media_type: str) -> str:
    data = json.dumps(body).encode()
    answer = session.put(f"{rig.url}/v2/{repository}/manifests/{reference}", data=data,
                         headers={"Content-Type": media_type}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.headers["Docker-Content-Digest"]


def push_image(rig: RegistryRig, repository: str, tag: str, *,
               labels: dict[str, str] | None = None, created: str = "2026-11-01T10:00:00Z",
               platforms: tuple[tuple[str, str], ...] = (("linux", "amd64"),),
               layer_size: int = 1000) -> str:
    """Push REPOSITORY:TAG (unique content each call); its manifest digest (the index's when
    more than one platform)."""
    with requests.Session() as session:
        session.headers.update(_headers(rig, repository))
        entries = []
        for os_name, arch in platforms:
            layer = secrets.token_bytes(layer_size)
            config = json.dumps({"architecture": arch, "os": os_name, "created": created,
                                 "config": {"Labels": labels or {}},
                                 "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]}}
                                ).encode()
            manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                   "size": len(config),
                                   "digest": _blob(session, rig, repository, config)},
                        "layers": [{"mediaType":
                                    "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                    "size": len(layer),
                                    "digest": _blob(session, rig, repository, layer)}]}
            reference = tag if len(platforms) == 1 else _digest(json.dumps(manifest).encode())
            digest = _manifest(session, rig, repository, reference, manifest, DOCKER_MANIFEST)
            entries.append({"mediaType": DOCKER_MANIFEST, "digest": digest,
                            "size": len(json.dumps(manifest).encode()),
                            "platform": {"os": os_name, "architecture": arch}})
        if len(platforms) == 1:
            return entries[0]["digest"]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        return _manifest(session, rig, repository, tag, index, OCI_INDEX)
