"""Controllers that make the embedded server behave like a cluster: small reconcile loops over watches.

Each controller is a client of the registry (the same path HTTP requests take) and can be switched off
so that a user's own controller takes its place.
"""

from kubeproof.controllers.base import Controller, ControllerManager
from kubeproof.controllers.namespace import NamespaceController

#: Controllers a Cluster runs by default, by name.
DEFAULT_CONTROLLERS: dict[str, type[Controller]] = {
    NamespaceController.name: NamespaceController,
}

__all__ = ["DEFAULT_CONTROLLERS", "Controller", "ControllerManager", "NamespaceController"]
