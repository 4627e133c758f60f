"""Controllers that make the embedded server behave like a cluster: small reconcile loops over watches.

Each controller is a client of the registry (the same path HTTP requests take) and can be switched off
so that a user's own controller takes its place.
"""

from kubeproof.controllers.base import Controller, ControllerManager
from kubeproof.controllers.clusterroleaggregation import ClusterRoleAggregationController
from kubeproof.controllers.crd import CRDController
from kubeproof.controllers.cronjob import CronJobController
from kubeproof.controllers.daemonset import DaemonSetController
from kubeproof.controllers.deployment import DeploymentController
from kubeproof.controllers.endpoints import EndpointsController
from kubeproof.controllers.endpointslice import EndpointSliceController
from kubeproof.controllers.gc import GarbageCollector
from kubeproof.controllers.job import JobController
from kubeproof.controllers.kubelet import KubeletController
from kubeproof.controllers.namespace import NamespaceController
from kubeproof.controllers.nodes import NodeStatusController
from kubeproof.controllers.replicaset import ReplicaSetController
from kubeproof.controllers.scheduler import SchedulerController
from kubeproof.controllers.serviceaccount import ServiceAccountController
from kubeproof.controllers.serviceaccounttoken import ServiceAccountTokenController
from kubeproof.controllers.statefulset import StatefulSetController

#: Controllers a Cluster runs by default, by name.
DEFAULT_CONTROLLERS: dict[str, type[Controller]] = {
    NamespaceController.name: NamespaceController,
    SchedulerController.name: SchedulerController,
    KubeletController.name: KubeletController,
    NodeStatusController.name: NodeStatusController,
    ClusterRoleAggregationController.name: ClusterRoleAggregationController,
    ServiceAccountTokenController.name: ServiceAccountTokenController,
    EndpointsController.name: EndpointsController,
    EndpointSliceController.name: EndpointSliceController,
    ServiceAccountController.name: ServiceAccountController,
    CRDController.name: CRDController,
    GarbageCollector.name: GarbageCollector,
    ReplicaSetController.name: ReplicaSetController,
    DeploymentController.name: DeploymentController,
    JobController.name: JobController,
    CronJobController.name: CronJobController,
    StatefulSetController.name: StatefulSetController,
    DaemonSetController.name: DaemonSetController,
}

__all__ = ["DEFAULT_CONTROLLERS", "Controller", "ControllerManager", "NamespaceController"]
