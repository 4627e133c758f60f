"""kubeproof: an embedded Kubernetes API server and a pytest toolkit for tests that do not flake."""

__version__ = "0.1.0"
