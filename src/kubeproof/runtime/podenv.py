"""What a container sees: its environment (env, envFrom, downward API) and its volumes as files.

Volumes live under a per-pod directory: ``<pod dir>/volumes/<volume name>/``. A process has no mount
namespace, so each container gets its own *mount root* (``KUBEPROOF_MOUNT_ROOT``): for a volumeMount at
``/etc/config`` the path ``$KUBEPROOF_MOUNT_ROOT/etc/config`` is a symlink to the volume's directory (or,
with ``subPath``, to the file or directory inside it). ``KUBEPROOF_VOLUME_<NAME>`` (the volume name upper-cased,
``-``/``.`` as ``_``) is the volume's directory itself.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
#: ``lookup(kind, namespace, name)`` -> the ConfigMap/Secret, or None when it does not exist.
Lookup = Callable[[str, str, str], Obj | None]


class ConfigError(Exception):
    """The container cannot be created yet (kubelet: waiting, reason CreateContainerConfigError)."""


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined variables are replaced, ``$$`` escapes, others stay."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c == "$" and i + 1 < n:
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2:end]
                    out.append(env[name] if name in env else value[i:end + 1])
                    i = end + 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


_FIELD_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(pod: Obj, pod_ip: str, path: str) -> str:
    """A downward-API ``fieldRef.fieldPath`` of the pod."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": "127.0.0.1",
        "status.hostIPs": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path])
    m = _FIELD_SUBSCRIPT.match(path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    return ""


def _source_data(kind: str, obj: Obj) -> dict[str, bytes]:
    """A ConfigMap's data + binaryData, or a Secret's decoded data (stringData is folded in on write)."""
    if kind == "Secret":
        return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return data


def _not_found(kind: str, name: str) -> ConfigError:
    return ConfigError(f'{"configmap" if kind == "ConfigMap" else "secret"} "{name}" not found')


def container_env(pod: Obj, container: Obj, pod_ip: str, lookup: Lookup) -> dict[str, str]:
    """The container's declared environment, as the kubelet builds it (envFrom first, env overrides)."""
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(field)
            if ref is None:
                continue
            obj = lookup(kind, namespace, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise _not_found(kind, ref.get("name", ""))
            for key, raw in _source_data(kind, obj).items():
                env[prefix + key] = raw.decode(errors="replace")
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "valueFrom" not in item:
            env[name] = expand(str(item.get("value", "")), env)
            continue
        source = item["valueFrom"] or {}
        if "fieldRef" in source:
            env[name] = field_value(pod, pod_ip, source["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in source:
            env[name] = _resource_value(container, source["resourceFieldRef"])
        else:
            for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                ref = source.get(field)
                if ref is None:
                    continue
                obj = lookup(kind, namespace, ref.get("name", ""))
                data = _source_data(kind, obj) if obj is not None else None
                if data is None or ref.get("key", "") not in data:
                    if ref.get("optional"):
                        break
                    if data is None:
                        raise _not_found(kind, ref.get("name", ""))
                    raise ConfigError(f"couldn't find key {ref.get('key', '')} in {kind} "
                                      f"{namespace}/{ref.get('name', '')}")
                env[name] = data[ref["key"]].decode(errors="replace")
                break
    return env


def _resource_value(container: Obj, ref: Obj) -> str:
    """``resourceFieldRef``: the declared limit/request as written (no node allocatable to fall back on)."""
    resource = ref.get("resource", "")
    section, _, res = resource.partition(".")
    value = ((container.get("resources") or {}).get(section) or {}).get(res)
    return str(value) if value is not None else "0"


def env_name(volume: str) -> str:
    return "KUBEPROOF_VOLUME_" + re.sub(r"[^A-Za-z0-9]", "_", volume).upper()


def _write_files(target: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Make ``target`` hold exactly ``files`` (relative path -> content, mode), each replaced atomically."""
    target.mkdir(parents=True, exist_ok=True)
    for rel, (content, mode) in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.read_bytes() == content:
                continue
        except OSError:
            pass
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    wanted = {target / rel for rel in files}
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _keyed_files(kind: str, obj: Obj | None, source: Obj, name: str) -> dict[str, tuple[bytes, int]]:
    default_mode = int(source.get("defaultMode", 0o644))
    if obj is None:
        if source.get("optional"):
            return {}
        raise _not_found(kind, name)
    data = _source_data(kind, obj)
    items = source.get("items")
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    files: dict[str, tuple[bytes, int]] = {}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if source.get("optional"):
                continue
            raise ConfigError(f"{kind.lower()} references non-existent config key: {key}")
        files[item.get("path", key)] = (data[key], int(item.get("mode", default_mode)))
    return files


def _downward_files(pod: Obj, pod_ip: str, source: Obj) -> dict[str, tuple[bytes, int]]:
    mode = int(source.get("defaultMode", 0o644))
    files: dict[str, tuple[bytes, int]] = {}
    for item in source.get("items") or []:
        value = field_value(pod, pod_ip, item["fieldRef"].get("fieldPath", "")) if "fieldRef" in item else ""
        files[item.get("path", "")] = (value.encode(), int(item.get("mode", mode)))
    return files


def volume_files(pod: Obj, pod_ip: str, volume: Obj, lookup: Lookup) -> dict[str, tuple[bytes, int]] | None:
    """The files of a ConfigMap/Secret/downwardAPI/projected volume; None for directory-backed volumes."""
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    if "configMap" in volume:
        src = volume["configMap"]
        return _keyed_files("ConfigMap", lookup("ConfigMap", namespace, src.get("name", "")), src, src.get("name", ""))
    if "secret" in volume:
        src = volume["secret"]
        name = src.get("secretName", "")
        return _keyed_files("Secret", lookup("Secret", namespace, name), src, name)
    if "downwardAPI" in volume:
        return _downward_files(pod, pod_ip, volume["downwardAPI"])
    if "projected" in volume:
        files: dict[str, tuple[bytes, int]] = {}
        for source in volume["projected"].get("sources") or []:
            if "configMap" in source:
                src = source["configMap"]
                files.update(_keyed_files("ConfigMap", lookup("ConfigMap", namespace, src.get("name", "")), src,
                                          src.get("name", "")))
            elif "secret" in source:
                src = source["secret"]
                files.update(_keyed_files("Secret", lookup("Secret", namespace, src.get("name", "")), src,
                                          src.get("name", "")))
            elif "downwardAPI" in source:
                files.update(_downward_files(pod, pod_ip, source["downwardAPI"]))
        return files
    return None


def references(pod: Obj, kind: str, name: str) -> bool:
    """Whether a volume of the pod projects the ConfigMap/Secret ``name`` (so a change must be re-synced)."""
    field, key = ("configMap", "name") if kind == "ConfigMap" else ("secret", "secretName")
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if (volume.get(field) or {}).get(key) == name:
            return True
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get(field) or {}).get("name") == name:
                return True
    return False


def materialise_volumes(pod: Obj, pod_ip: str, pod_dir: Path, shared_dir: Path, lookup: Lookup) -> dict[str, Path]:
    """Create (or refresh) every volume of the pod; returns volume name -> its host directory."""
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    paths: dict[str, Path] = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = volume.get("name", "")
        target = pod_dir / "volumes" / name
        files = volume_files(pod, pod_ip, volume, lookup)
        if files is not None:
            _write_files(target, files)
        elif "hostPath" in volume:
            # The host path is the real path: the process and the test see the same files.
            host = Path(volume["hostPath"].get("path", "/"))
            if volume["hostPath"].get("type") in ("DirectoryOrCreate",):
                host.mkdir(parents=True, exist_ok=True)
            target = host
        elif "persistentVolumeClaim" in volume:
            # A claim outlives the pod: its directory is per namespace and claim, shared by its pods.
            target = shared_dir / "claims" / namespace / volume["persistentVolumeClaim"].get("claimName", "")
            target.mkdir(parents=True, exist_ok=True)
        else:  # emptyDir and anything else: an empty directory that lives as long as the pod
            target.mkdir(parents=True, exist_ok=True)
        paths[name] = target
    return paths


def mount_root(container: Obj, root: Path, volumes: dict[str, Path]) -> None:
    """Lay out ``root`` so ``root/<mountPath>`` leads to each mounted volume (symlinks)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name", ""))
        if volume is None:
            continue
        source = volume / mount["subPath"] if mount.get("subPath") else volume
        if mount.get("subPath") and not source.exists():
            source.mkdir(parents=True, exist_ok=True)
        link = root / str(mount.get("mountPath", "")).lstrip("/")
        if link == root:
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            link.symlink_to(source)


def registry_lookup(registry: Any) -> Lookup:
    """A ``Lookup`` reading ConfigMaps and Secrets straight from a ``Registry`` (thread-safe: it locks)."""
    from kubeproof.server.errors import StatusError

    resources = {"ConfigMap": registry.resource("configmaps"), "Secret": registry.resource("secrets")}

    def lookup(kind: str, namespace: str, name: str) -> Obj | None:
        try:
            found: Obj = registry.get(resources[kind], namespace, name)
            return found
        except StatusError:
            return None

    return lookup
