"""kubeproof: an embedded Kubernetes API server and a pytest toolkit for tests that do not flake."""

from kubeproof.cluster import Cluster, ClusterError

__version__ = "0.1.0"

__all__ = ["Cluster", "ClusterError", "__version__"]
