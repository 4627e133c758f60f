"""Helpers for the auth tests: clients and kubeconfigs that carry a given bearer token."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import yaml

from kubeproof import Cluster


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token_client(cluster: Cluster, token: str) -> Any:
    """An official-client ``ApiClient`` that authenticates with ``token`` (not the admin token)."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = cluster.url
    ca = cluster.workdir / "auth-ca.crt"
    ca.write_bytes(cluster.ca_pem)
    configuration.ssl_ca_cert = str(ca)
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(configuration)


def token_kubeconfig(cluster: Cluster, token: str | None, name: str) -> Path:
    """A kubeconfig for the cluster with ``token`` as its user (no credentials when None)."""
    user: dict[str, Any] = {"token": token} if token else {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": cluster.url, "certificate-authority-data":
                                               base64.b64encode(cluster.ca_pem).decode()}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        "current-context": "c",
    }
    path = cluster.workdir / f"kubeconfig-{name}"
    path.write_text(yaml.safe_dump(config))
    return path


