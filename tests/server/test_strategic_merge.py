"""Strategic merge patch (``server/patch/strategic.py``) against the cases Kubernetes documents.

Sources cited per test:

* [SMP] kubernetes/community ``contributors/devel/sig-api-machinery/strategic-merge-patch.md``
  (sections "Background", "`replace` Directive", "`delete` Directive", "`merge` Directive",
  "`deleteFromPrimitiveList` Directive", "`setElementOrder` Directive", "`retainKeys` Directive").
* [TASK] kubernetes.io "Update API Objects in Place Using kubectl patch"
  (docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch).
* [GO] ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` and ``apiserver/.../handlers/patch.go``
  (``interpretStrategicMergePatchError``), for behaviour the prose leaves out.
* [REF] /work/shared/reference/k8s-api-fidelity.md §4.6.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeproof.server.errors import StatusError
from kubeproof.server.patch.strategic import strategic_merge_patch
from kubeproof.server.schema import schema_for

DEPLOYMENT = schema_for("apps", "v1", "Deployment")
POD = schema_for("", "v1", "Pod")
SERVICE = schema_for("", "v1", "Service")

Obj = dict[str, Any]


def patch_deployment(original: Obj, patch: Obj) -> Obj:
    return strategic_merge_patch(original, patch, DEPLOYMENT)


def patch_pod(original: Obj, patch: Obj) -> Obj:
    return strategic_merge_patch(original, patch, POD)


def pod(**spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def deployment(**pod_spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "patch-demo"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": pod_spec},
        },
    }


def in_template(**pod_spec: Any) -> Obj:
    """A Deployment patch touching only the pod template's spec."""
    return {"spec": {"template": {"spec": pod_spec}}}


def template_spec(obj: Obj) -> Obj:
    spec: Obj = obj["spec"]["template"]["spec"]
    return spec


def names(items: list[Obj]) -> list[str]:
    return [item["name"] for item in items]


def failure(original: Obj, patch: Obj, schema: Any = DEPLOYMENT) -> StatusError:
    with pytest.raises(StatusError) as info:
        strategic_merge_patch(original, patch, schema)
    return info.value


# -- maps and lists ------------------------------------------------------------------------------


def test_background_containers_merge_by_name() -> None:
    """[SMP] "Background": adding a container to a Pod merges by ``name`` instead of replacing the list."""
    original = pod(containers=[{"name": "nginx", "image": "nginx-1.0"}])
    result = patch_pod(original, {"spec": {"containers": [{"name": "log-tailer", "image": "log-tailer-1.0"}]}})
    assert result["spec"]["containers"] == [
        {"name": "log-tailer", "image": "log-tailer-1.0"},
        {"name": "nginx", "image": "nginx-1.0"},
    ]


def test_task_patch_adds_a_container_and_replaces_tolerations() -> None:
    """[TASK] "Use a strategic merge patch to update a Deployment" and "Notes on the strategic merge patch":
    the containers list merges (the new container is listed first, as the page's output shows) while
    ``tolerations``, which has no patch strategy, is replaced."""
    original = deployment(
        containers=[{"name": "patch-demo-ctr", "image": "nginx"}],
        tolerations=[{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}],
    )
    result = patch_deployment(original, {"spec": {"template": {"spec": {"containers": [
        {"name": "patch-demo-ctr-2", "image": "redis"}]}}}})
    assert template_spec(result)["containers"] == [
        {"name": "patch-demo-ctr-2", "image": "redis"},
        {"name": "patch-demo-ctr", "image": "nginx"},
    ]
    result = patch_deployment(result, {"spec": {"template": {"spec": {"tolerations": [
        {"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}})
    assert template_spec(result)["tolerations"] == [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]
    assert names(template_spec(result)["containers"]) == ["patch-demo-ctr-2", "patch-demo-ctr"]


def test_matching_element_is_merged_in_place() -> None:
    """[SMP] "Background" / [REF] §4.6: an element whose merge key matches is merged, not duplicated."""
    original = deployment(containers=[{"name": "a", "image": "nginx", "args": ["x"]}, {"name": "b", "image": "redis"}])
    result = patch_deployment(original, in_template(containers=[{"name": "b", "image": "redis:7"}]))
    assert template_spec(result)["containers"] == [
        {"name": "a", "image": "nginx", "args": ["x"]},
        {"name": "b", "image": "redis:7"},
    ]


def test_container_ports_merge_by_container_port() -> None:
    """[REF] §4.6: container ``ports`` merge by ``containerPort`` (``patchMergeKey:"containerPort"``)."""
    original = pod(containers=[{"name": "c", "image": "i", "ports": [{"containerPort": 80, "name": "http"}]}])
    result = patch_pod(original, {"spec": {"containers": [{"name": "c", "ports": [
        {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "name": "https"}]}]}})
    assert result["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "name": "http", "protocol": "TCP"},
        {"containerPort": 443, "name": "https"},
    ]


def test_env_and_volume_mounts_merge_by_name() -> None:
    """[REF] §4.6: ``env`` and ``volumeMounts`` merge by ``name``; nested lists merge inside a merged element."""
    original = pod(containers=[{
        "name": "c", "image": "i",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }])
    result = patch_pod(original, {"spec": {"containers": [{
        "name": "c",
        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
    }]}})
    container = result["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}]
    assert container["volumeMounts"] == [
        {"name": "cache", "mountPath": "/cache"}, {"name": "data", "mountPath": "/data"}]


def test_init_containers_and_image_pull_secrets_merge_by_name() -> None:
    """[REF] §4.6: ``initContainers`` and ``imagePullSecrets`` merge by ``name`` too."""
    original = pod(initContainers=[{"name": "init", "image": "busybox"}], imagePullSecrets=[{"name": "one"}])
    result = patch_pod(original, {"spec": {"initContainers": [{"name": "init", "image": "busybox:2"}],
                                           "imagePullSecrets": [{"name": "two"}]}})
    assert result["spec"]["initContainers"] == [{"name": "init", "image": "busybox:2"}]
    assert result["spec"]["imagePullSecrets"] == [{"name": "two"}, {"name": "one"}]


def test_owner_references_merge_by_uid() -> None:
    """[REF] §4.6: ``metadata.ownerReferences`` merge by ``uid`` (what the garbage collector relies on)."""
    ref_a = {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "u-a"}
    ref_b = {"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": "u-b"}
    original = {"metadata": {"name": "x", "ownerReferences": [ref_a, ref_b]}}
    result = patch_pod(original, {"metadata": {"ownerReferences": [
        {"$patch": "delete", "uid": "u-a"}, {"uid": "u-b", "blockOwnerDeletion": True}]}})
    assert result["metadata"]["ownerReferences"] == [{**ref_b, "blockOwnerDeletion": True}]


def test_status_conditions_merge_by_type() -> None:
    """[REF] §4.6: ``status.conditions`` merge by ``type``."""
    original = {"metadata": {"name": "p"}, "status": {"conditions": [
        {"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]}}
    result = patch_pod(original, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert result["status"]["conditions"] == [
        {"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}]


def test_service_ports_merge_by_port() -> None:
    """[GO] ``ServiceSpec.Ports`` carries ``patchMergeKey:"port"``."""
    original = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    result = strategic_merge_patch(original, {"spec": {"ports": [{"port": 80, "targetPort": 9090},
                                                                 {"port": 443}]}}, SERVICE)
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_maps_merge_and_null_deletes() -> None:
    """[SMP] "Background" (JSON merge patch semantics for maps) and "`delete` Directive / Maps": null deletes."""
    original = {"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}, "annotations": {"k": "v"}}}
    result = patch_deployment(original, {"metadata": {"labels": {"b": None, "c": "3"}, "annotations": None}})
    assert result["metadata"] == {"name": "x", "labels": {"a": "1", "c": "3"}}


def test_primitive_list_with_merge_strategy_is_a_set_union() -> None:
    """[SMP] "`deleteFromPrimitiveList` Directive": a primitive list with the merge strategy (``finalizers``)
    works as an unordered set; patching adds the missing values and keeps the existing ones."""
    original = {"metadata": {"name": "x", "finalizers": ["a", "b", "c"]}}
    result = patch_deployment(original, {"metadata": {"finalizers": ["b", "d"]}})
    # Go's order: patch items interleaved with the live ones by the live order ("d" is unknown to it).
    assert result["metadata"]["finalizers"] == ["a", "b", "d", "c"]
    assert patch_deployment(original, {"metadata": {"finalizers": ["z"]}})["metadata"]["finalizers"] == [
        "z", "a", "b", "c"]


def test_lists_without_strategy_are_replaced() -> None:
    """[SMP] "Background": lists without a merge strategy (``args``) are replaced, as in JSON merge patch."""
    original = deployment(containers=[{"name": "c", "image": "i", "args": ["a", "b"]}])
    result = patch_deployment(original, in_template(containers=[{"name": "c", "args": ["z"]}]))
    assert template_spec(result)["containers"] == [{"name": "c", "image": "i", "args": ["z"]}]


def test_unknown_kind_behaves_like_a_merge_patch() -> None:
    """[REF] §4.6: without patch metadata lists are replaced, maps merge and null deletes."""
    original = {"spec": {"items": [{"name": "a"}], "m": {"x": 1, "y": 2}}}
    result = strategic_merge_patch(original, {"spec": {"items": [{"name": "b"}], "m": {"x": None, "z": 3}}}, None)
    assert result == {"spec": {"items": [{"name": "b"}], "m": {"y": 2, "z": 3}}}


def test_unknown_field_of_a_known_kind_behaves_like_a_merge_patch() -> None:
    """[REF] §4.6: a path the schema does not know merges like JSON merge patch."""
    original = {"metadata": {"name": "x"}, "spec": {"custom": {"list": [{"name": "a"}], "keep": 1}}}
    result = patch_deployment(original, {"spec": {"custom": {"list": [{"name": "b"}]}}})
    assert result["spec"]["custom"] == {"list": [{"name": "b"}], "keep": 1}


def test_input_objects_are_not_modified() -> None:
    original = deployment(containers=[{"name": "c", "image": "i"}])
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "d", "image": "j"}]}}}}
    before = copy.deepcopy((original, patch))
    patch_deployment(original, patch)
    assert (original, patch) == before


# -- $patch: replace -----------------------------------------------------------------------------


def test_replace_directive_on_a_map() -> None:
    """[SMP] "`replace` Directive / Map": the map holding ``$patch: replace`` is taken literally."""
    original = pod(containers=[{"name": "a", "image": "a"}], restartPolicy="Always", hostname="h")
    result = patch_pod(original, {"spec": {"$patch": "replace",
                                           "containers": [{"name": "nginx", "image": "nginx-1.0"}]}})
    assert result["spec"] == {"containers": [{"name": "nginx", "image": "nginx-1.0"}]}


def test_replace_directive_in_a_list_of_maps() -> None:
    """[SMP] "`replace` Directive / List of Maps": a ``$patch: replace`` element replaces the whole list."""
    original = pod(containers=[{"name": "a", "image": "a"}, {"name": "nginx", "image": "old"}])
    result = patch_pod(original, {"spec": {"containers": [{"name": "nginx", "image": "nginx-1.0"},
                                                          {"$patch": "replace"}]}})
    assert result["spec"]["containers"] == [{"name": "nginx", "image": "nginx-1.0"}]


def test_replace_strategy_from_the_schema() -> None:
    """[GO] ``PodDisruptionBudgetSpec.selector`` has ``patchStrategy:"replace"``: the map is not merged."""
    pdb = schema_for("policy", "v1", "PodDisruptionBudget")
    original = {"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}
    result = strategic_merge_patch(original, {"spec": {"selector": {"matchLabels": {"b": "2"}}}}, pdb)
    assert result["spec"] == {"selector": {"matchLabels": {"b": "2"}}, "minAvailable": 1}


# -- $patch: delete ------------------------------------------------------------------------------


def test_delete_directive_in_a_list_of_maps() -> None:
    """[SMP] "`delete` Directive / List of Maps": the element with the merge key is removed, and
    "Delete operation will delete all entries in the list that match the merge key"."""
    original = pod(containers=[{"name": "nginx", "image": "nginx-0.9"}, {"name": "log-tailer", "image": "lt"},
                               {"name": "log-tailer", "image": "dup"}])
    result = patch_pod(original, {"spec": {"containers": [{"name": "nginx", "image": "nginx-1.0"},
                                                          {"$patch": "delete", "name": "log-tailer"}]}})
    assert result["spec"]["containers"] == [{"name": "nginx", "image": "nginx-1.0"}]


def test_delete_directive_on_a_map_and_its_null_equivalent() -> None:
    """[SMP] "`delete` Directive / Maps": ``rollingUpdate: {$patch: delete}`` and ``rollingUpdate: null``."""
    original = {"metadata": {"name": "x"}, "spec": {"strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}}
    by_directive = patch_deployment(original, {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}})
    by_null = patch_deployment(original, {"spec": {"strategy": {"rollingUpdate": None}}})
    assert by_directive["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {}}
    assert by_null["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_merge_directive_is_only_for_struct_tags() -> None:
    """[SMP] "`merge` Directive": "used only in the go struct tags". In a patch list Go answers
    ``merging lists cannot yet be specified in the patch``; in a map it is an unknown patch type. Both are
    plain errors, which the apiserver reports as 500 with the error text."""
    original = pod(containers=[{"name": "a", "image": "a"}])
    err = failure(original, {"spec": {"containers": [{"$patch": "merge"}]}}, POD)
    assert (err.code, err.reason, err.message) == (500, "", "merging lists cannot yet be specified in the patch")
    err = failure(original, {"spec": {"$patch": "merge"}}, POD)
    assert (err.code, err.message) == (500, "unknown patch type: merge in map: map[$patch:merge]")


# -- $deleteFromPrimitiveList ---------------------------------------------------------------------


def test_delete_from_primitive_list() -> None:
    """[SMP] "`deleteFromPrimitiveList` Directive": deleting b and c from [a, b, c] leaves [a]; "Deleting an
    item that has duplicates will delete all matching items"."""
    original = {"metadata": {"name": "x", "finalizers": ["a", "b", "c", "b"]}}
    result = patch_deployment(original, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "c"]}})
    assert result["metadata"]["finalizers"] == ["a"]


def test_delete_from_primitive_list_with_additions() -> None:
    """[SMP] "`deleteFromPrimitiveList` Directive" together with an addition to the same set."""
    original = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    result = patch_deployment(original, {"metadata": {"finalizers": ["c"],
                                                      "$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert result["metadata"]["finalizers"] == ["c", "b"]


def test_delete_from_primitive_list_needs_the_slash() -> None:
    """[GO] ``extractKey``: a malformed key is ``ErrBadPatchFormatForPrimitiveList``, a 400 BadRequest."""
    err = failure({"metadata": {"name": "x", "finalizers": ["a"]}},
                  {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}})
    assert (err.code, err.reason, err.message) == (400, "BadRequest", "invalid patch format of primitive list")


# -- $setElementOrder ---------------------------------------------------------------------------------


def test_set_element_order_on_primitives() -> None:
    """[SMP] "`setElementOrder` Directive / List of Primitives": [a, b, c] reordered to [b, c, a]."""
    original = {"metadata": {"name": "x", "finalizers": ["a", "b", "c"]}}
    result = patch_deployment(original, {"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"]}})
    assert result["metadata"]["finalizers"] == ["b", "c", "a"]


def test_set_element_order_on_maps() -> None:
    """[SMP] "`setElementOrder` Directive / List of Maps": containers a, b, c reordered to b, c, a."""
    original = pod(containers=[{"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c", "image": "3"}])
    order = [{"name": "b"}, {"name": "c"}, {"name": "a"}]
    result = patch_pod(original, {"spec": {"$setElementOrder/containers": order}})
    assert result["spec"]["containers"] == [
        {"name": "b", "image": "2"}, {"name": "c", "image": "3"}, {"name": "a", "image": "1"}]


def test_set_element_order_as_kubectl_set_image_sends_it() -> None:
    """[SMP] "`setElementOrder` Directive": the two-way patch kubectl builds (``set image``, ``edit``) carries
    the order of the whole list next to the changed element."""
    original = deployment(containers=[{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}])
    result = patch_deployment(original, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
        "containers": [{"name": "web", "image": "nginx:2"}]}}}})
    assert template_spec(result)["containers"] == [
        {"name": "web", "image": "nginx:2"}, {"name": "side", "image": "busybox"}]


def test_set_element_order_with_an_added_element_and_a_deletion() -> None:
    """[SMP] "`setElementOrder` Directive": the directive's order wins over the live order; a deleted
    element disappears."""
    original = pod(containers=[{"name": "a", "image": "1"}, {"name": "b", "image": "2"}])
    result = patch_pod(original, {"spec": {
        "$setElementOrder/containers": [{"name": "n"}, {"name": "a"}],
        "containers": [{"name": "n", "image": "new"}, {"$patch": "delete", "name": "b"}]}})
    assert result["spec"]["containers"] == [{"name": "n", "image": "new"}, {"name": "a", "image": "1"}]


def test_set_element_order_must_agree_with_the_patch_list() -> None:
    """[GO] ``validatePatchWithSetOrderList``: a patch element missing from the order list is a plain error
    (500 with Go's text)."""
    original = {"metadata": {"name": "x", "finalizers": ["a"]}}
    err = failure(original, {"metadata": {"$setElementOrder/finalizers": ["a"], "finalizers": ["b"]}})
    assert err.code == 500
    assert err.message == "The order in patch list:\n[b]\n doesn't match $setElementOrder list:\n[a]\n"


def test_set_element_order_needs_the_slash() -> None:
    """[GO] ``extractKey``: ``ErrBadPatchFormatForSetElementOrderList`` is a 400 BadRequest."""
    err = failure({"metadata": {"name": "x"}}, {"metadata": {"$setElementOrder": []}})
    assert (err.code, err.message) == (400, "invalid patch format of setElementOrder list")


# -- $retainKeys ---------------------------------------------------------------------------------------


def test_retain_keys_clears_the_other_fields() -> None:
    """[TASK] "Use strategic merge patch to update a Deployment using the retainKeys strategy": retaining only
    ``type`` removes ``rollingUpdate``."""
    original = {"metadata": {"name": "retainkeys-demo"}, "spec": {"strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "30%"}}}}
    result = patch_deployment(original, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_on_a_union_in_a_merged_list() -> None:
    """[SMP] "`retainKeys` Directive / Map": switching a volume's source (``volumes`` is
    ``merge,retainKeys``) clears the fields not listed."""
    original = pod(volumes=[{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}])
    result = patch_pod(original, {"spec": {"volumes": [
        {"$retainKeys": ["configMap", "name"], "name": "v", "configMap": {"name": "cm"}}]}})
    assert result["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "emptyDir": {}}]


def test_retain_keys_must_cover_the_patch() -> None:
    """[TASK] "Notes on the strategic merge patch using the retainKeys strategy": the fields in the patch must
    be in ``$retainKeys``. [GO] the error is ``ErrBadPatchFormatForRetainKeys``, which
    ``interpretStrategicMergePatchError`` answers with 400 BadRequest."""
    original = {"metadata": {"name": "x"}, "spec": {"strategy": {"type": "RollingUpdate"}}}
    err = failure(original, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate",
                                                   "rollingUpdate": {"maxSurge": 1}}}})
    assert (err.code, err.reason, err.message) == (400, "BadRequest", "invalid patch format of retainKeys")
    err = failure(original, {"spec": {"strategy": {"$retainKeys": "type"}}})
    assert (err.code, err.message) == (400, "invalid patch format of retainKeys")


# -- values the original did not have --------------------------------------------------------------


def test_directives_and_nulls_are_dropped_from_new_values() -> None:
    """[GO] ``removeDirectives`` (kubernetes#117568) and ``discardNullValuesFromPatch`` (kubernetes#107705):
    a value the original lacks is copied without its directives and nulls."""
    original = pod(containers=[{"name": "a", "image": "1"}])
    result = patch_pod(original, {"spec": {
        "securityContext": {"runAsUser": 1000, "fsGroup": None, "seLinuxOptions": {"$patch": "delete"}},
        "affinity": {"$patch": "replace", "nodeAffinity": {}},
    }})
    assert result["spec"]["securityContext"] == {"runAsUser": 1000}
    assert "affinity" not in result["spec"]


def test_directive_keys_do_not_survive_in_new_list_elements() -> None:
    """[GO] A new list element is appended verbatim, and the handler's ``FromUnstructured`` then drops keys
    that are not fields (such as ``$patch``), so the stored element has none."""
    original = pod(containers=[{"name": "a", "image": "1"}])
    result = patch_pod(original, {"spec": {"containers": [
        {"name": "b", "image": "2", "env": [{"name": "X", "value": "1", "$patch": "merge"}]}]}})
    assert result["spec"]["containers"][0] == {"name": "b", "image": "2", "env": [{"name": "X", "value": "1"}]}


# -- errors --------------------------------------------------------------------------------------


def test_missing_merge_key_is_a_plain_error() -> None:
    """[GO] ``ErrNoMergeKey`` is not one of the sentinels: 500 with Go's text (``%v`` of the map)."""
    original = deployment(containers=[{"name": "c", "image": "i"}])
    err = failure(original, in_template(containers=[{"image": "x"}]))
    assert (err.code, err.reason) == (500, "")
    assert err.message == "map: map[image:x] does not contain declared merge key: name"


def test_list_of_lists_is_unprocessable() -> None:
    """[GO] ``ErrNoListOfLists`` → ``interpretStrategicMergePatchError`` → 422 with the generic message."""
    err = failure({"metadata": {"name": "x", "finalizers": []}}, {"metadata": {"finalizers": [["a"]]}})
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message == "the server rejected our request due to an error in our request"


def test_mixed_element_types_are_a_plain_error() -> None:
    """[GO] ``sliceElementType``: the live and patch elements must have one type."""
    err = failure({"metadata": {"name": "x", "finalizers": ["a"]}}, {"metadata": {"finalizers": [1]}})
    assert (err.code, err.message) == (500, "list element types are not identical: [[a] [1]]")


def test_unknown_patch_directive_value() -> None:
    """[GO] ``ErrBadPatchType``, with Go's ``%s`` of a non-string value."""
    err = failure({"metadata": {"name": "x"}, "spec": {}}, {"spec": {"$patch": 1}})
    assert (err.code, err.message) == (500, "unknown patch type: %!s(int64=1) in map: map[$patch:1]")


def test_top_level_directives() -> None:
    """[SMP] "`replace` Directive" and "`delete` Directive" apply to the top-level map too."""
    original = {"metadata": {"name": "x"}, "spec": {"replicas": 1}}
    assert patch_deployment(original, {"$patch": "delete"}) == {}
    assert patch_deployment(original, {"$patch": "replace", "metadata": {"name": "x"}}) == {"metadata": {"name": "x"}}
