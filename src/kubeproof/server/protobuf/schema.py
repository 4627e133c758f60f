"""The protobuf schema of the built-in kinds that typed client-go clients send, as data.

Transcribed by hand from the ``generated.proto`` files (go-to-protobuf output) of Kubernetes, read with the
search tool's ``read_file`` (repository, path, commit):

* core/v1: kubernetes/kubernetes ``staging/src/k8s.io/api/core/v1/generated.proto``
  @ 0032f46b5dcb893b0684679408a2da9bd26a0859 (1.35+ development line)
* apps/v1: kubernetes/kubernetes ``staging/src/k8s.io/api/apps/v1/generated.proto``
  @ 0122c43a017029d0572474da5a6382e1463f9710
* rbac/v1: kubernetes/kubernetes ``staging/src/k8s.io/api/rbac/v1/generated.proto``
  @ 081ac6b5a9004b7c6cfe6a8b8f83e60eca58a010
* authorization/v1: kubernetes/kubernetes ``staging/src/k8s.io/api/authorization/v1/generated.proto``
  @ 061200305a7b1c9aac1f8a9756879ea11c913b88
* authentication/v1, policy/v1, batch/v1, networking/v1, scheduling/v1 and apimachinery meta/v1: the vendored
  copies (k8s.io/api, k8s.io/apimachinery v0.32 or later) in kubeadapt/kubeadapt-k8s-pulse ``vendor/k8s.io/...``
  @ 2d3917ec4aff355100569f652478025504b4c297
* ``runtime.Unknown``/``RawExtension``, ``intstr.IntOrString``, ``resource.Quantity`` and the ``metav1`` time and
  duration types (tiny, stable for years) are decoded by hand in ``decoder.py``.

Syntax, one message per entry (continuation lines are indented), fields separated by ``;``::

    Message: <number> <jsonName> <type>; ...

``<type>`` is a scalar (``string bytes bool int32 int64 double float``), a message (unqualified = same package,
else ``pkg.Name``), ``[]T`` (repeated), ``map[string]V`` or ``inline T`` (an embedded Go struct whose fields the
JSON form flattens into the parent, e.g. ``LocalObjectReference`` in ``ConfigMapKeySelector``). Field names are the
JSON names, which differ from the proto names in a few places (``BoundObjectReference.uid`` is named ``uID`` in the
.proto, ``IngressClassParametersReference.apiGroup`` is ``aPIGroup``).

Presence, which the ``.proto`` cannot say and the Go types do (gogo-protobuf writes every non-pointer field, zero or
not, and skips nil pointers): a bare scalar is a Go value field with ``omitempty``, emitted only when non-zero; ``*T``
is a Go pointer, emitted whenever it is on the wire (``replicas: 0``, ``immutable: false``); ``!T`` is a Go value
field without ``omitempty``, always emitted. Message fields are emitted whenever they are on the wire, which is how
gogo-protobuf and encoding/json agree for both value structs (``"strategy": {}``, ``"resources": {}``) and nil
pointers (absent). A zero ``metav1.Time`` (an empty message) is omitted, as ``omitzero`` does for
``creationTimestamp`` since Kubernetes 1.35.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"})

# Messages with a custom JSON form (see decoder.py); they need no entry below.
SPECIAL = frozenset({
    "meta.Time", "meta.MicroTime", "meta.Duration", "meta.FieldsV1", "runtime.RawExtension", "resource.Quantity",
    "intstr.IntOrString", "authz.ExtraValue", "authn.ExtraValue",
})

SCHEMA_TEXT = """\
@meta
Condition: 1 type string; 2 status string; 3 observedGeneration int64; 4 lastTransitionTime Time;
    5 reason string; 6 message string
DeleteOptions: 1 gracePeriodSeconds *int64; 2 preconditions Preconditions; 3 orphanDependents *bool;
    4 propagationPolicy *string; 5 dryRun []string; 6 ignoreStoreReadErrorWithClusterBreakingPotential *bool
FieldSelectorRequirement: 1 key string; 2 operator string; 3 values []string
LabelSelector: 1 matchLabels map[string]string; 2 matchExpressions []LabelSelectorRequirement
LabelSelectorRequirement: 1 key string; 2 operator string; 3 values []string
ListMeta: 1 selfLink string; 2 resourceVersion string; 3 continue string; 4 remainingItemCount *int64
ManagedFieldsEntry: 1 manager string; 2 operation string; 3 apiVersion string; 4 time Time; 6 fieldsType string;
    7 fieldsV1 FieldsV1; 8 subresource string
ObjectMeta: 1 name string; 2 generateName string; 3 namespace string; 4 selfLink string; 5 uid string;
    6 resourceVersion string; 7 generation int64; 8 creationTimestamp Time; 9 deletionTimestamp Time;
    10 deletionGracePeriodSeconds *int64; 11 labels map[string]string; 12 annotations map[string]string;
    13 ownerReferences []OwnerReference; 14 finalizers []string; 17 managedFields []ManagedFieldsEntry
OwnerReference: 5 apiVersion string; 1 kind string; 3 name string; 4 uid string; 6 controller *bool;
    7 blockOwnerDeletion *bool
Preconditions: 1 uid *string; 2 resourceVersion *string
@core
AWSElasticBlockStoreVolumeSource: 1 volumeID string; 2 fsType string; 3 partition int32; 4 readOnly bool
Affinity: 1 nodeAffinity NodeAffinity; 2 podAffinity PodAffinity; 3 podAntiAffinity PodAntiAffinity
AppArmorProfile: 1 type string; 2 localhostProfile *string
AzureDiskVolumeSource: 1 diskName string; 2 diskURI string; 3 cachingMode *string; 4 fsType *string;
    5 readOnly *bool; 6 kind *string
AzureFileVolumeSource: 1 secretName string; 2 shareName string; 3 readOnly bool
Binding: 1 metadata meta.ObjectMeta; 2 target ObjectReference
CSIVolumeSource: 1 driver string; 2 readOnly *bool; 3 fsType *string; 4 volumeAttributes map[string]string;
    5 nodePublishSecretRef LocalObjectReference
Capabilities: 1 add []string; 2 drop []string
CephFSVolumeSource: 1 monitors []string; 2 path string; 3 user string; 4 secretFile string;
    5 secretRef LocalObjectReference; 6 readOnly bool
CinderVolumeSource: 1 volumeID string; 2 fsType string; 3 readOnly bool; 4 secretRef LocalObjectReference
ClientIPConfig: 1 timeoutSeconds *int32
ClusterTrustBundleProjection: 1 name *string; 2 signerName *string; 3 labelSelector meta.LabelSelector;
    5 optional *bool; 4 path string
ConfigMap: 1 metadata meta.ObjectMeta; 4 immutable *bool; 2 data map[string]string;
    3 binaryData map[string]bytes
ConfigMapEnvSource: 1 localObjectReference inline LocalObjectReference; 2 optional *bool
ConfigMapKeySelector: 1 localObjectReference inline LocalObjectReference; 2 key string; 3 optional *bool
ConfigMapProjection: 1 localObjectReference inline LocalObjectReference; 2 items []KeyToPath; 4 optional *bool
ConfigMapVolumeSource: 1 localObjectReference inline LocalObjectReference; 2 items []KeyToPath;
    3 defaultMode *int32; 4 optional *bool
Container: 1 name string; 2 image string; 3 command []string; 4 args []string; 5 workingDir string;
    6 ports []ContainerPort; 19 envFrom []EnvFromSource; 7 env []EnvVar; 8 resources ResourceRequirements;
    23 resizePolicy []ContainerResizePolicy; 24 restartPolicy *string;
    25 restartPolicyRules []ContainerRestartRule; 9 volumeMounts []VolumeMount; 21 volumeDevices []VolumeDevice;
    10 livenessProbe Probe; 11 readinessProbe Probe; 22 startupProbe Probe; 12 lifecycle Lifecycle;
    13 terminationMessagePath string; 20 terminationMessagePolicy string; 14 imagePullPolicy string;
    15 securityContext SecurityContext; 16 stdin bool; 17 stdinOnce bool; 18 tty bool
ContainerExtendedResourceRequest: 1 containerName string; 2 resourceName string; 3 requestName string
ContainerPort: 1 name string; 2 hostPort int32; 3 containerPort !int32; 4 protocol string; 5 hostIP string
ContainerResizePolicy: 1 resourceName string; 2 restartPolicy string
ContainerRestartRule: 1 action string; 2 exitCodes ContainerRestartRuleOnExitCodes
ContainerRestartRuleOnExitCodes: 1 operator string; 2 values []int32
ContainerState: 1 waiting ContainerStateWaiting; 2 running ContainerStateRunning;
    3 terminated ContainerStateTerminated
ContainerStateRunning: 1 startedAt meta.Time
ContainerStateTerminated: 1 exitCode int32; 2 signal int32; 3 reason string; 4 message string;
    5 startedAt meta.Time; 6 finishedAt meta.Time; 7 containerID string
ContainerStateWaiting: 1 reason string; 2 message string
ContainerStatus: 1 name string; 2 state ContainerState; 3 lastState ContainerState; 4 ready bool;
    5 restartCount int32; 6 image string; 7 imageID string; 8 containerID string; 9 started *bool;
    10 allocatedResources map[string]resource.Quantity; 11 resources ResourceRequirements;
    12 volumeMounts []VolumeMountStatus; 13 user ContainerUser; 14 allocatedResourcesStatus []ResourceStatus;
    15 stopSignal *string
ContainerUser: 1 linux LinuxContainerUser
DownwardAPIProjection: 1 items []DownwardAPIVolumeFile
DownwardAPIVolumeFile: 1 path string; 2 fieldRef ObjectFieldSelector; 3 resourceFieldRef ResourceFieldSelector;
    4 mode *int32
DownwardAPIVolumeSource: 1 items []DownwardAPIVolumeFile; 2 defaultMode *int32
EmptyDirVolumeSource: 1 medium string; 2 sizeLimit resource.Quantity
EnvFromSource: 1 prefix string; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource
EnvVar: 1 name string; 2 value string; 3 valueFrom EnvVarSource
EnvVarSource: 1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector;
    3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector; 5 fileKeyRef FileKeySelector
EphemeralContainer: 1 ephemeralContainerCommon inline EphemeralContainerCommon; 2 targetContainerName string
EphemeralContainerCommon: 1 name string; 2 image string; 3 command []string; 4 args []string;
    5 workingDir string; 6 ports []ContainerPort; 19 envFrom []EnvFromSource; 7 env []EnvVar;
    8 resources ResourceRequirements; 23 resizePolicy []ContainerResizePolicy; 24 restartPolicy *string;
    25 restartPolicyRules []ContainerRestartRule; 9 volumeMounts []VolumeMount; 21 volumeDevices []VolumeDevice;
    10 livenessProbe Probe; 11 readinessProbe Probe; 22 startupProbe Probe; 12 lifecycle Lifecycle;
    13 terminationMessagePath string; 20 terminationMessagePolicy string; 14 imagePullPolicy string;
    15 securityContext SecurityContext; 16 stdin bool; 17 stdinOnce bool; 18 tty bool
EphemeralVolumeSource: 1 volumeClaimTemplate PersistentVolumeClaimTemplate
Event: 1 metadata meta.ObjectMeta; 2 involvedObject ObjectReference; 3 reason string; 4 message string;
    5 source EventSource; 6 firstTimestamp meta.Time; 7 lastTimestamp meta.Time; 8 count int32; 9 type string;
    10 eventTime meta.MicroTime; 11 series EventSeries; 12 action string; 13 related ObjectReference;
    14 reportingComponent string; 15 reportingInstance string
EventSeries: 1 count int32; 2 lastObservedTime meta.MicroTime
EventSource: 1 component string; 2 host string
ExecAction: 1 command []string
FCVolumeSource: 1 targetWWNs []string; 2 lun *int32; 3 fsType string; 4 readOnly bool; 5 wwids []string
FileKeySelector: 1 volumeName string; 2 path string; 3 key string; 4 optional *bool
FlexVolumeSource: 1 driver string; 2 fsType string; 3 secretRef LocalObjectReference; 4 readOnly bool;
    5 options map[string]string
FlockerVolumeSource: 1 datasetName string; 2 datasetUUID string
GCEPersistentDiskVolumeSource: 1 pdName string; 2 fsType string; 3 partition int32; 4 readOnly bool
GRPCAction: 1 port !int32; 2 service *string
GitRepoVolumeSource: 1 repository string; 2 revision string; 3 directory string
GlusterfsVolumeSource: 1 endpoints string; 2 path string; 3 readOnly bool
HTTPGetAction: 1 path string; 2 port intstr.IntOrString; 3 host string; 4 scheme string;
    5 httpHeaders []HTTPHeader
HTTPHeader: 1 name string; 2 value string
HostAlias: 1 ip string; 2 hostnames []string
HostIP: 1 ip string
HostPathVolumeSource: 1 path string; 2 type *string
ISCSIVolumeSource: 1 targetPortal string; 2 iqn string; 3 lun int32; 4 iscsiInterface string; 5 fsType string;
    6 readOnly bool; 7 portals []string; 8 chapAuthDiscovery bool; 11 chapAuthSession bool;
    10 secretRef LocalObjectReference; 12 initiatorName *string
ImageVolumeSource: 1 reference string; 2 pullPolicy string
ImageVolumeStatus: 1 imageRef string
KeyToPath: 1 key string; 2 path string; 3 mode *int32
Lifecycle: 1 postStart LifecycleHandler; 2 preStop LifecycleHandler; 3 stopSignal *string
LifecycleHandler: 1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction; 4 sleep SleepAction
LimitRange: 1 metadata meta.ObjectMeta; 2 spec LimitRangeSpec
LimitRangeItem: 1 type string; 2 max map[string]resource.Quantity; 3 min map[string]resource.Quantity;
    4 default map[string]resource.Quantity; 5 defaultRequest map[string]resource.Quantity;
    6 maxLimitRequestRatio map[string]resource.Quantity
LimitRangeSpec: 1 limits []LimitRangeItem
LinuxContainerUser: 1 uid int64; 2 gid int64; 3 supplementalGroups []int64
LoadBalancerIngress: 1 ip string; 2 hostname string; 3 ipMode *string; 4 ports []PortStatus
LoadBalancerStatus: 1 ingress []LoadBalancerIngress
LocalObjectReference: 1 name string
ModifyVolumeStatus: 1 targetVolumeAttributesClassName string; 2 status string
NFSVolumeSource: 1 server string; 2 path string; 3 readOnly bool
Namespace: 1 metadata meta.ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus
NamespaceCondition: 1 type string; 2 status string; 4 lastTransitionTime meta.Time; 5 reason string;
    6 message string
NamespaceSpec: 1 finalizers []string
NamespaceStatus: 1 phase string; 2 conditions []NamespaceCondition
NodeAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector;
    2 preferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm
NodeSelector: 1 nodeSelectorTerms []NodeSelectorTerm
NodeSelectorRequirement: 1 key string; 2 operator string; 3 values []string
NodeSelectorTerm: 1 matchExpressions []NodeSelectorRequirement; 2 matchFields []NodeSelectorRequirement
ObjectFieldSelector: 1 apiVersion string; 2 fieldPath string
ObjectReference: 1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string;
    6 resourceVersion string; 7 fieldPath string
PersistentVolumeClaim: 1 metadata meta.ObjectMeta; 2 spec PersistentVolumeClaimSpec;
    3 status PersistentVolumeClaimStatus
PersistentVolumeClaimCondition: 1 type string; 2 status string; 3 lastProbeTime meta.Time;
    4 lastTransitionTime meta.Time; 5 reason string; 6 message string
PersistentVolumeClaimSpec: 1 accessModes []string; 4 selector meta.LabelSelector;
    2 resources VolumeResourceRequirements; 3 volumeName string; 5 storageClassName *string;
    6 volumeMode *string; 7 dataSource TypedLocalObjectReference; 8 dataSourceRef TypedObjectReference;
    9 volumeAttributesClassName *string
PersistentVolumeClaimStatus: 1 phase string; 2 accessModes []string; 3 capacity map[string]resource.Quantity;
    4 conditions []PersistentVolumeClaimCondition; 5 allocatedResources map[string]resource.Quantity;
    7 allocatedResourceStatuses map[string]string; 8 currentVolumeAttributesClassName *string;
    9 modifyVolumeStatus ModifyVolumeStatus
PersistentVolumeClaimTemplate: 1 metadata meta.ObjectMeta; 2 spec PersistentVolumeClaimSpec
PersistentVolumeClaimVolumeSource: 1 claimName string; 2 readOnly bool
PhotonPersistentDiskVolumeSource: 1 pdID string; 2 fsType string
Pod: 1 metadata meta.ObjectMeta; 2 spec PodSpec; 3 status PodStatus
PodAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm;
    2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
PodAffinityTerm: 1 labelSelector meta.LabelSelector; 2 namespaces []string; 3 topologyKey string;
    4 namespaceSelector meta.LabelSelector; 5 matchLabelKeys []string; 6 mismatchLabelKeys []string
PodAntiAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm;
    2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
PodCertificateProjection: 1 signerName string; 2 keyType string; 3 maxExpirationSeconds *int32;
    4 credentialBundlePath string; 5 keyPath string; 6 certificateChainPath string;
    7 userAnnotations map[string]string
PodCondition: 1 type string; 7 observedGeneration int64; 2 status string; 3 lastProbeTime meta.Time;
    4 lastTransitionTime meta.Time; 5 reason string; 6 message string
PodDNSConfig: 1 nameservers []string; 2 searches []string; 3 options []PodDNSConfigOption
PodDNSConfigOption: 1 name string; 2 value *string
PodExtendedResourceClaimStatus: 1 requestMappings []ContainerExtendedResourceRequest; 2 resourceClaimName string
PodIP: 1 ip string
PodOS: 1 name string
PodReadinessGate: 1 conditionType string
PodResourceClaim: 1 name string; 3 resourceClaimName *string; 4 resourceClaimTemplateName *string
PodResourceClaimStatus: 1 name string; 2 resourceClaimName *string
PodSchedulingGate: 1 name string
PodSecurityContext: 1 seLinuxOptions SELinuxOptions; 8 windowsOptions WindowsSecurityContextOptions;
    2 runAsUser *int64; 6 runAsGroup *int64; 3 runAsNonRoot *bool; 4 supplementalGroups []int64;
    12 supplementalGroupsPolicy *string; 5 fsGroup *int64; 7 sysctls []Sysctl; 9 fsGroupChangePolicy *string;
    10 seccompProfile SeccompProfile; 11 appArmorProfile AppArmorProfile; 13 seLinuxChangePolicy *string
PodSpec: 1 volumes []Volume; 20 initContainers []Container; 2 containers []Container;
    34 ephemeralContainers []EphemeralContainer; 3 restartPolicy string; 4 terminationGracePeriodSeconds *int64;
    5 activeDeadlineSeconds *int64; 6 dnsPolicy string; 7 nodeSelector map[string]string;
    8 serviceAccountName string; 9 serviceAccount string; 21 automountServiceAccountToken *bool;
    10 nodeName string; 11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 27 shareProcessNamespace *bool;
    14 securityContext PodSecurityContext; 15 imagePullSecrets []LocalObjectReference; 16 hostname string;
    17 subdomain string; 18 affinity Affinity; 19 schedulerName string; 22 tolerations []Toleration;
    23 hostAliases []HostAlias; 24 priorityClassName string; 25 priority *int32; 26 dnsConfig PodDNSConfig;
    28 readinessGates []PodReadinessGate; 29 runtimeClassName *string; 30 enableServiceLinks *bool;
    31 preemptionPolicy *string; 32 overhead map[string]resource.Quantity;
    33 topologySpreadConstraints []TopologySpreadConstraint; 35 setHostnameAsFQDN *bool; 36 os PodOS;
    37 hostUsers *bool; 38 schedulingGates []PodSchedulingGate; 39 resourceClaims []PodResourceClaim;
    40 resources ResourceRequirements; 41 hostnameOverride *string; 42 workloadRef WorkloadReference
PodStatus: 17 observedGeneration int64; 1 phase string; 2 conditions []PodCondition; 3 message string;
    4 reason string; 11 nominatedNodeName string; 5 hostIP string; 16 hostIPs []HostIP; 6 podIP string;
    12 podIPs []PodIP; 7 startTime meta.Time; 10 initContainerStatuses []ContainerStatus;
    8 containerStatuses []ContainerStatus; 9 qosClass string; 13 ephemeralContainerStatuses []ContainerStatus;
    14 resize string; 15 resourceClaimStatuses []PodResourceClaimStatus;
    18 extendedResourceClaimStatus PodExtendedResourceClaimStatus;
    19 allocatedResources map[string]resource.Quantity; 20 resources ResourceRequirements
PodTemplate: 1 metadata meta.ObjectMeta; 2 template PodTemplateSpec
PodTemplateSpec: 1 metadata meta.ObjectMeta; 2 spec PodSpec
PortStatus: 1 port int32; 2 protocol string; 3 error *string
PortworxVolumeSource: 1 volumeID string; 2 fsType string; 3 readOnly bool
PreferredSchedulingTerm: 1 weight int32; 2 preference NodeSelectorTerm
Probe: 1 handler inline ProbeHandler; 2 initialDelaySeconds int32; 3 timeoutSeconds int32;
    4 periodSeconds int32; 5 successThreshold int32; 6 failureThreshold int32;
    7 terminationGracePeriodSeconds *int64
ProbeHandler: 1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction; 4 grpc GRPCAction
ProjectedVolumeSource: 1 sources []VolumeProjection; 2 defaultMode *int32
QuobyteVolumeSource: 1 registry string; 2 volume string; 3 readOnly bool; 4 user string; 5 group string;
    6 tenant string
RBDVolumeSource: 1 monitors []string; 2 image string; 3 fsType string; 4 pool string; 5 user string;
    6 keyring string; 7 secretRef LocalObjectReference; 8 readOnly bool
ReplicationController: 1 metadata meta.ObjectMeta; 2 spec ReplicationControllerSpec;
    3 status ReplicationControllerStatus
ReplicationControllerCondition: 1 type string; 2 status string; 3 lastTransitionTime meta.Time; 4 reason string;
    5 message string
ReplicationControllerSpec: 1 replicas *int32; 4 minReadySeconds int32; 2 selector map[string]string;
    3 template PodTemplateSpec
ReplicationControllerStatus: 1 replicas !int32; 2 fullyLabeledReplicas int32; 4 readyReplicas int32;
    5 availableReplicas int32; 3 observedGeneration int64; 6 conditions []ReplicationControllerCondition
ResourceClaim: 1 name string; 2 request string
ResourceFieldSelector: 1 containerName string; 2 resource string; 3 divisor resource.Quantity
ResourceHealth: 1 resourceID string; 2 health string; 6 message *string
ResourceQuota: 1 metadata meta.ObjectMeta; 2 spec ResourceQuotaSpec; 3 status ResourceQuotaStatus
ResourceQuotaSpec: 1 hard map[string]resource.Quantity; 2 scopes []string; 3 scopeSelector ScopeSelector
ResourceQuotaStatus: 1 hard map[string]resource.Quantity; 2 used map[string]resource.Quantity
ResourceRequirements: 1 limits map[string]resource.Quantity; 2 requests map[string]resource.Quantity;
    3 claims []ResourceClaim
ResourceStatus: 1 name string; 2 resources []ResourceHealth
SELinuxOptions: 1 user string; 2 role string; 3 type string; 4 level string
ScaleIOVolumeSource: 1 gateway string; 2 system string; 3 secretRef LocalObjectReference; 4 sslEnabled bool;
    5 protectionDomain string; 6 storagePool string; 7 storageMode string; 8 volumeName string; 9 fsType string;
    10 readOnly bool
ScopeSelector: 1 matchExpressions []ScopedResourceSelectorRequirement
ScopedResourceSelectorRequirement: 1 scopeName string; 2 operator string; 3 values []string
SeccompProfile: 1 type string; 2 localhostProfile *string
Secret: 1 metadata meta.ObjectMeta; 5 immutable *bool; 2 data map[string]bytes; 4 stringData map[string]string;
    3 type string
SecretEnvSource: 1 localObjectReference inline LocalObjectReference; 2 optional *bool
SecretKeySelector: 1 localObjectReference inline LocalObjectReference; 2 key string; 3 optional *bool
SecretProjection: 1 localObjectReference inline LocalObjectReference; 2 items []KeyToPath; 4 optional *bool
SecretReference: 1 name string; 2 namespace string
SecretVolumeSource: 1 secretName string; 2 items []KeyToPath; 3 defaultMode *int32; 4 optional *bool
SecurityContext: 1 capabilities Capabilities; 2 privileged *bool; 3 seLinuxOptions SELinuxOptions;
    10 windowsOptions WindowsSecurityContextOptions; 4 runAsUser *int64; 8 runAsGroup *int64;
    5 runAsNonRoot *bool; 6 readOnlyRootFilesystem *bool; 7 allowPrivilegeEscalation *bool; 9 procMount *string;
    11 seccompProfile SeccompProfile; 12 appArmorProfile AppArmorProfile; 13 ulimits []Ulimit
Service: 1 metadata meta.ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus
ServiceAccount: 1 metadata meta.ObjectMeta; 2 secrets []ObjectReference;
    3 imagePullSecrets []LocalObjectReference; 4 automountServiceAccountToken *bool
ServiceAccountTokenProjection: 1 audience string; 2 expirationSeconds *int64; 3 path string
ServicePort: 1 name string; 2 protocol string; 6 appProtocol *string; 3 port !int32;
    4 targetPort intstr.IntOrString; 5 nodePort int32
ServiceSpec: 1 ports []ServicePort; 2 selector map[string]string; 3 clusterIP string; 18 clusterIPs []string;
    4 type string; 5 externalIPs []string; 7 sessionAffinity string; 8 loadBalancerIP string;
    9 loadBalancerSourceRanges []string; 10 externalName string; 11 externalTrafficPolicy string;
    12 healthCheckNodePort int32; 13 publishNotReadyAddresses bool;
    14 sessionAffinityConfig SessionAffinityConfig; 19 ipFamilies []string; 17 ipFamilyPolicy *string;
    20 allocateLoadBalancerNodePorts *bool; 21 loadBalancerClass *string; 22 internalTrafficPolicy *string;
    23 trafficDistribution *string
ServiceStatus: 1 loadBalancer LoadBalancerStatus; 2 conditions []meta.Condition
SessionAffinityConfig: 1 clientIP ClientIPConfig
SleepAction: 1 seconds !int64
StorageOSVolumeSource: 1 volumeName string; 2 volumeNamespace string; 3 fsType string; 4 readOnly bool;
    5 secretRef LocalObjectReference
Sysctl: 1 name string; 2 value string
TCPSocketAction: 1 port intstr.IntOrString; 2 host string
Taint: 1 key string; 2 value string; 3 effect string; 4 timeAdded meta.Time
Toleration: 1 key string; 2 operator string; 3 value string; 4 effect string; 5 tolerationSeconds *int64
TopologySpreadConstraint: 1 maxSkew int32; 2 topologyKey string; 3 whenUnsatisfiable string;
    4 labelSelector meta.LabelSelector; 5 minDomains *int32; 6 nodeAffinityPolicy *string;
    7 nodeTaintsPolicy *string; 8 matchLabelKeys []string
TypedLocalObjectReference: 1 apiGroup *string; 2 kind string; 3 name string
TypedObjectReference: 1 apiGroup *string; 2 kind string; 3 name string; 4 namespace *string
Ulimit: 1 name string; 2 hard int64; 3 soft int64
Volume: 1 name string; 2 volumeSource inline VolumeSource
VolumeDevice: 1 name string; 2 devicePath string
VolumeMount: 1 name string; 2 readOnly bool; 7 recursiveReadOnly *string; 3 mountPath string; 4 subPath string;
    5 mountPropagation *string; 6 subPathExpr string
VolumeMountStatus: 1 name string; 2 mountPath string; 3 readOnly bool; 4 recursiveReadOnly *string;
    5 volumeStatus inline VolumeStatus
VolumeProjection: 1 secret SecretProjection; 2 downwardAPI DownwardAPIProjection;
    3 configMap ConfigMapProjection; 4 serviceAccountToken ServiceAccountTokenProjection;
    5 clusterTrustBundle ClusterTrustBundleProjection; 6 podCertificate PodCertificateProjection
VolumeResourceRequirements: 1 limits map[string]resource.Quantity; 2 requests map[string]resource.Quantity
VolumeSource: 1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource;
    3 gcePersistentDisk GCEPersistentDiskVolumeSource; 4 awsElasticBlockStore AWSElasticBlockStoreVolumeSource;
    5 gitRepo GitRepoVolumeSource; 6 secret SecretVolumeSource; 7 nfs NFSVolumeSource;
    8 iscsi ISCSIVolumeSource; 9 glusterfs GlusterfsVolumeSource;
    10 persistentVolumeClaim PersistentVolumeClaimVolumeSource; 11 rbd RBDVolumeSource;
    12 flexVolume FlexVolumeSource; 13 cinder CinderVolumeSource; 14 cephfs CephFSVolumeSource;
    15 flocker FlockerVolumeSource; 16 downwardAPI DownwardAPIVolumeSource; 17 fc FCVolumeSource;
    18 azureFile AzureFileVolumeSource; 19 configMap ConfigMapVolumeSource;
    20 vsphereVolume VsphereVirtualDiskVolumeSource; 21 quobyte QuobyteVolumeSource;
    22 azureDisk AzureDiskVolumeSource; 23 photonPersistentDisk PhotonPersistentDiskVolumeSource;
    26 projected ProjectedVolumeSource; 24 portworxVolume PortworxVolumeSource; 25 scaleIO ScaleIOVolumeSource;
    27 storageos StorageOSVolumeSource; 28 csi CSIVolumeSource; 29 ephemeral EphemeralVolumeSource;
    30 image ImageVolumeSource
VolumeStatus: 1 image ImageVolumeStatus
VsphereVirtualDiskVolumeSource: 1 volumePath string; 2 fsType string; 3 storagePolicyName string;
    4 storagePolicyID string
WeightedPodAffinityTerm: 1 weight int32; 2 podAffinityTerm PodAffinityTerm
WindowsSecurityContextOptions: 1 gmsaCredentialSpecName *string; 2 gmsaCredentialSpec *string;
    3 runAsUserName *string; 4 hostProcess *bool
WorkloadReference: 1 name string; 2 podGroup string; 3 podGroupReplicaKey string
@apps
ControllerRevision: 1 metadata meta.ObjectMeta; 2 data runtime.RawExtension; 3 revision int64
DaemonSet: 1 metadata meta.ObjectMeta; 2 spec DaemonSetSpec; 3 status DaemonSetStatus
DaemonSetCondition: 1 type string; 2 status string; 3 lastTransitionTime meta.Time; 4 reason string;
    5 message string
DaemonSetSpec: 1 selector meta.LabelSelector; 2 template core.PodTemplateSpec;
    3 updateStrategy DaemonSetUpdateStrategy; 4 minReadySeconds int32; 6 revisionHistoryLimit *int32
DaemonSetStatus: 1 currentNumberScheduled !int32; 2 numberMisscheduled !int32; 3 desiredNumberScheduled !int32;
    4 numberReady !int32; 5 observedGeneration int64; 6 updatedNumberScheduled int32; 7 numberAvailable int32;
    8 numberUnavailable int32; 9 collisionCount *int32; 10 conditions []DaemonSetCondition
DaemonSetUpdateStrategy: 1 type string; 2 rollingUpdate RollingUpdateDaemonSet
Deployment: 1 metadata meta.ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus
DeploymentCondition: 1 type string; 2 status string; 6 lastUpdateTime meta.Time; 7 lastTransitionTime meta.Time;
    4 reason string; 5 message string
DeploymentSpec: 1 replicas *int32; 2 selector meta.LabelSelector; 3 template core.PodTemplateSpec;
    4 strategy DeploymentStrategy; 5 minReadySeconds int32; 6 revisionHistoryLimit *int32; 7 paused bool;
    9 progressDeadlineSeconds *int32; 10 podReplacementPolicy *string
DeploymentStatus: 1 observedGeneration int64; 2 replicas int32; 3 updatedReplicas int32; 7 readyReplicas int32;
    4 availableReplicas int32; 5 unavailableReplicas int32; 9 terminatingReplicas *int32;
    6 conditions []DeploymentCondition; 8 collisionCount *int32
DeploymentStrategy: 1 type string; 2 rollingUpdate RollingUpdateDeployment
ReplicaSet: 1 metadata meta.ObjectMeta; 2 spec ReplicaSetSpec; 3 status ReplicaSetStatus
ReplicaSetCondition: 1 type string; 2 status string; 3 lastTransitionTime meta.Time; 4 reason string;
    5 message string
ReplicaSetSpec: 1 replicas *int32; 4 minReadySeconds int32; 2 selector meta.LabelSelector;
    3 template core.PodTemplateSpec
ReplicaSetStatus: 1 replicas !int32; 2 fullyLabeledReplicas int32; 4 readyReplicas int32;
    5 availableReplicas int32; 7 terminatingReplicas *int32; 3 observedGeneration int64;
    6 conditions []ReplicaSetCondition
RollingUpdateDaemonSet: 1 maxUnavailable intstr.IntOrString; 2 maxSurge intstr.IntOrString
RollingUpdateDeployment: 1 maxUnavailable intstr.IntOrString; 2 maxSurge intstr.IntOrString
RollingUpdateStatefulSetStrategy: 1 partition *int32; 2 maxUnavailable intstr.IntOrString
StatefulSet: 1 metadata meta.ObjectMeta; 2 spec StatefulSetSpec; 3 status StatefulSetStatus
StatefulSetCondition: 1 type string; 2 status string; 3 lastTransitionTime meta.Time; 4 reason string;
    5 message string
StatefulSetOrdinals: 1 start int32
StatefulSetPersistentVolumeClaimRetentionPolicy: 1 whenDeleted string; 2 whenScaled string
StatefulSetSpec: 1 replicas *int32; 2 selector meta.LabelSelector; 3 template core.PodTemplateSpec;
    4 volumeClaimTemplates []core.PersistentVolumeClaim; 5 serviceName string; 6 podManagementPolicy string;
    7 updateStrategy StatefulSetUpdateStrategy; 8 revisionHistoryLimit *int32; 9 minReadySeconds int32;
    10 persistentVolumeClaimRetentionPolicy StatefulSetPersistentVolumeClaimRetentionPolicy;
    11 ordinals StatefulSetOrdinals
StatefulSetStatus: 1 observedGeneration int64; 2 replicas !int32; 3 readyReplicas int32;
    4 currentReplicas int32; 5 updatedReplicas int32; 6 currentRevision string; 7 updateRevision string;
    9 collisionCount *int32; 10 conditions []StatefulSetCondition; 11 availableReplicas int32
StatefulSetUpdateStrategy: 1 type string; 2 rollingUpdate RollingUpdateStatefulSetStrategy
@batch
CronJob: 1 metadata meta.ObjectMeta; 2 spec CronJobSpec; 3 status CronJobStatus
CronJobSpec: 1 schedule string; 8 timeZone *string; 2 startingDeadlineSeconds *int64;
    3 concurrencyPolicy string; 4 suspend *bool; 5 jobTemplate JobTemplateSpec;
    6 successfulJobsHistoryLimit *int32; 7 failedJobsHistoryLimit *int32
CronJobStatus: 1 active []core.ObjectReference; 4 lastScheduleTime meta.Time; 5 lastSuccessfulTime meta.Time
Job: 1 metadata meta.ObjectMeta; 2 spec JobSpec; 3 status JobStatus
JobCondition: 1 type string; 2 status string; 3 lastProbeTime meta.Time; 4 lastTransitionTime meta.Time;
    5 reason string; 6 message string
JobSpec: 1 parallelism *int32; 2 completions *int32; 3 activeDeadlineSeconds *int64;
    11 podFailurePolicy PodFailurePolicy; 16 successPolicy SuccessPolicy; 7 backoffLimit *int32;
    12 backoffLimitPerIndex *int32; 13 maxFailedIndexes *int32; 4 selector meta.LabelSelector;
    5 manualSelector *bool; 6 template core.PodTemplateSpec; 8 ttlSecondsAfterFinished *int32;
    9 completionMode *string; 10 suspend *bool; 14 podReplacementPolicy *string; 15 managedBy *string
JobStatus: 1 conditions []JobCondition; 2 startTime meta.Time; 3 completionTime meta.Time; 4 active int32;
    5 succeeded int32; 6 failed int32; 11 terminating *int32; 7 completedIndexes string;
    10 failedIndexes *string; 8 uncountedTerminatedPods UncountedTerminatedPods; 9 ready *int32
JobTemplateSpec: 1 metadata meta.ObjectMeta; 2 spec JobSpec
PodFailurePolicy: 1 rules []PodFailurePolicyRule
PodFailurePolicyOnExitCodesRequirement: 1 containerName *string; 2 operator string; 3 values []int32
PodFailurePolicyOnPodConditionsPattern: 1 type string; 2 status string
PodFailurePolicyRule: 1 action string; 2 onExitCodes PodFailurePolicyOnExitCodesRequirement;
    3 onPodConditions []PodFailurePolicyOnPodConditionsPattern
SuccessPolicy: 1 rules []SuccessPolicyRule
SuccessPolicyRule: 1 succeededIndexes *string; 2 succeededCount *int32
UncountedTerminatedPods: 1 succeeded []string; 2 failed []string
@policy
Eviction: 1 metadata meta.ObjectMeta; 2 deleteOptions meta.DeleteOptions
PodDisruptionBudget: 1 metadata meta.ObjectMeta; 2 spec PodDisruptionBudgetSpec;
    3 status PodDisruptionBudgetStatus
PodDisruptionBudgetSpec: 1 minAvailable intstr.IntOrString; 2 selector meta.LabelSelector;
    3 maxUnavailable intstr.IntOrString; 4 unhealthyPodEvictionPolicy *string
PodDisruptionBudgetStatus: 1 observedGeneration int64; 2 disruptedPods map[string]meta.Time;
    3 disruptionsAllowed !int32; 4 currentHealthy !int32; 5 desiredHealthy !int32; 6 expectedPods !int32;
    7 conditions []meta.Condition
@rbac
AggregationRule: 1 clusterRoleSelectors []meta.LabelSelector
ClusterRole: 1 metadata meta.ObjectMeta; 2 rules []PolicyRule; 3 aggregationRule AggregationRule
ClusterRoleBinding: 1 metadata meta.ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef
PolicyRule: 1 verbs []string; 2 apiGroups []string; 3 resources []string; 4 resourceNames []string;
    5 nonResourceURLs []string
Role: 1 metadata meta.ObjectMeta; 2 rules []PolicyRule
RoleBinding: 1 metadata meta.ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef
RoleRef: 1 apiGroup string; 2 kind string; 3 name string
Subject: 1 kind string; 2 apiGroup string; 3 name string; 4 namespace string
@authz
FieldSelectorAttributes: 1 rawSelector string; 2 requirements []FieldSelectorRequirement
FieldSelectorRequirement: 1 key string; 2 operator string; 3 values []string
LabelSelectorAttributes: 1 rawSelector string; 2 requirements []meta.LabelSelectorRequirement
LocalSubjectAccessReview: 1 metadata meta.ObjectMeta; 2 spec SubjectAccessReviewSpec;
    3 status SubjectAccessReviewStatus
NonResourceAttributes: 1 path string; 2 verb string
NonResourceRule: 1 verbs []string; 2 nonResourceURLs []string
ResourceAttributes: 1 namespace string; 2 verb string; 3 group string; 4 version string; 5 resource string;
    6 subresource string; 7 name string; 8 fieldSelector FieldSelectorAttributes;
    9 labelSelector LabelSelectorAttributes
ResourceRule: 1 verbs []string; 2 apiGroups []string; 3 resources []string; 4 resourceNames []string
SelfSubjectAccessReview: 1 metadata meta.ObjectMeta; 2 spec SelfSubjectAccessReviewSpec;
    3 status SubjectAccessReviewStatus
SelfSubjectAccessReviewSpec: 1 resourceAttributes ResourceAttributes;
    2 nonResourceAttributes NonResourceAttributes
SelfSubjectRulesReview: 1 metadata meta.ObjectMeta; 2 spec SelfSubjectRulesReviewSpec;
    3 status SubjectRulesReviewStatus
SelfSubjectRulesReviewSpec: 1 namespace string
SubjectAccessReview: 1 metadata meta.ObjectMeta; 2 spec SubjectAccessReviewSpec;
    3 status SubjectAccessReviewStatus
SubjectAccessReviewSpec: 1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes;
    3 user string; 4 groups []string; 5 extra map[string]ExtraValue; 6 uid string
SubjectAccessReviewStatus: 1 allowed !bool; 4 denied bool; 2 reason string; 3 evaluationError string
SubjectRulesReviewStatus: 1 resourceRules []ResourceRule; 2 nonResourceRules []NonResourceRule;
    3 incomplete !bool; 4 evaluationError string
@authn
BoundObjectReference: 1 kind string; 2 apiVersion string; 3 name string; 4 uid string
SelfSubjectReview: 1 metadata meta.ObjectMeta; 2 status SelfSubjectReviewStatus
SelfSubjectReviewStatus: 1 userInfo UserInfo
TokenRequest: 1 metadata meta.ObjectMeta; 2 spec TokenRequestSpec; 3 status TokenRequestStatus
TokenRequestSpec: 1 audiences []string; 4 expirationSeconds *int64; 3 boundObjectRef BoundObjectReference
TokenRequestStatus: 1 token !string; 2 expirationTimestamp meta.Time
TokenReview: 1 metadata meta.ObjectMeta; 2 spec TokenReviewSpec; 3 status TokenReviewStatus
TokenReviewSpec: 1 token string; 2 audiences []string
TokenReviewStatus: 1 authenticated bool; 2 user UserInfo; 4 audiences []string; 3 error string
UserInfo: 1 username string; 2 uid string; 3 groups []string; 4 extra map[string]ExtraValue
@networking
HTTPIngressPath: 1 path string; 3 pathType *string; 2 backend IngressBackend
HTTPIngressRuleValue: 1 paths []HTTPIngressPath
IPBlock: 1 cidr string; 2 except []string
Ingress: 1 metadata meta.ObjectMeta; 2 spec IngressSpec; 3 status IngressStatus
IngressBackend: 4 service IngressServiceBackend; 3 resource core.TypedLocalObjectReference
IngressClass: 1 metadata meta.ObjectMeta; 2 spec IngressClassSpec
IngressClassParametersReference: 1 apiGroup *string; 2 kind string; 3 name string; 4 scope *string;
    5 namespace *string
IngressClassSpec: 1 controller string; 2 parameters IngressClassParametersReference
IngressLoadBalancerIngress: 1 ip string; 2 hostname string; 4 ports []IngressPortStatus
IngressLoadBalancerStatus: 1 ingress []IngressLoadBalancerIngress
IngressPortStatus: 1 port int32; 2 protocol string; 3 error *string
IngressRule: 1 host string; 2 ingressRuleValue inline IngressRuleValue
IngressRuleValue: 1 http HTTPIngressRuleValue
IngressServiceBackend: 1 name string; 2 port ServiceBackendPort
IngressSpec: 4 ingressClassName *string; 1 defaultBackend IngressBackend; 2 tls []IngressTLS;
    3 rules []IngressRule
IngressStatus: 1 loadBalancer IngressLoadBalancerStatus
IngressTLS: 1 hosts []string; 2 secretName string
NetworkPolicy: 1 metadata meta.ObjectMeta; 2 spec NetworkPolicySpec
NetworkPolicyEgressRule: 1 ports []NetworkPolicyPort; 2 to []NetworkPolicyPeer
NetworkPolicyIngressRule: 1 ports []NetworkPolicyPort; 2 from []NetworkPolicyPeer
NetworkPolicyPeer: 1 podSelector meta.LabelSelector; 2 namespaceSelector meta.LabelSelector; 3 ipBlock IPBlock
NetworkPolicyPort: 1 protocol *string; 2 port intstr.IntOrString; 3 endPort *int32
NetworkPolicySpec: 1 podSelector meta.LabelSelector; 2 ingress []NetworkPolicyIngressRule;
    3 egress []NetworkPolicyEgressRule; 4 policyTypes []string
ServiceBackendPort: 1 name string; 2 number int32
@scheduling
PriorityClass: 1 metadata meta.ObjectMeta; 2 value !int32; 3 globalDefault bool; 4 description string;
    5 preemptionPolicy *string
"""


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    name: str  # the JSON name
    type: str  # a scalar name or a package-qualified message name; for maps, the value type
    repeated: bool = False
    map: bool = False
    inline: bool = False
    presence: str = "nonzero"  # "nonzero" (Go value field, omitempty), "wire" (Go pointer) or "always"

    @property
    def is_message(self) -> bool:
        return self.type not in SCALARS


Message = dict[int, Field]


def parse(text: str) -> dict[str, Message]:
    """Parse ``SCHEMA_TEXT`` into ``{"pkg.Name": {field number: Field}}``; fields keep their listed order."""
    entries: list[tuple[str, str, str]] = []
    package = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("@"):
            package = line[1:].strip()
        elif line[0].isspace():
            pkg, name, body = entries[-1]
            entries[-1] = (pkg, name, f"{body} {line.strip()}")
        else:
            name, _, body = line.partition(":")
            entries.append((package, name.strip(), body.strip()))
    names = {f"{pkg}.{name}" for pkg, name, _ in entries} | SPECIAL
    messages: dict[str, Message] = {}
    for pkg, name, body in entries:
        fields: Message = {}
        for spec in filter(None, (part.strip() for part in body.split(";"))):
            field = _field(pkg, spec, names)
            fields[field.number] = field
        messages[f"{pkg}.{name}"] = fields
    return messages


def _field(package: str, spec: str, names: set[str]) -> Field:
    number, name, *rest = spec.split()
    type_ = " ".join(rest)
    inline = repeated = map_ = False
    presence = "nonzero"
    if type_.startswith("inline "):
        inline, type_ = True, type_.removeprefix("inline ")
    if type_.startswith("[]"):
        repeated, type_ = True, type_[2:]
    elif type_.startswith("map[string]"):
        map_, type_ = True, type_.removeprefix("map[string]")
    elif type_[:1] in ("*", "!"):
        presence, type_ = ("wire" if type_[0] == "*" else "always"), type_[1:]
    if type_ not in SCALARS:
        qualified = type_ if "." in type_ else f"{package}.{type_}"
        if qualified not in names:
            raise ValueError(f"protobuf schema: {package} field {spec!r} names an unknown message {qualified}")
        type_ = qualified
    return Field(int(number), name, type_, repeated=repeated, map=map_, inline=inline, presence=presence)


MESSAGES: dict[str, Message] = parse(SCHEMA_TEXT)

# apiVersion -> kind -> message, for the top-level objects a request body may carry.
KINDS: dict[str, dict[str, str]] = {
    "v1": {kind: f"core.{kind}" for kind in (
        "Binding", "ConfigMap", "Event", "LimitRange", "Namespace", "PersistentVolumeClaim", "Pod", "PodTemplate",
        "ReplicationController", "ResourceQuota", "Secret", "Service", "ServiceAccount",
    )},
    "apps/v1": {kind: f"apps.{kind}" for kind in (
        "ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet",
    )},
    "batch/v1": {kind: f"batch.{kind}" for kind in ("CronJob", "Job")},
    "policy/v1": {kind: f"policy.{kind}" for kind in ("Eviction", "PodDisruptionBudget")},
    "rbac.authorization.k8s.io/v1": {kind: f"rbac.{kind}" for kind in (
        "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
    )},
    "authorization.k8s.io/v1": {kind: f"authz.{kind}" for kind in (
        "LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview",
    )},
    "authentication.k8s.io/v1": {
        kind: f"authn.{kind}" for kind in ("SelfSubjectReview", "TokenRequest", "TokenReview")
    },
    "networking.k8s.io/v1": {kind: f"networking.{kind}" for kind in ("Ingress", "IngressClass", "NetworkPolicy")},
    "scheduling.k8s.io/v1": {"PriorityClass": "scheduling.PriorityClass"},
}

# Kinds that every group version registers (metav1.AddToGroupVersion), decoded whatever the apiVersion.
ANY_VERSION_KINDS: dict[str, str] = {"DeleteOptions": "meta.DeleteOptions"}
