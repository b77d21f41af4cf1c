"""DIR/kubeconfig: one cluster, user and context per pool (context name = pool id).

Written as JSON, which is valid YAML, so the simulator needs no YAML library.
"""
import json
import os
from typing import Dict, Optional


def kubeconfig(server_base_url: str, ca_path: str, contexts: Dict[str, str],
               current: Optional[str] = None) -> dict:
    base = server_base_url.rstrip("/")
    names = sorted(contexts)
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": pool_id, "cluster": {"server": f"{base}/k8s/{pool_id}", "certificate-authority": ca_path}}
                     for pool_id in names],
        "users": [{"name": pool_id, "user": {"token": contexts[pool_id]}} for pool_id in names],
        "contexts": [{"name": pool_id, "context": {"cluster": pool_id, "user": pool_id}} for pool_id in names],
        "current-context": current or (names[0] if names else ""),
    }


def write_kubeconfig(path: str, server_base_url: str, ca_path: str, contexts: Dict[str, str],
                     current: Optional[str] = None) -> None:
    """Write atomically with mode 0600 (it holds bearer tokens)."""
    document = json.dumps(kubeconfig(server_base_url, ca_path, contexts, current), indent=2)
    temporary = f"{path}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(document)
    os.replace(temporary, path)
