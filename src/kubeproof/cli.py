"""The ``kubeproof`` command line: thin wrappers over the packages below it."""

from __future__ import annotations

import gc
import signal
import sys
import threading
from pathlib import Path

import click

from kubeproof import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kubeproof")
def main() -> None:
    """kubeproof: an embedded Kubernetes API server and a toolkit for Kubernetes tests that do not flake."""


def _tune_gc_for_serving() -> None:
    """Collector settings for a process that only serves. The store holds long-lived JSON maps, and under
    a stream of writes CPython's default thresholds ran a full collection over the growing store about
    every second: in 7 s of creates, collections took 9% of the time, the 6 full ones up to 116 ms each
    (which set the p99 latency). Start-up's objects (modules, schemas) are frozen out of the collector,
    and the young generation is collected every 10,000 net container allocations instead of 700; cycles
    are still collected, less often. In-process clusters leave their host process's collector alone."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the kubeconfig (default: a temporary file, removed on exit).")
@click.option("--http", "plain_http", is_flag=True,
              help="Serve plain HTTP instead of HTTPS; requests without a token are then admitted as "
              "system:anonymous with cluster-admin rights (local use only).")
@click.option("--token", default=None,
              help="The admin bearer token written into the kubeconfig (default: a random one).")
@click.option("--image", "images", multiple=True, metavar="IMAGE=COMMAND",
              help="Run pods using IMAGE as real local processes started with COMMAND (its entrypoint; the "
                   "container's args are appended). IMAGE may be a glob. Repeatable. Example: "
                   "--image fake-worker:1='python -m myapp.fake_worker'.")
def serve(port: int, host: str, kubeconfig: Path | None, plain_http: bool, token: str | None,
          images: tuple[str, ...]) -> None:
    """Run an embedded Kubernetes API server until Ctrl-C."""
    from kubeproof.cluster import Cluster, ClusterError
    from kubeproof.runtime.images import parse_mapping

    try:
        mapping = dict(parse_mapping(spec) for spec in images)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--image") from None
    try:
        cluster = Cluster(host=host, port=port, tls=not plain_http, token=token, kubeconfig=kubeconfig,
                          images=mapping).start()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    if plain_http:
        # kubectl (client-go) never sends credentials over plain HTTP, so requests without any are let
        # in; a wrong token is still refused. RBAC still applies, so system:anonymous is bound to
        # cluster-admin, as one would on a real cluster (docs/auth.md).
        cluster.api.allow_anonymous = True
        from kubeproof.server.auth.bootstrap import bind_anonymous_admin

        bind_anonymous_admin(cluster.registry)
    _tune_gc_for_serving()
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo(f"kubeproof API server listening on {cluster.url}")
    click.echo(f"kubeconfig: {cluster.kubeconfig}")
    click.echo(f"try:        KUBECONFIG={cluster.kubeconfig} kubectl get namespaces")
    click.echo("Ctrl-C to stop.")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        cluster.stop()
        if kubeconfig is not None and kubeconfig.exists():
            kubeconfig.unlink()
        click.echo("stopped.")


@main.command()
def demo() -> None:
    """Start an embedded cluster and drive it with kubectl and the Python client, narrating each step."""
    from kubeproof.demo import run_demo

    sys.exit(run_demo())


if __name__ == "__main__":
    main()
