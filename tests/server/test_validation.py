"""Validation messages, byte for byte as kube-apiserver prints them."""

# Expected messages are kept whole on one line where that reads best.

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeproof.server import errors
from kubeproof.server.validation import names
from kubeproof.server.validation.field import GoRaw, aggregate, go_quote, go_value, invalid, not_supported
from kubeproof.server.validation.kinds import (
    NAME_RULES,
    parse_cron_standard,
    validate_create,
    validate_update,
)
from kubeproof.server.validation.objectmeta import (
    common_checks_once,
    validate_object_meta,
    validate_object_meta_update,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def strs(errs: list[Any]) -> list[str]:
    return [str(e) for e in errs]


def pod(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    body.update(spec)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": body,
    }


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].update(
        {"resourceVersion": "7", "uid": "u-1", "creationTimestamp": "2024-05-01T10:00:00Z"}
    )
    return out


def template(labels: dict[str, str] | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    body.update(spec)
    meta = {} if labels is None else {"labels": labels}
    return {"metadata": meta, "spec": body}


# --- field.go --------------------------------------------------------------------------------------


def test_go_quote_escapes_like_strconv_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("tab\there\n") == '"tab\\there\\n"'
    assert go_quote("\x01é\u200b") == '"\\x01é\\u200b"'
    assert go_value(GoRaw("map[string]string(nil)")) == "map[string]string(nil)"
    assert go_value(["a", "b"]) == '[]string{"a", "b"}'


def test_not_supported_quotes_with_go_rules() -> None:
    assert str(not_supported("f", "x", ["A", "B"])) == 'f: Unsupported value: "x": supported values: "A", "B"'


# --- names.py --------------------------------------------------------------------------------------


def test_dns_names() -> None:
    assert names.is_dns1123_subdomain("example.com") == []
    assert names.is_dns1123_subdomain("Example") == [SUBDOMAIN_MSG]
    assert names.is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert names.is_dns1123_label("a.b") == ["must not contain dots"]
    assert names.is_dns1123_label("-a") == [LABEL_MSG]
    assert names.is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]
    assert names.is_dns1035_label("1abc") == [DNS1035_MSG]
    assert names.is_dns1123_label("abc\n") == [LABEL_MSG]  # no multi-line $ as in Go


def test_qualified_names_and_label_values() -> None:
    assert names.is_qualified_name("example.com/app") == []
    assert names.is_qualified_name("/x") == ["prefix part must be non-empty"]
    assert names.is_qualified_name("x/") == ["name part must be non-empty", NAME_PART_MSG]
    assert names.is_qualified_name("a" * 64) == ["name part must be no more than 63 bytes"]
    assert names.is_qualified_name("Bad_/x") == ["prefix part " + SUBDOMAIN_MSG]
    assert names.is_qualified_name("a/b/c")[0].startswith("a valid label key must consist of")
    assert names.is_valid_label_value("") == []
    assert names.is_valid_label_value("-x") == [LABEL_VALUE_MSG]
    assert names.is_valid_label_value("x" * 64) == ["must be no more than 63 bytes"]


def test_path_segment_names() -> None:
    assert names.is_valid_path_segment_name("..") == ["may not be '..'"]
    assert names.is_valid_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]
    assert names.validate_path_segment_name(".", True) == []
    assert names.validate_rbac_name("system:admin", False) == []


def test_generate_name_prefix_may_end_with_dash() -> None:
    assert names.name_is_dns_subdomain("web-", True) == []
    assert names.name_is_dns_subdomain("web-", False) == [SUBDOMAIN_MSG]
    assert names.name_is_dns_label("-", True) == [LABEL_MSG]
    assert names.mask_trailing_dash("abc-") == "aba"  # Go drops the character before the dash as well


def test_config_key_and_port_names() -> None:
    assert names.is_config_map_key("..x") == ["must not start with '..'"]
    assert names.is_config_map_key("a b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    ]
    assert names.is_valid_port_name("--") == [
        "must contain at least one letter (a-z)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]


# --- objectmeta.py ---------------------------------------------------------------------------------


def test_object_meta_required_and_namespace_rules() -> None:
    errs = validate_object_meta({}, namespaced=True, name_fn=names.name_is_dns_subdomain)
    assert strs(errs) == [
        "metadata.name: Required value: name or generateName is required",
        "metadata.namespace: Required value",
    ]
    errs = validate_object_meta(
        {"name": "n", "namespace": "x"}, namespaced=False, name_fn=names.name_is_dns_label
    )
    assert strs(errs) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_object_meta_generate_name_labels_annotations() -> None:
    meta = {
        "generateName": "Web-",
        "name": "Web-abcde",
        "namespace": "default",
        "labels": {"app": "-bad"},
        "annotations": {"a/b/c": "x"},
    }
    errs = strs(validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain))
    assert errs[0] == f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_MSG}'
    assert errs[1] == f'metadata.name: Invalid value: "Web-abcde": {SUBDOMAIN_MSG}'
    assert errs[2] == f'metadata.labels: Invalid value: "-bad": {LABEL_VALUE_MSG}'
    assert errs[3].startswith('metadata.annotations: Invalid value: "a/b/c": a valid label key must')
    big = {"name": "n", "namespace": "d", "annotations": {"k": "x" * (256 * 1024)}}
    assert strs(validate_object_meta(big, namespaced=True, name_fn=names.name_is_dns_subdomain)) == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    ]


def test_object_meta_owner_references_and_finalizers() -> None:
    meta = {
        "name": "n",
        "namespace": "d",
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True},
            {"apiVersion": "", "kind": "ReplicaSet", "name": "", "uid": "2", "controller": True},
        ],
        "finalizers": ["orphan", "foregroundDeletion", "custom"],
    }
    errs = strs(validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain))
    assert errs[0] == 'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty'
    assert errs[1] == 'metadata.ownerReferences.name: Invalid value: "": must not be empty'
    assert errs[2].startswith(
        "metadata.ownerReferences: Invalid value: []v1.OwnerReference{v1.OwnerReference{"
    )
    assert errs[2].endswith(
        'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and '
        "ReplicaSet/"
    )
    assert errs[3] == (
        'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion", "custom"}: '
        "finalizer orphan and foregroundDeletion cannot be both set"
    )
    assert errs[4] == (
        'metadata.finalizers[2]: Invalid value: "custom": '
        "name is neither a standard finalizer name nor is it fully qualified"
    )


def test_object_meta_update_immutables_and_finalizers() -> None:
    old = {
        "name": "a",
        "namespace": "d",
        "uid": "u1",
        "resourceVersion": "3",
        "generation": 4,
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "deletionTimestamp": "2024-05-02T10:00:00Z",
        "finalizers": ["example.com/a"],
    }
    new = dict(old, name="b", generation=3, finalizers=["example.com/a", "x/y"])
    new["creationTimestamp"] = "2024-05-01T11:00:00Z"
    assert strs(validate_object_meta_update(new, old)) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new "
        'finalizers []string{"x/y"}',
        "metadata.generation: Invalid value: 3: must not be decremented",
        'metadata.name: Invalid value: "b": field is immutable',
        "metadata.creationTimestamp: Invalid value: 2024-05-01 11:00:00 +0000 UTC: field is immutable",
    ]
    no_rv = dict(old)
    del no_rv["resourceVersion"]
    assert strs(validate_object_meta_update(no_rv, old)) == [
        'metadata.resourceVersion: Invalid value: "": must be specified for an update'
    ]


# --- the aggregate Status ------------------------------------------------------------------------


def test_pod_status_message_and_causes() -> None:
    obj = pod(containers=[{"name": "c"}, {"name": "d", "image": "x", "ports": [{"containerPort": 0}]}])
    errs = validate_create("pods", obj)
    status = errors.invalid("Pod", "", "p", errs)
    assert status.code == 422
    assert status.message == (
        'Pod "p" is invalid: [spec.containers[0].image: Required value, '
        "spec.containers[1].ports[0].containerPort: Required value]"
    )
    assert status.status()["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"},
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[1].ports[0].containerPort",
        },
    ]


def test_single_error_message_has_no_brackets() -> None:
    errs = validate_create("pods", pod(containers=[]))
    assert (
        errors.invalid("Pod", "", "p", errs).message == 'Pod "p" is invalid: spec.containers: Required value'
    )


# --- pods ------------------------------------------------------------------------------------------


def test_pod_create_errors() -> None:
    obj = pod(
        restartPolicy="Sometimes",
        containers=[
            {"name": "Web", "image": "x", "ports": [{"containerPort": 70000, "protocol": "tcp"}]},
            {"name": "Web", "image": " y"},
        ],
    )
    assert strs(validate_create("pods", obj)) == [
        f'spec.containers[0].name: Invalid value: "Web": {LABEL_MSG}',
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
        f'spec.containers[1].name: Invalid value: "Web": {LABEL_MSG}',
        'spec.containers[1].name: Duplicate value: "Web"',
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.containers[1].image: Invalid value: " y": must not have leading or trailing whitespace',
    ]


def test_pod_name_and_volumes() -> None:
    obj = pod(
        volumes=[{"name": "data"}, {"name": "cfg", "configMap": {}, "secret": {"secretName": "s"}}],
        containers=[{"name": "c", "image": "x", "volumeMounts": [{"name": "nope", "mountPath": "/d"}]}],
    )
    obj["metadata"]["name"] = "My_Pod"
    assert strs(validate_create("pods", obj)) == [
        f'metadata.name: Invalid value: "My_Pod": {SUBDOMAIN_MSG}',
        "spec.volumes[0]: Required value: must specify a volume type",
        # secret is checked before configMap, so configMap is the second source (and is not validated).
        "spec.volumes[1].configMap: Forbidden: may not specify more than 1 volume type",
        'spec.containers[0].volumeMounts[0].name: Not found: "nope"',
    ]


def test_pod_tolerations_and_ephemeral_containers_on_create() -> None:
    obj = pod(
        tolerations=[{"operator": "Equal", "value": "x"}], ephemeralContainers=[{"name": "e", "image": "x"}]
    )
    assert strs(validate_create("pods", obj)) == [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
        'which means "match all values and all keys"',
        "spec.ephemeralContainers: Forbidden: cannot be set on create",
    ]


def test_pod_update_may_change_image_only() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:2"
    new["spec"]["activeDeadlineSeconds"] = 30
    new["spec"]["tolerations"] = [{"key": "k", "operator": "Exists"}]
    assert validate_update("pods", new, old) == []

    new["spec"]["nodeName"] = "node-1"
    errs = validate_update("pods", new, old)
    assert len(errs) == 1
    message = str(errs[0])
    assert message.startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)\n"
    )
    assert '+ \tNodeName: "node-1",' in message


def test_pod_update_container_count_and_metadata() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"].append({"name": "d", "image": "x"})
    new["metadata"]["name"] = "q"
    assert strs(validate_update("pods", new, old)) == [
        'metadata.name: Invalid value: "q": field is immutable',
        'metadata.name: Invalid value: "q": field is immutable',
        "spec.containers: Forbidden: pod updates may not add or remove containers",
    ]
    status = errors.invalid("Pod", "", "q", validate_update("pods", new, old))
    assert status.message == (
        'Pod "q" is invalid: [metadata.name: Invalid value: "q": field is immutable, '
        "spec.containers: Forbidden: pod updates may not add or remove containers]"
    )


def test_pod_update_new_finalizer_while_deleting() -> None:
    old = stored(pod())
    old["metadata"]["deletionTimestamp"] = "2024-05-02T00:00:00Z"
    new = copy.deepcopy(old)
    del new["metadata"]["deletionTimestamp"]  # the store keeps it; clients need not send it
    new["metadata"]["finalizers"] = ["x"]
    status = errors.invalid("Pod", "", "p", validate_update("pods", new, old))
    assert status.message == (
        'Pod "p" is invalid: [metadata.finalizers: Forbidden: no new finalizers can be added if the object is '
        'being deleted, found new finalizers []string{"x"}, metadata.finalizers[0]: Invalid value: "x": name is '
        "neither a standard finalizer name nor is it fully qualified]"
    )


# --- services --------------------------------------------------------------------------------------


def service(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": spec}


def test_service_create_errors() -> None:
    obj = service(
        type="Balanced",
        selector={"app": "-x"},
        ports=[
            {"name": "http", "port": 0, "targetPort": 70000, "protocol": "HTTP"},
            {"port": 80, "targetPort": "Web_Port"},
        ],
    )
    obj["metadata"]["name"] = "1web"
    errs = strs(validate_create("services", obj))
    assert errs == [
        f'metadata.name: Invalid value: "1web": {DNS1035_MSG}',
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.ports[1].name: Required value",
        'spec.ports[1].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)",
        f'spec.selector: Invalid value: "-x": {LABEL_VALUE_MSG}',
        'spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"',
    ]


def test_service_ports_required_unless_headless_or_external_name() -> None:
    assert strs(validate_create("services", service())) == ["spec.ports: Required value"]
    assert validate_create("services", service(clusterIP="None")) == []
    assert validate_create("services", service(type="ExternalName", externalName="example.com.")) == []
    assert strs(validate_create("services", service(type="ExternalName"))) == [
        "spec.externalName: Required value"
    ]


def test_service_duplicate_port_and_node_port_on_cluster_ip() -> None:
    obj = service(ports=[{"name": "a", "port": 80, "nodePort": 30000}, {"name": "b", "port": 80}])
    assert strs(validate_create("services", obj)) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]


def test_service_cluster_ip_is_immutable() -> None:
    old = stored(service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"], ports=[{"port": 80}]))
    new = copy.deepcopy(old)
    new["spec"] = {"clusterIP": "10.0.0.2", "ports": [{"port": 80}]}
    assert strs(validate_update("services", new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.2"}: may not change once set'
    ]
    # Leaving the allocated IP out keeps it, as the strategy does.
    new["spec"] = {"ports": [{"port": 80}]}
    assert validate_update("services", new, old) == []


# --- configmaps and secrets ------------------------------------------------------------------------


def test_configmap_keys_and_immutability() -> None:
    obj = {
        "metadata": {"name": "c", "namespace": "d"},
        "data": {"a b": "1", "ok": "2"},
        "binaryData": {"ok": "eA=="},
    }
    assert strs(validate_create("configmaps", obj)) == [
        "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', "
        "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')",
        'data[ok]: Invalid value: "ok": duplicate of key present in binaryData',
    ]
    old = stored({"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "1"}, "immutable": True})
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    del new["immutable"]
    assert strs(validate_update("configmaps", new, old)) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]


def test_configmap_too_large() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "x" * (1024 * 1024 + 1)}}
    assert strs(validate_create("configmaps", obj)) == [": Too long: may not be more than 1048576 bytes"]


def test_secret_type_rules_and_type_immutable() -> None:
    obj = {
        "metadata": {"name": "s", "namespace": "d"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "eA=="},
    }
    assert strs(validate_create("secrets", obj)) == ["data[tls.key]: Required value"]
    sa = {"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/service-account-token"}
    assert strs(validate_create("secrets", sa)) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"
    ]
    old = stored({"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque", "data": {"a": "eA=="}})
    new = copy.deepcopy(old)
    new["type"] = "kubernetes.io/basic-auth"
    assert strs(validate_update("secrets", new, old)) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
        "data[username]: Required value",
        "data[password]: Required value",
    ]


# --- workloads -------------------------------------------------------------------------------------


def deployment(selector: Any, labels: dict[str, str] | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"template": template(labels)}
    if selector is not None:
        body["selector"] = selector
    body.update(spec)
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": body}


def test_deployment_selector_rules() -> None:
    assert (
        validate_create("deployments.apps", deployment({"matchLabels": {"app": "web"}}, {"app": "web"})) == []
    )
    assert strs(
        validate_create("deployments.apps", deployment({"matchLabels": {"app": "x"}}, {"app": "web"}))
    ) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]
    assert strs(validate_create("deployments.apps", deployment(None, None))) == [
        "spec.selector: Required value",
        "spec.template.metadata.labels: Invalid value: map[string]string(nil): "
        "`selector` does not match template `labels`",
    ]
    assert strs(validate_create("deployments.apps", deployment({}, {"app": "web"}))) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]


def test_deployment_replicas_template_and_strategy() -> None:
    obj = deployment({"matchLabels": {"app": "web"}}, {"app": "web"}, replicas=-1)
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    obj["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}
    assert strs(validate_create("deployments.apps", obj)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.template.spec.containers[0].image: Required value",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ]


def test_deployment_selector_is_immutable() -> None:
    old = stored(deployment({"matchLabels": {"app": "web"}}, {"app": "web"}))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    assert strs(validate_update("deployments.apps", new, old)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    ]


def test_replicaset_and_daemonset() -> None:
    rs = deployment({"matchLabels": {"app": "web"}}, {"app": "web"})
    rs["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5
    assert strs(validate_create("replicasets.apps", rs)) == [
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"
    ]
    ds = deployment(None, {"app": "web"})
    assert strs(validate_create("daemonsets.apps", ds)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]
    old = stored(deployment({"matchLabels": {"app": "web"}}, {"app": "web"}))
    new = copy.deepcopy(old)
    new["spec"]["selector"]["matchLabels"]["app"] = "other"
    new["spec"]["template"]["metadata"]["labels"]["app"] = "other"
    assert strs(validate_update("daemonsets.apps", new, old))[-1].endswith(": field is immutable")


def test_statefulset_name_and_spec_updates() -> None:
    sts = deployment({"matchLabels": {"app": "db"}}, {"app": "db"}, serviceName="db")
    sts["metadata"]["name"] = "db.v1"
    assert strs(validate_create("statefulsets.apps", sts)) == [
        'metadata.name: Invalid value: "db.v1": must not contain dots'
    ]
    old = stored(deployment({"matchLabels": {"app": "db"}}, {"app": "db"}, serviceName="db"))
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    assert validate_update("statefulsets.apps", new, old) == []
    new["spec"]["serviceName"] = "other"
    assert strs(validate_update("statefulsets.apps", new, old)) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def test_job_restart_policy_and_generated_selector() -> None:
    job = {"metadata": {"name": "j", "namespace": "d", "uid": "u1"}, "spec": {"template": template(None)}}
    assert strs(validate_create("jobs.batch", job)) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert strs(validate_create("jobs.batch", job)) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]
    job["spec"]["template"]["spec"]["restartPolicy"] = "Sometimes"
    # The pod spec check and the Job's own check both report it, as in Go.
    assert strs(validate_create("jobs.batch", job)) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert validate_create("jobs.batch", job) == []
    job["spec"]["selector"] = {"matchLabels": {"app": "x"}}
    assert strs(validate_create("jobs.batch", job)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"x", '
        '"batch.kubernetes.io/controller-uid":"u1"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
        "`selector` not auto-generated",
        'spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"u1", '
        '"batch.kubernetes.io/job-name":"j", "controller-uid":"u1", "job-name":"j"}: `selector` does not match '
        "template `labels`",
    ]


def test_job_template_and_completions_are_immutable() -> None:
    job = {
        "metadata": {"name": "j", "namespace": "d"},
        "spec": {"completions": 1, "template": template(None)},
    }
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    old = stored(job)
    new = copy.deepcopy(old)
    new["spec"]["completions"] = 2
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    assert strs(validate_update("jobs.batch", new, old)) == [
        "spec.completions: Invalid value: 2: field is immutable",
        "spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable",
    ]


def cronjob(schedule: str, name: str = "nightly") -> dict[str, Any]:
    tmpl = template(None, restartPolicy="OnFailure")
    return {
        "metadata": {"name": name, "namespace": "d"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": tmpl}}},
    }


@pytest.mark.parametrize(
    ("schedule", "detail"),
    [
        ("*/5 * * *", "expected exactly 5 fields, found 4: [*/5 * * *]"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
    ],
)
def test_cron_schedule_errors(schedule: str, detail: str) -> None:
    assert strs(validate_create("cronjobs.batch", cronjob(schedule))) == [
        f"spec.schedule: Invalid value: {go_quote(schedule)}: {detail}"
    ]


def test_cron_schedule_valid_forms() -> None:
    for schedule in ("*/5 * * * *", "0 0 * JAN,feb MON-FRI", "@hourly", "@every 1h30m", "0 0 1 */2 ?"):
        assert parse_cron_standard(schedule) is None, schedule


def test_cronjob_required_schedule_name_length_and_template() -> None:
    obj = cronjob("", name="n" * 53)
    obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert strs(validate_create("cronjobs.batch", obj)) == [
        "spec.schedule: Required value",
        'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
        f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters',
    ]
    assert strs(validate_create("cronjobs.batch", cronjob("TZ=UTC 0 * * * *"))) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, '
        "use timeZone field instead"
    ]


# --- other kinds -----------------------------------------------------------------------------------


def test_namespace_and_node() -> None:
    assert strs(validate_create("namespaces", {"metadata": {"name": "team.a"}})) == [
        'metadata.name: Invalid value: "team.a": must not contain dots'
    ]
    node = {"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}
    assert strs(validate_create("nodes", node)) == [
        'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"'
    ]
    old = stored({"metadata": {"name": "n1"}, "spec": {"providerID": "aws://1"}})
    new = copy.deepcopy(old)
    new["spec"]["providerID"] = "aws://2"
    assert strs(validate_update("nodes", new, old)) == [
        'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid'
    ]


def test_persistent_volume_claim() -> None:
    pvc = {"metadata": {"name": "data", "namespace": "d"}, "spec": {}}
    assert strs(validate_create("persistentvolumeclaims", pvc)) == [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
    ]
    pvc["spec"] = {"accessModes": ["ReadWriteOnce", "Everyone"], "resources": {"requests": {"storage": "0"}}}
    assert strs(validate_create("persistentvolumeclaims", pvc)) == [
        'spec.accessModes: Unsupported value: "Everyone": supported values: "ReadOnlyMany", "ReadWriteMany", '
        '"ReadWriteOnce", "ReadWriteOncePod"',
        'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ]


def test_lease_endpoints_endpointslice_and_serviceaccount() -> None:
    lease = {"metadata": {"name": "l", "namespace": "d"}, "spec": {"leaseDurationSeconds": 0}}
    assert strs(validate_create("leases.coordination.k8s.io", lease)) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    ]
    ep = {"metadata": {"name": "e", "namespace": "d"}, "subsets": [{"ports": [{"port": 80}]}]}
    assert strs(validate_create("endpoints", ep)) == [
        "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"
    ]
    eps = {"metadata": {"name": "e", "namespace": "d"}, "endpoints": [{"addresses": []}]}
    assert strs(validate_create("endpointslices.discovery.k8s.io", eps)) == [
        "addressType: Required value",
        "endpoints[0].addresses: Required value: must contain at least 1 address",
    ]
    old = stored({"metadata": {"name": "e", "namespace": "d"}, "addressType": "IPv4"})
    new = dict(old, addressType="IPv6")
    assert strs(validate_update("endpointslices.discovery.k8s.io", new, old)) == [
        'addressType: Invalid value: "IPv6": field is immutable'
    ]
    sa = {"metadata": {"name": "Bad", "namespace": "d"}}
    assert strs(validate_create("serviceaccounts", sa)) == [
        f'metadata.name: Invalid value: "Bad": {SUBDOMAIN_MSG}'
    ]


def test_events() -> None:
    event = {
        "metadata": {"name": "e.1", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "namespace": "other"},
    }
    assert strs(validate_create("events", event)) == [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace'
    ]
    v1 = {
        "metadata": {"name": "e.1", "namespace": "d"},
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "regarding": {"kind": "Pod", "namespace": "d"},
        "type": "Info",
    }
    assert strs(validate_create("events.events.k8s.io", v1)) == [
        "reportingController: Required value",
        'reportingController: Invalid value: "": name part must be non-empty',
        f'reportingController: Invalid value: "": {NAME_PART_MSG}',
        "reportingInstance: Required value",
        "action: Required value",
        "reason: Required value",
        'type: Invalid value: "": has invalid value: Info',
    ]


def test_rbac() -> None:
    role = {
        "metadata": {"name": "r", "namespace": "d"},
        "rules": [{"apiGroups": [""], "resources": ["pods"]}],
    }
    assert strs(validate_create("roles.rbac.authorization.k8s.io", role)) == [
        "rules[0].verbs: Required value: verbs must contain at least one value"
    ]
    binding = {
        "metadata": {"name": "b", "namespace": "d"},
        "roleRef": {"apiGroup": "rbac", "kind": "Group", "name": ""},
        "subjects": [{"kind": "Robot", "name": "x"}, {"kind": "User", "name": "u"}],
    }
    assert strs(validate_create("rolebindings.rbac.authorization.k8s.io", binding)) == [
        'roleRef.apiGroup: Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole"',
        "roleRef.name: Required value",
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        'subjects[1].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
    ]
    crb = {
        "metadata": {"name": "system:b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    }
    assert strs(validate_create("clusterrolebindings.rbac.authorization.k8s.io", crb)) == [
        "subjects[0].namespace: Required value"
    ]
    crb["subjects"][0]["namespace"] = "d"
    old = stored(crb)
    new = copy.deepcopy(old)
    new["roleRef"]["name"] = "edit"
    assert strs(validate_update("clusterrolebindings.rbac.authorization.k8s.io", new, old)) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
        'Name:"edit"}: cannot change roleRef'
    ]
    bad_name = {"metadata": {"name": "a/b", "namespace": "d"}, "rules": []}
    assert strs(validate_create("roles.rbac.authorization.k8s.io", bad_name)) == [
        "metadata.name: Invalid value: \"a/b\": may not contain '/'"
    ]


def test_pod_disruption_budget() -> None:
    pdb = {"metadata": {"name": "p", "namespace": "d"}, "spec": {"minAvailable": "150%"}}
    assert strs(validate_create("poddisruptionbudgets.policy", pdb)) == [
        "spec.minAvailable: Invalid value: 150%: must not be greater than 100%"
    ]
    pdb["spec"] = {"minAvailable": 1, "maxUnavailable": "x"}
    errs = strs(validate_create("poddisruptionbudgets.policy", pdb))
    assert errs[0].startswith("spec: Invalid value: policy.PodDisruptionBudgetSpec{")
    assert errs[0].endswith(": minAvailable and maxUnavailable cannot be both set")
    assert errs[1] == (
        "spec.maxUnavailable: Invalid value: x: a valid percent string must be a numeric string followed by an "
        "ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
    )
    # Only the generic registry check applies to a PDB's name.
    pdb["spec"] = {"minAvailable": 1}
    pdb["metadata"]["name"] = "a%b"
    assert strs(validate_create("poddisruptionbudgets.policy", pdb)) == [
        "metadata.name: Invalid value: \"a%b\": may not contain '%'"
    ]


def test_name_rules_cover_every_resource() -> None:
    assert NAME_RULES["namespaces"]("a.b", False) == ["must not contain dots"]
    assert NAME_RULES["services"]("1a", False) == [DNS1035_MSG]
    assert NAME_RULES["roles.rbac.authorization.k8s.io"]("Any Name", False) == []
    assert NAME_RULES["statefulsets.apps"]("a.b", False) == ["must not contain dots"]
    assert NAME_RULES["cronjobs.batch"]("a.b", False) == []
    assert len(NAME_RULES) == 24


def test_aggregate_drops_repeats() -> None:
    err = invalid("metadata.name", "q", "field is immutable")
    assert aggregate([err, err]) == 'metadata.name: Invalid value: "q": field is immutable'


VALID: dict[str, dict[str, Any]] = {
    "pods": pod(initContainers=[{"name": "init", "image": "busybox", "restartPolicy": "Always"}]),
    "services": service(
        type="NodePort", ports=[{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]
    ),
    "endpoints": {
        "metadata": {"name": "web", "namespace": "d"},
        "subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}],
    },
    "configmaps": {"metadata": {"name": "c", "namespace": "d"}, "data": {"app.conf": "x"}},
    "secrets": {"metadata": {"name": "s", "namespace": "d"}, "stringData": {"password": "x"}},
    "serviceaccounts": {"metadata": {"name": "builder", "namespace": "d"}},
    "events": {
        "metadata": {"name": "p.17a", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "namespace": "d"},
    },
    "nodes": {
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/os": "linux"}},
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
    },
    "namespaces": {"metadata": {"name": "team-a"}, "spec": {"finalizers": ["kubernetes"]}},
    "persistentvolumeclaims": {
        "metadata": {"name": "data", "namespace": "d"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    },
    "deployments.apps": deployment({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "x"}, replicas=3),
    "replicasets.apps": deployment(
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, {"app": "web"}
    ),
    "statefulsets.apps": deployment({"matchLabels": {"app": "db"}}, {"app": "db"}, serviceName="db"),
    "daemonsets.apps": deployment({"matchLabels": {"app": "agent"}}, {"app": "agent"}),
    "jobs.batch": {
        "metadata": {"name": "j", "namespace": "d"},
        "spec": {"template": template(None, restartPolicy="Never")},
    },
    "cronjobs.batch": cronjob("0 3 * * *"),
    "leases.coordination.k8s.io": {
        "metadata": {"name": "l", "namespace": "d"},
        "spec": {"leaseDurationSeconds": 15},
    },
    "endpointslices.discovery.k8s.io": {
        "metadata": {"name": "web-abc", "namespace": "d"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.2.3"]}],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
    },
    "events.events.k8s.io": {
        "metadata": {"name": "e.1", "namespace": "d"},
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "regarding": {"kind": "Pod", "namespace": "d"},
        "reportingController": "example.com/ctl",
        "reportingInstance": "ctl-1",
        "action": "Scheduling",
        "reason": "Scheduled",
        "type": "Normal",
    },
    "roles.rbac.authorization.k8s.io": {
        "metadata": {"name": "reader", "namespace": "d"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    },
    "rolebindings.rbac.authorization.k8s.io": {
        "metadata": {"name": "reader", "namespace": "d"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    },
    "clusterroles.rbac.authorization.k8s.io": {
        "metadata": {"name": "system:reader"},
        "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
    },
    "clusterrolebindings.rbac.authorization.k8s.io": {
        "metadata": {"name": "system:reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}],
    },
    "poddisruptionbudgets.policy": {
        "metadata": {"name": "web", "namespace": "d"},
        "spec": {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "web"}}},
    },
}


@pytest.mark.parametrize("resource", sorted(VALID))
def test_valid_objects_pass_create_and_a_no_op_update(resource: str) -> None:
    obj = VALID[resource]
    assert validate_create(resource, obj) == []
    assert validate_update(resource, copy.deepcopy(obj), stored(obj)) == []


def test_updates_without_stored_defaults_are_not_changes() -> None:
    old = stored(pod())
    old["spec"].update(
        {"dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler"}
    )
    old["spec"]["containers"][0].update({"imagePullPolicy": "Always", "terminationMessagePolicy": "File"})
    new = pod()
    new["spec"]["containers"][0]["image"] = "nginx:2"
    assert validate_update("pods", new, old) == []
    pvc = VALID["persistentvolumeclaims"]
    old_pvc = stored(pvc)
    old_pvc["spec"]["volumeMode"] = "Filesystem"
    assert validate_update("persistentvolumeclaims", copy.deepcopy(pvc), old_pvc) == []


def test_object_meta_common_checks_are_skipped_only_for_the_same_map_that_passed() -> None:
    bad = {"name": "x", "namespace": "default", "labels": {"-bad": "v"}}
    good = {"name": "y", "namespace": "default", "labels": {"app": "v"}}
    with common_checks_once():
        # a map that failed is checked again (and fails again)
        for _ in range(2):
            assert strs(validate_object_meta(bad, namespaced=True, name_fn=names.name_is_dns_subdomain))
        assert validate_object_meta(good, namespaced=True, name_fn=names.name_is_dns_subdomain) == []
        # another scope (cluster-scoped) of the same map is not the check that passed
        assert strs(validate_object_meta(good, namespaced=False, name_fn=names.name_is_dns_subdomain))
    good["labels"] = {"-bad": "v"}
    # outside the block nothing is remembered: the changed map fails
    assert strs(validate_object_meta(good, namespaced=True, name_fn=names.name_is_dns_subdomain))


def test_a_create_reports_metadata_problems_once() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default",
                                                                "labels": {"-bad": "v"}}}
    errs = strs(validate_create("configmaps", cm))
    assert len([e for e in errs if "metadata.labels" in e]) == 1, errs
