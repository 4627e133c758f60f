"""Managed fields: field sets, their FieldsV1 encoding, and who owns what after every write.

Two sources are mirrored here:

* ``sigs.k8s.io/structured-merge-diff`` (``fieldpath``: sets of field paths and their JSON form;
  ``typed``: ToFieldSet, Compare, Merge and RemoveItems over a value and its schema; ``merge.Updater``:
  Update, Apply and prune, which decide ownership and conflicts);
* ``k8s.io/apimachinery/pkg/util/managedfields/internal``: the manager layers around the updater
  (``managedfields.go`` encodes and sorts the entries, ``stripmeta.go`` drops metadata that nobody owns,
  ``managedfieldsupdater.go`` keeps the times, ``capmanagers.go`` folds old updaters into
  ``ancient-changes``, ``skipnonapplied.go`` leaves untracked objects untracked, ``fieldmanager.go``
  decodes the managedFields of the request or of the live object).

Types come from the 1.37 schemas (``server/schema.py``): ``x-kubernetes-list-type`` (atomic, set, map with
``x-kubernetes-list-map-keys``), ``x-kubernetes-map-type``, and unknown content is "deduced" (maps granular,
lists atomic), as the apiserver does for unstructured data. Values are plain JSON (dicts, lists, scalars).

Server-side apply itself (the request, the version check, last-applied handling) is in
``server/patch/apply.py``; it uses :class:`FieldManager` from here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from kubeproof.clock import Clock
from kubeproof.server import schema as schemas
from kubeproof.server.registry.base import JSON_CONTAINERS, JSON_NUMBERS, ResourceType
from kubeproof.server.registry.generic import now_rfc3339
from kubeproof.server.validation.field import FieldError, go_quote, too_long
from kubeproof.server.validation.field import invalid as invalid_field

Obj = dict[str, Any]
#: A schema node (``server/schema.py`` format), or None for "deduced" (typed by the value itself).
TypeRef = dict[str, Any] | None

#: ``validation.FieldManagerMaxLength``.
FIELD_MANAGER_MAX_LENGTH = 128
#: ``DefaultMaxUpdateManagers`` (``fieldmanager.go``).
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
BEFORE_FIRST_APPLY = "before-first-apply"
CURRENT_OPERATION = "current-operation"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


#: A field that is not there at all (as opposed to JSON ``null``).
ABSENT: Any = _Absent()


# ---------------------------------------------------------------------------------------------------
# Path elements (fieldpath/element.go, serialize-pe.go)
# ---------------------------------------------------------------------------------------------------
#
# A path element is a tuple: ("f", name) a field, ("k", ((name, cv), ...)) a list item by its keys
# (sorted by name), ("v", cv) a set item by value, ("i", n) an index. ``cv`` is a canonical, hashable
# form of a JSON value (see ``canon``).

PathElement = tuple[Any, ...]
Path = tuple[PathElement, ...]

_RANK = {"n": 0, "s": 1, "b": 2, "l": 3, "m": 4, "z": 5}


def canon(value: Any) -> tuple[Any, ...]:
    """A hashable form of a JSON value with Go's equality (``true`` is not ``1``; ``1`` is ``1.0``)."""
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, JSON_NUMBERS):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("m", tuple(sorted((str(k), canon(v)) for k, v in value.items())))
    return ("s", str(value))


def uncanon(cv: tuple[Any, ...]) -> Any:
    tag = cv[0]
    if tag == "z":
        return None
    if tag in ("b", "n", "s"):
        return cv[1]
    if tag == "l":
        return [uncanon(v) for v in cv[1]]
    return {k: uncanon(v) for k, v in cv[1]}


def _cv_key(cv: tuple[Any, ...]) -> tuple[Any, ...]:
    """``value.Compare``: numbers < strings < booleans < lists < maps < null."""
    tag = cv[0]
    if tag in ("n", "s", "b"):
        return (_RANK[tag], cv[1])
    if tag == "l":
        return (3, tuple(_cv_key(v) for v in cv[1]))
    if tag == "m":
        return (4, tuple((k, _cv_key(v)) for k, v in cv[1]))
    return (5,)


def pe_sort_key(pe: PathElement) -> tuple[Any, ...]:
    """``PathElement.Compare``: fields, then keys, then values, then indexes."""
    tag = pe[0]
    if tag == "f":
        return (0, pe[1])
    if tag == "k":
        return (1, tuple((name, _cv_key(cv)) for name, cv in pe[1]))
    if tag == "v":
        return (2, _cv_key(pe[1]))
    return (3, pe[1])


def go_json(value: Any) -> str:
    """JSON as Go's ``encoding/json`` (and jsoniter's standard-library config) writes it: HTML-safe."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(go_json(str(k)) + ":" + go_json(value[k]) for k in sorted(value)) + "}"
    return go_json(str(value))


def pe_serialize(pe: PathElement) -> str:
    """The FieldsV1 key of a path element: ``f:name``, ``k:{"name":"x"}``, ``v:"x"``, ``i:0``."""
    tag = pe[0]
    if tag == "f":
        return "f:" + str(pe[1])
    if tag == "k":
        return "k:{" + ",".join(go_json(name) + ":" + go_json(uncanon(cv)) for name, cv in pe[1]) + "}"
    if tag == "v":
        return "v:" + go_json(uncanon(pe[1]))
    return f"i:{pe[1]}"


class UnknownPathElement(ValueError):
    """A FieldsV1 key of a type this version does not know (ignored, as ``readIterV1`` does)."""


def pe_parse(text: str) -> PathElement:
    if len(text) < 2:
        raise ValueError("key must be 2 characters long:")
    if text[1] != ":":
        raise ValueError(f"missing colon: {text}")
    tag, body = text[0], text[2:]
    if tag == "f":
        return ("f", body)
    if tag == "v":
        return ("v", canon(orjson.loads(body)))
    if tag == "k":
        fields = orjson.loads(body)
        if not isinstance(fields, dict):
            raise ValueError(f"expected an object in key {text!r}")
        return ("k", tuple(sorted((str(k), canon(v)) for k, v in fields.items())))
    if tag == "i":
        return ("i", int(body))
    raise UnknownPathElement("unknown path element type")


def value_string(value: Any) -> str:
    """``value.ToString``: strings quoted Go-style, maps as ``k=v`` pairs."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return "[" + ",".join(value_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "".join(f"{k}={value_string(value[k])}" for k in sorted(value))
    return str(value)


def pe_string(pe: PathElement) -> str:
    """``PathElement.String``: ``.name``, ``[name="x"]``, ``[="x"]``, ``[0]``."""
    tag = pe[0]
    if tag == "f":
        return "." + str(pe[1])
    if tag == "k":
        return "[" + ",".join(f"{name}={value_string(uncanon(cv))}" for name, cv in pe[1]) + "]"
    if tag == "v":
        return f"[={value_string(uncanon(pe[1]))}]"
    return f"[{pe[1]}]"


def path_string(path: Path) -> str:
    return "".join(pe_string(pe) for pe in path)


# ---------------------------------------------------------------------------------------------------
# Field sets (fieldpath/set.go, serialize.go)
# ---------------------------------------------------------------------------------------------------


class FieldSet:
    """A set of field paths as a trie: ``members`` end here, ``children`` go deeper (never empty)."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for path in paths:
            out.insert(path)
        return out

    def empty(self) -> bool:
        return not self.members and not self.children

    def insert(self, path: Path) -> None:
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        node.members.add(path[-1])

    def has(self, path: Path) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
            if node is None:
                return False
        return node is not None and path[-1] in node.members

    def with_prefix(self, pe: PathElement) -> FieldSet:
        return self.children.get(pe) or _EMPTY

    def node(self, path: Path) -> FieldSet:
        """The node at ``path``, created on the way. Only for building a set: the caller must make the
        node non-empty (children are never empty)."""
        node = self
        for pe in path:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        return node

    def union(self, other: FieldSet) -> FieldSet:
        # A set is never changed once built, so the results share the subtrees they take whole.
        if other.empty():
            return self
        if self.empty():
            return other
        out = FieldSet()
        out.members = self.members | other.members
        out.children = dict(self.children)
        for pe, b in other.children.items():
            a = out.children.get(pe)
            out.children[pe] = b if a is None else a.union(b)
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe, child in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None:
                both = child.intersection(theirs)
                if not both.empty():
                    out.children[pe] = both
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        if other.empty() or self.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            theirs = other.children.get(pe)
            if theirs is None:
                out.children[pe] = child
                continue
            rest = child.difference(theirs)
            if not rest.empty():
                out.children[pe] = rest
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Removes every path of ``other`` **and everything below it**."""
        if other.empty() or self.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            if theirs is None:
                out.children[pe] = child
                continue
            rest = child.recursive_difference(theirs)
            if not rest.empty():
                out.children[pe] = rest
        return out

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """``Set.Iterate``: this level's members in order, then each child's paths in order."""
        for pe in sorted(self.members, key=pe_sort_key):
            yield (*prefix, pe)
        for pe in sorted(self.children, key=pe_sort_key):
            yield from self.children[pe].paths((*prefix, pe))

    def ensure_named_fields_are_members(self, tref: TypeRef | _NoType) -> FieldSet:
        """Adds the declared (struct) fields that have children as members (``EnsureNamedFieldsAreMembers``)."""
        atom = schema_atom(tref)
        out = FieldSet()
        out.members = set(self.members)
        for pe, child in self.children.items():
            child_type: TypeRef | _NoType = NO_TYPE
            if pe[0] == "f" and atom is not None and atom.kind == "map":
                if pe[1] in atom.fields:
                    out.members.add(pe)
                    child_type = atom.fields[pe[1]]
                else:
                    child_type = atom.elem
            elif pe[0] == "k" and atom is not None and atom.kind == "list":
                child_type = atom.item
            out.children[pe] = child.ensure_named_fields_are_members(child_type)
        return out

    def to_fields_v1(self) -> dict[str, Any]:
        """The FieldsV1 JSON object (``Set.ToJSON``): ``"."`` marks a path that is also a member."""
        return self._emit(False)

    def _emit(self, include_self: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if include_self and not self.empty():
            out["."] = {}
        members, children = self.members, self.children
        pes = members | children.keys()
        if all(pe[0] == "f" for pe in pes):
            # Only fields (the common case): their order is their names' order, and so is the tuples'.
            for pe in sorted(pes):
                child = children.get(pe)
                out["f:" + pe[1]] = child._emit(pe in members) if child is not None else {}
            return out
        for pe in sorted(pes, key=pe_sort_key):
            child = children.get(pe)
            out[pe_serialize(pe)] = child._emit(pe in members) if child is not None else {}
        return out

    @classmethod
    def from_fields_v1(cls, data: Any) -> FieldSet:
        """``Set.FromJSON``; raises ValueError on malformed input."""
        if not isinstance(data, dict):
            raise ValueError("FieldsV1 must be a JSON object")
        children, _ = cls._read(data)
        return children or cls()

    @classmethod
    def _read(cls, data: dict[str, Any]) -> tuple[FieldSet | None, bool]:
        children: FieldSet | None = None
        is_member = False
        for key, value in data.items():
            if key == ".":
                is_member = True
                continue
            try:
                pe = pe_parse(key)
            except UnknownPathElement:
                continue
            except (ValueError, orjson.JSONDecodeError) as exc:
                raise ValueError(f"parsing key as path element: {exc}") from None
            if not isinstance(value, dict):
                raise ValueError(f"expected an object for {key!r}")
            grandchildren, child_member = cls._read(value)
            if child_member:
                children = children or cls()
                children.members.add(pe)
            if grandchildren is not None and not grandchildren.empty():
                children = children or cls()
                children.children[pe] = grandchildren
        if children is None:
            is_member = True
        return children, is_member

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and self.members == other.members and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self.paths()) + ")"


_EMPTY = FieldSet()


# ---------------------------------------------------------------------------------------------------
# Types (schema.Atom after kube-openapi's schemaconv)
# ---------------------------------------------------------------------------------------------------


class _NoType:
    """The zero TypeRef: nothing is known below (EnsureNamedFieldsAreMembers adds nothing)."""


NO_TYPE = _NoType()


@dataclass
class Atom:
    kind: str  # "scalar" | "map" | "list"
    definition: str = ""
    # map
    fields: dict[str, TypeRef] = field(default_factory=dict)
    elem: TypeRef | _NoType = NO_TYPE  # additionalProperties; None = deduced; NO_TYPE = none allowed
    atomic: bool = False
    # list
    list_type: str = "atomic"  # atomic | set | map
    keys: tuple[str, ...] = ()
    item: TypeRef = None
    item_defaults: dict[str, Any] = field(default_factory=dict)
    # scalar
    scalar: str = "untyped"  # string | numeric | boolean | untyped


_SCALAR = Atom("scalar")
_DEDUCED_MAP = Atom("map", elem=None)
_DEDUCED_LIST = Atom("list", item=None)
#: Defaults of list-map key fields the OpenAPI documents (the stored schemas carry no ``default``).
KEY_DEFAULTS = {"protocol": "TCP"}
_SCALAR_TYPES = {"string": "string", "integer": "numeric", "number": "numeric", "boolean": "boolean"}
_atoms: dict[int, tuple[dict[str, Any], Atom | None]] = {}


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("type")
    if isinstance(value, str):
        return {value} - {"null"}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)} - {"null"}
    return set()


def schema_atom(tref: TypeRef | _NoType) -> Atom | None:
    """The type of a schema node, or None when it is deduced from the value (or unknown)."""
    if tref is None or isinstance(tref, _NoType):
        return None
    cached = _atoms.get(id(tref))
    if cached is not None and cached[0] is tref:
        return cached[1]
    atom = _build_atom(tref)
    _atoms[id(tref)] = (tref, atom)
    return atom


def _build_atom(node: dict[str, Any]) -> Atom | None:
    definition = ""
    ref = node.get("$ref")
    target = node
    if isinstance(ref, str) and ref.startswith(schemas.REF_PREFIX):
        definition = ref[len(schemas.REF_PREFIX):]
        target = schemas.definitions().get(definition) or {}
    types = _types(target)
    if target.get("x-kubernetes-int-or-string") or (not types and ("oneOf" in target or "anyOf" in target)):
        return _SCALAR
    if "array" in types:
        list_type = node.get("x-kubernetes-list-type") or target.get("x-kubernetes-list-type")
        keys: tuple[str, ...] = tuple(node.get("x-kubernetes-list-map-keys") or target.get("x-kubernetes-list-map-keys")
                                      or ())
        if list_type is None:
            # schemaconv: a list without a list-type is atomic, unless its patch strategy merges it.
            strategy = str(node.get("x-kubernetes-patch-strategy") or "")
            if "merge" in strategy.split(","):
                merge_key = node.get("x-kubernetes-patch-merge-key")
                list_type, keys = ("map", (merge_key,)) if merge_key else ("set", ())
            else:
                list_type = "atomic"
        items = target.get("items")
        item = items if isinstance(items, dict) else None
        defaults: dict[str, Any] = {}
        if list_type == "map" and item is not None:
            item_target = schemas.resolve(item) or {}
            props = item_target.get("properties") or {}
            for key in keys:
                prop = props.get(key) or {}
                if "default" in prop:
                    defaults[key] = prop["default"]
                elif key in KEY_DEFAULTS:
                    defaults[key] = KEY_DEFAULTS[key]
        return Atom("list", definition, list_type=str(list_type), keys=keys, item=item, item_defaults=defaults)
    props = target.get("properties")
    additional = target.get("additionalProperties")
    if "object" in types or props is not None or isinstance(additional, dict):
        if not props and not isinstance(additional, dict):
            return None  # an object of any shape (RawExtension, JSON): deduced
        elem: TypeRef | _NoType = NO_TYPE
        if isinstance(additional, dict):
            elem = additional
        elif additional is True or target.get("x-kubernetes-preserve-unknown-fields"):
            elem = None
        map_type = node.get("x-kubernetes-map-type") or target.get("x-kubernetes-map-type")
        return Atom("map", definition, fields=dict(props or {}), elem=elem, atomic=map_type == "atomic")
    if types & _SCALAR_TYPES.keys():
        scalar = {_SCALAR_TYPES[t] for t in types & _SCALAR_TYPES.keys()}
        return Atom("scalar", definition, scalar=scalar.pop() if len(scalar) == 1 else "untyped")
    if target.get("x-kubernetes-preserve-unknown-fields") or not types:
        return None
    return _SCALAR


def atom_for(tref: TypeRef | _NoType, value: Any) -> Atom:
    """The type to walk ``value`` with: the schema's, or one deduced from the value."""
    atom = schema_atom(tref)
    if atom is not None:
        return atom
    if isinstance(value, dict):
        return _DEDUCED_MAP
    if isinstance(value, list):
        return _DEDUCED_LIST
    return _SCALAR


def _fits(atom: Atom, value: Any) -> bool:
    if value is None or value is ABSENT:
        return True
    if atom.kind == "map":
        return isinstance(value, dict)
    if atom.kind == "list":
        return isinstance(value, list)
    return not isinstance(value, JSON_CONTAINERS)


def child_type(atom: Atom, name: str) -> TypeRef | _NoType:
    if name in atom.fields:
        return atom.fields[name]
    return atom.elem


def _child(atom: Atom, name: str) -> TypeRef:
    """The type of a map entry for walking values: unknown entries are deduced (lenient)."""
    t = child_type(atom, name)
    return None if isinstance(t, _NoType) else t


class ItemKeyError(ValueError):
    """A list item that cannot be addressed (missing key, map in a set, ...)."""


def item_pe(atom: Atom, item: Any) -> PathElement:
    """``listItemToPathElement`` for an associative list."""
    if atom.keys:
        if item is None:
            raise ItemKeyError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise ItemKeyError("associative list with keys may not have non-map elements")
        fields = []
        for key in atom.keys:
            if key in item:
                fields.append((key, canon(item[key])))
            elif key in atom.item_defaults:
                fields.append((key, canon(atom.item_defaults[key])))
            else:
                raise ItemKeyError(
                    f'associative list with keys has an element that omits key field "{key}" '
                    "(and doesn't have default value)"
                )
        return ("k", tuple(sorted(fields)))
    if isinstance(item, dict):
        raise ItemKeyError("associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise ItemKeyError("not supported: associative list with lists as elements")
    return ("v", canon(item))


def _is_associative(atom: Atom) -> bool:
    return atom.kind == "list" and atom.list_type != "atomic"


# ---------------------------------------------------------------------------------------------------
# typed: validation of an applied configuration (typed/validate.go)
# ---------------------------------------------------------------------------------------------------


def _go_type(value: Any) -> str:
    """``%T`` of a value decoded into ``interface{}``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "<nil>"


def validate(value: Any, tref: TypeRef) -> list[str]:
    """The ``ValidationErrors`` of converting ``value`` to the typed form (duplicates not allowed)."""
    errs: list[str] = []
    _validate(value, tref, "", errs)
    return errs


def _validate(value: Any, tref: TypeRef | _NoType, path: str, errs: list[str]) -> None:
    if isinstance(tref, _NoType):
        errs.append(f"{path}: field not declared in schema")
        return
    atom = atom_for(tref, value)
    if value is None:
        return
    if atom.kind == "scalar":
        if isinstance(value, JSON_CONTAINERS):
            expected = {"numeric": "numeric (int or float)", "boolean": "boolean"}.get(atom.scalar, atom.scalar)
            expected = "any scalar" if atom.scalar == "untyped" else expected
            errs.append(f"{path}: expected {expected}, got {_go_type(value)}")
        elif atom.scalar == "numeric" and (isinstance(value, bool) or not isinstance(value, JSON_NUMBERS)):
            errs.append(f"{path}: expected numeric (int or float), got {_go_type(value)}")
        elif atom.scalar == "string" and not isinstance(value, str):
            errs.append(f"{path}: expected string, got {go_json(value)}")
        elif atom.scalar == "boolean" and not isinstance(value, bool):
            errs.append(f"{path}: expected boolean, got {go_json(value)}")
        return
    if atom.kind == "list":
        if not isinstance(value, list):
            errs.append(f"{path}: expected list, got {go_json(value)}")
            return
        seen: set[PathElement] = set()
        for index, item in enumerate(value):
            if not _is_associative(atom):
                _validate(item, atom.item, f"{path}[{index}]", errs)
                continue
            try:
                pe = item_pe(atom, item)
            except ItemKeyError as exc:
                errs.append(f"{path}: element {index}: {exc}")
                return
            if pe in seen:
                errs.append(f"{path}: duplicate entries for key {pe_string(pe)}")
            seen.add(pe)
            _validate(item, atom.item, path + pe_string(pe), errs)
        return
    if not isinstance(value, dict):
        errs.append(f"{path}: expected map, got {go_json(value)}")
        return
    for key, item in value.items():
        _validate(item, child_type(atom, key), f"{path}.{key}", errs)


def validation_message(errs: list[str]) -> str:
    """``ValidationErrors.Error()``."""
    if len(errs) == 1:
        return errs[0]
    return "\n".join(["errors:", *("  " + e for e in errs)])


# ---------------------------------------------------------------------------------------------------
# typed: ToFieldSet, Compare, Merge, RemoveItems
# ---------------------------------------------------------------------------------------------------


def to_field_set(value: Any, tref: TypeRef) -> FieldSet:
    """``TypedValue.ToFieldSet``: leaves, list items (and their contents), and undeclared map keys."""
    out = FieldSet()
    _tfs(value, tref, (), out)
    return out


def _tfs(value: Any, tref: TypeRef, path: Path, out: FieldSet) -> None:
    atom = atom_for(tref, value)
    if atom.kind == "scalar" or not _fits(atom, value):
        out.insert(path)
        return
    if atom.kind == "list":
        if atom.list_type == "atomic":
            out.insert(path)
            return
        for item in value or ():
            try:
                pe = item_pe(atom, item)
            except ItemKeyError:
                continue
            sub = (*path, pe)
            _tfs(item, atom.item, sub, out)
            out.insert(sub)
        return
    if atom.atomic:
        out.insert(path)
        return
    for key, item in (value or {}).items():
        sub = (*path, ("f", key))
        _tfs(item, _child(atom, key), sub, out)
        if key not in atom.fields:
            out.insert(sub)


@dataclass
class Comparison:
    removed: FieldSet
    modified: FieldSet
    added: FieldSet

    def exclude(self, fields: FieldSet) -> Comparison:
        if fields.empty():
            return self
        return Comparison(self.removed.recursive_difference(fields), self.modified.recursive_difference(fields),
                          self.added.recursive_difference(fields))

    def is_same(self) -> bool:
        return self.removed.empty() and self.modified.empty() and self.added.empty()


def compare(lhs: Any, rhs: Any, tref: TypeRef) -> Comparison:
    """``TypedValue.Compare``: leaves removed, modified or added, and non-leaf paths that appear or go."""
    result = Comparison(FieldSet(), FieldSet(), FieldSet())
    _cmp(lhs, rhs, tref, (), result)
    return result


def _index_items(atom: Atom, items: Any) -> dict[PathElement, Any]:
    index: dict[PathElement, Any] = {}
    for item in items if isinstance(items, list) else ():
        try:
            pe = item_pe(atom, item)
        except ItemKeyError:
            continue
        index.setdefault(pe, item)  # repeated occurrences are ignored
    return index


def _cmp(lhs: Any, rhs: Any, tref: TypeRef, path: Path, out: Comparison) -> None:
    if lhs is ABSENT and path and rhs is not ABSENT:
        _added(rhs, tref, out.added.node(path[:-1]), path[-1])
        return
    atom = atom_for(tref, rhs if rhs is not ABSENT else lhs)
    leaf = atom.kind == "scalar" or not (_fits(atom, lhs) and _fits(atom, rhs))
    if not leaf and atom.kind == "list":
        leaf = atom.list_type == "atomic" or (not _present(lhs) and not _present(rhs))
    elif not leaf and atom.kind == "map":
        leaf = atom.atomic or (not _present(lhs) and not _present(rhs))
    if leaf:
        if lhs is ABSENT:
            out.added.insert(path)
        elif rhs is ABSENT:
            out.removed.insert(path)
        elif canon(lhs) != canon(rhs):
            out.modified.insert(path)
        return
    added: FieldSet | None = None  # this path's node in out.added, once something new is below it
    if atom.kind == "list":
        left = _index_items(atom, lhs)
        right = _index_items(atom, rhs)
        for pe, item in right.items():
            old = left.get(pe, ABSENT)
            if old is ABSENT:
                _added(item, atom.item, added or (added := out.added.node(path)), pe)
            else:
                _cmp(old, item, atom.item, (*path, pe), out)
        for pe, item in left.items():
            if pe not in right:
                _cmp(item, ABSENT, atom.item, (*path, pe), out)
    else:
        left_map = lhs if isinstance(lhs, dict) else {}
        right_map = rhs if isinstance(rhs, dict) else {}
        for key in left_map:
            _cmp(left_map[key], right_map.get(key, ABSENT), _child(atom, key), (*path, ("f", key)), out)
        for key, item in right_map.items():
            if key in left_map:
                continue
            _added(item, _child(atom, key), added or (added := out.added.node(path)), ("f", key))
    if lhs is ABSENT:
        out.added.insert(path)
    elif rhs is ABSENT:
        out.removed.insert(path)


def _added(value: Any, tref: TypeRef, parent: FieldSet, pe: PathElement) -> None:
    """``_cmp`` of a subtree that only the right side has (every field of a created object): each path
    is added, built straight into the parent's node rather than inserted path by path from the root."""
    atom = atom_for(tref, value)
    if atom.kind == "scalar" or not _fits(atom, value) or not _present(value) or (
        atom.list_type == "atomic" if atom.kind == "list" else atom.atomic
    ):
        parent.members.add(pe)
        return
    node = FieldSet()
    if atom.kind == "list":
        for item_pe, item in _index_items(atom, value).items():
            _added(item, atom.item, node, item_pe)
    else:
        for key, item in value.items():
            _added(item, _child(atom, key), node, ("f", key))
    if not node.empty():
        parent.children[pe] = node
    parent.members.add(pe)


def _present(value: Any) -> bool:
    """A non-empty list or map (empty and null ones compare as leaves)."""
    return isinstance(value, JSON_CONTAINERS) and len(value) > 0


def merge(lhs: Any, rhs: Any, tref: TypeRef) -> Any:
    """``TypedValue.Merge`` with the keep-RHS rule: the applied configuration wins on every leaf."""
    return _merge(lhs, rhs, tref)


def _merge(lhs: Any, rhs: Any, tref: TypeRef) -> Any:
    atom = atom_for(tref, rhs if rhs is not ABSENT else lhs)
    leaf = atom.kind == "scalar" or not (_fits(atom, lhs) and _fits(atom, rhs))
    if not leaf and atom.kind == "list":
        leaf = atom.list_type == "atomic" or (not _present(lhs) and not _present(rhs))
    elif not leaf and atom.kind == "map":
        leaf = atom.atomic or (not _present(lhs) and not _present(rhs))
    if leaf:
        return rhs if rhs is not ABSENT else lhs
    if atom.kind == "list":
        merged = _merge_list(atom, lhs if isinstance(lhs, list) else [], rhs if isinstance(rhs, list) else [])
        return merged if merged else ABSENT
    left = lhs if isinstance(lhs, dict) else {}
    right = rhs if isinstance(rhs, dict) else {}
    out: dict[str, Any] = {}
    for key in [*left, *(k for k in right if k not in left)]:
        value = _merge(left.get(key, ABSENT), right.get(key, ABSENT), _child(atom, key))
        if value is not ABSENT:
            out[key] = value
    return out if out else ABSENT


def _ordered(atom: Atom, items: list[Any]) -> tuple[list[PathElement], dict[PathElement, Any]]:
    order: list[PathElement] = []
    index: dict[PathElement, Any] = {}
    for item in items:
        pe = item_pe(atom, item)  # ItemKeyError propagates: the merge fails
        if pe in index:
            continue
        index[pe] = item
        order.append(pe)
    return order, index


def _merge_list(atom: Atom, lhs: list[Any], rhs: list[Any]) -> list[Any]:
    """``mergingWalker.visitListItems``: the applied order wins for shared items; live-only items keep their place."""
    r_order, r_items = _ordered(atom, rhs)
    l_order, l_items = _ordered(atom, lhs)
    shared = [pe for pe in r_order if pe in l_items]
    shared_iter = iter(shared)
    next_shared = next(shared_iter, None)
    merged_rhs: set[PathElement] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(l_order) or ri < len(r_order):
        if li < len(l_order) and ri < len(r_order):
            pe = l_order[li]
            if pe == r_order[ri]:
                merged_rhs.add(pe)
                value = _merge(l_items[pe], r_items[pe], atom.item)
                if value is not ABSENT:
                    out.append(value)
                li += 1
                ri += 1
                next_shared = next(shared_iter, None)
                continue
            if pe in r_items and next_shared is not None and next_shared != pe:
                li += 1  # shared, but not the one wanted in this round
                continue
        if li < len(l_order):
            pe = l_order[li]
            if pe not in r_items:
                value = _merge(l_items[pe], ABSENT, atom.item)
                if value is not ABSENT:
                    out.append(value)
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
                continue
        if ri < len(r_order):
            pe = r_order[ri]
            merged_rhs.add(pe)
            value = _merge(l_items.get(pe, ABSENT), r_items[pe], atom.item)
            if value is not ABSENT:
                out.append(value)
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = next(shared_iter, None)
    return out


def remove_items(value: Any, to_remove: FieldSet, tref: TypeRef) -> Any:
    """``TypedValue.RemoveItems``: drops every path in the set (and what is below it).

    Containers emptied by removing what was inside them stay as empty containers (smd v6).
    """
    result = _remove(value, to_remove, tref)
    return {} if result is ABSENT else result


def _remove(value: Any, to_remove: FieldSet, tref: TypeRef) -> Any:
    atom = atom_for(tref, value)
    if atom.kind == "scalar":
        return value
    if atom.kind == "list":
        if not isinstance(value, list):
            return ABSENT
        if not value or atom.list_type == "atomic":
            return ABSENT
        items: list[Any] = []
        had_matches = False
        for item in value:
            try:
                pe = item_pe(atom, item)
            except ItemKeyError:
                items.append(item)
                continue
            if pe in to_remove.members:
                continue
            subset = to_remove.children.get(pe)
            if subset is not None:
                had_matches = True
                new = _remove(item, subset, atom.item)
                if new is ABSENT or new is None:
                    new = {} if isinstance(item, dict) else ([] if isinstance(item, list) else None)
                item = new
            items.append(item)
        return items if items or had_matches else ABSENT
    if not isinstance(value, dict):
        return ABSENT
    if not value or atom.atomic:
        return ABSENT
    out: dict[str, Any] = {}
    had = False
    for key, item in value.items():
        pe = ("f", key)
        if pe in to_remove.members:
            continue
        subset = to_remove.children.get(pe)
        if subset is not None:
            had = True
            new = _remove(item, subset, _child(atom, key))
            if new is ABSENT or new is None:
                new = {} if isinstance(item, dict) else ([] if isinstance(item, list) else None)
            item = new
        out[key] = item
    return out if out or had else ABSENT


# ---------------------------------------------------------------------------------------------------
# Go-typed views of built-in objects
# ---------------------------------------------------------------------------------------------------
#
# The apiserver compares Go structs. Two things differ from the JSON a client sends: fields that are
# value structs in Go are always there (``{}`` at least), and ``omitempty`` drops nil pointers and empty
# maps and slices. That decides, for example, that ``spec`` of a newly created Deployment is not "added"
# (so its FieldsV1 entry has no ``"."``) while ``rollingUpdate`` (a pointer) is.

#: Go value-struct fields per definition (the zero object has them as ``{}``). Top-level ``metadata``,
#: ``spec`` and ``status`` of every kind are value structs too.
VALUE_STRUCTS: dict[str, tuple[str, ...]] = {
    "io.k8s.api.core.v1.PodTemplateSpec": ("metadata", "spec"),
    "io.k8s.api.core.v1.Container": ("resources",),
    "io.k8s.api.core.v1.EphemeralContainer": ("resources",),
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec": ("resources",),
    "io.k8s.api.core.v1.PersistentVolumeClaim": ("metadata", "spec", "status"),
    "io.k8s.api.core.v1.PersistentVolumeClaimTemplate": ("metadata", "spec"),
    "io.k8s.api.apps.v1.DeploymentSpec": ("template", "strategy"),
    "io.k8s.api.apps.v1.StatefulSetSpec": ("template", "updateStrategy"),
    "io.k8s.api.apps.v1.DaemonSetSpec": ("template", "updateStrategy"),
    "io.k8s.api.apps.v1.ReplicaSetSpec": ("template",),
    "io.k8s.api.batch.v1.JobSpec": ("template",),
    "io.k8s.api.batch.v1.CronJobSpec": ("jobTemplate",),
    "io.k8s.api.batch.v1.JobTemplateSpec": ("metadata", "spec"),
    "io.k8s.api.networking.v1.NetworkPolicySpec": ("podSelector",),
    "io.k8s.api.networking.v1.HTTPIngressPath": ("backend",),
    "io.k8s.api.rbac.v1.RoleBinding": ("roleRef",),
    "io.k8s.api.rbac.v1.ClusterRoleBinding": ("roleRef",),
    "io.k8s.api.core.v1.Event": ("involvedObject", "source"),
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec": ("scaleTargetRef",),
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec": ("scaleTargetRef",),
}
#: Container fields without ``omitempty``: ``null`` in the zero object.
NULL_FIELDS: dict[str, tuple[str, ...]] = {
    "io.k8s.api.core.v1.PodSpec": ("containers",),
    "io.k8s.api.rbac.v1.Role": ("rules",),
    "io.k8s.api.rbac.v1.ClusterRole": ("rules",),
}
_ROOT_VALUE_STRUCTS = ("metadata", "spec", "status")


def go_view(value: Any, tref: TypeRef, *, zero: bool, root: bool = False) -> Any:
    """``value`` as the Go struct would serialize it: nulls and empty maps/lists dropped; with ``zero``, the
    value-struct fields a Go object always has are filled in."""
    atom = schema_atom(tref)
    if atom is None or not _fits(atom, value) or atom.kind == "scalar":
        return value
    if atom.kind == "list":
        if not isinstance(value, list) or atom.list_type == "atomic":
            return value
        return [go_view(item, atom.item, zero=zero) for item in value]
    if not isinstance(value, dict) or atom.atomic or not atom.fields:
        return value
    keep_null = NULL_FIELDS.get(atom.definition, ())
    fields = atom.fields
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            out[key] = item
            continue
        if item is None:
            if key in keep_null:
                out[key] = None
            continue
        if not isinstance(item, JSON_CONTAINERS):
            out[key] = item  # a scalar is its own view
            continue
        item_type = fields[key]
        if not item and key not in keep_null:
            item_atom = schema_atom(item_type)
            if item_atom is not None and (item_atom.kind == "list" or not item_atom.fields):
                continue  # omitempty map or slice
        out[key] = go_view(item, item_type, zero=zero)
    if zero:
        structs = VALUE_STRUCTS.get(atom.definition, ())
        if root:
            structs = (*structs, *_ROOT_VALUE_STRUCTS)
        for key in structs:
            if key in atom.fields and key not in out:
                out[key] = go_view({}, atom.fields[key], zero=True)
        for key in keep_null:
            if key in atom.fields and key not in out:
                out[key] = None
    return out


# ---------------------------------------------------------------------------------------------------
# Manager identifiers and the managedFields encoding (managedfields.go)
# ---------------------------------------------------------------------------------------------------


@dataclass
class VersionedSet:
    set: FieldSet
    api_version: str
    applied: bool


Managers = dict[str, VersionedSet]
Times = dict[str, "str | None"]


@functools.lru_cache(maxsize=1024)  # a few managers write again and again
def manager_identifier(manager: str, operation: str, api_version: str, subresource: str = "") -> str:
    """``BuildManagerIdentifier``: the JSON of the entry without fieldsType, fields and time (and without
    apiVersion for appliers, so an applier keeps one entry across versions)."""
    parts = [f'"manager":{go_json(manager)}'] if manager else []
    parts.append(f'"operation":{go_json(operation)}')
    if operation != "Apply" and api_version:
        parts.append(f'"apiVersion":{go_json(api_version)}')
    if subresource:
        parts.append(f'"subresource":{go_json(subresource)}')
    return "{" + ",".join(parts) + "}"


class DecodeError(ValueError):
    pass


def decode_managed_fields(entries: Any) -> tuple[Managers, Times]:
    """``DecodeManagedFields``; raises DecodeError as the apiserver would fail to decode them."""
    managers: Managers = {}
    times: Times = {}
    if entries is None:
        return managers, times
    if not isinstance(entries, list):
        raise DecodeError("managedFields must be a list")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DecodeError(f"managed fields entry {index} is not an object")
        operation = entry.get("operation")
        if operation not in ("Apply", "Update"):
            raise DecodeError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion")
        if not isinstance(api_version, str) or not api_version:
            raise DecodeError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType")
        if not fields_type:
            raise DecodeError(f"missing fieldsType in managed fields entry {index}")
        if fields_type != "FieldsV1":
            raise DecodeError(f'invalid fieldsType "{fields_type}" in managed fields entry {index}')
        manager = entry.get("manager") or ""
        subresource = entry.get("subresource") or ""
        if not isinstance(manager, str) or not isinstance(subresource, str):
            raise DecodeError(f"managed fields entry {index} has a non-string manager or subresource")
        ident = manager_identifier(manager, operation, api_version, subresource)
        try:
            fields = FieldSet.from_fields_v1(entry.get("fieldsV1") if entry.get("fieldsV1") is not None else {})
        except ValueError as exc:
            raise DecodeError(f"error decoding versioned set: error decoding set: {exc}") from None
        managers[ident] = VersionedSet(fields, api_version, operation == "Apply")
        stamp = entry.get("time")
        times[ident] = stamp if isinstance(stamp, str) else None
    return managers, times


def _unix(stamp: str | None) -> int:
    if not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


@functools.lru_cache(maxsize=1024)
def _identifier_fields(ident: str) -> dict[str, Any]:
    """A manager identifier's fields (read-only: shared between calls)."""
    info = json.loads(ident)
    return info if isinstance(info, dict) else {}


def encode_managed_fields(managers: Managers, times: Times) -> list[dict[str, Any]]:
    """``encodeManagedFields`` + ``sortEncodedManagedFields``: Apply before Update, then oldest first."""
    entries: list[dict[str, Any]] = []
    for ident, versioned in managers.items():
        info = _identifier_fields(ident)
        entry: dict[str, Any] = {}
        if info.get("manager"):
            entry["manager"] = info["manager"]
        entry["operation"] = "Apply" if versioned.applied else info.get("operation", "Update")
        entry["apiVersion"] = versioned.api_version
        stamp = times.get(ident)
        if stamp:
            entry["time"] = stamp
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = versioned.set.to_fields_v1()
        if info.get("subresource"):
            entry["subresource"] = info["subresource"]
        entries.append(entry)
    entries.sort(key=lambda e: (e["operation"], _unix(e.get("time")), e.get("manager", ""), e["apiVersion"],
                                e.get("subresource", "")))
    return entries


def is_reset(entries: Any) -> bool:
    """``isResetManagedFields``: ``[]`` or ``[{}]`` asks to clear managedFields."""
    if entries is None:
        return False
    if isinstance(entries, list):
        return len(entries) == 0 or (len(entries) == 1 and entries[0] == {})
    return False


# ---------------------------------------------------------------------------------------------------
# Request helpers (handlers/rest.go, apis/meta/v1/validation)
# ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # clients send the same User-Agent on every request
def manager_from_user_agent(user_agent: str) -> str:
    """``prefixFromUserAgent``: up to the first ``/``, printable runes only, at most 128 bytes."""
    out: list[str] = []
    size = 0
    for ch in user_agent.split("/")[0]:
        if not ch.isprintable():
            continue
        width = len(ch.encode("utf-8", "surrogatepass"))
        if size + width > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += width
    return "".join(out)


def field_manager_errors(value: str | None) -> list[FieldError]:
    """``ValidateFieldManager``."""
    if not value:
        return []
    errs: list[FieldError] = []
    if len(value) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(too_long("fieldManager", FIELD_MANAGER_MAX_LENGTH))
    offset = 0
    for ch in value:
        if not ch.isprintable():
            errs.append(invalid_field(f"fieldManager[{offset}]", value, "must only contain printable characters"))
        offset += len(ch.encode("utf-8", "surrogatepass"))
    return errs


# ---------------------------------------------------------------------------------------------------
# The field manager of one resource (and subresource)
# ---------------------------------------------------------------------------------------------------

#: Fields nobody owns (``stripmeta.go``).
STRIP_SET = FieldSet.of(
    (("f", "apiVersion"),),
    (("f", "kind"),),
    (("f", "metadata"),),
    *((("f", "metadata"), ("f", name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion",
    )),
)


def custom_root_schema() -> dict[str, Any]:
    """Resources without a built-in schema: typed ObjectMeta, anything else deduced."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": schemas.REF_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        },
        "x-kubernetes-preserve-unknown-fields": True,
    }


_CUSTOM_ROOT = custom_root_schema()


@functools.cache
def _ref_schema(name: str) -> dict[str, Any]:
    return {"$ref": schemas.REF_PREFIX + name}


def root_schema(rt: ResourceType) -> tuple[dict[str, Any], bool]:
    """The schema of a resource's objects, and whether it is a built-in (Go-typed) one.

    A strategy may carry ``structural_schema`` (a custom resource's validation schema); otherwise custom
    resources get typed metadata and deduced content.
    """
    name = schemas.definition_name(rt.group, rt.version, rt.kind) if not rt.typed_list_items else None
    if name is not None:
        return _ref_schema(name), True
    structural = getattr(rt.strategy, "structural_schema", None)
    if isinstance(structural, dict):
        return structural, False
    return _CUSTOM_ROOT, False


def reset_fields(rt: ResourceType, subresource: str) -> FieldSet:
    """``GetResetFields`` of the strategy: what a write through this endpoint may not change."""
    if subresource == "status":
        root, builtin = root_schema(rt)
        atom = schema_atom(root)
        names = [n for n in (atom.fields if atom else {}) if n not in ("apiVersion", "kind", "metadata", "status")]
        reset = FieldSet.of(*((("f", n),) for n in (names or ["spec"])))
        if builtin:
            # The workload status strategies also keep the labels (e.g. deploymentStatusStrategy).
            reset.insert((("f", "metadata"), ("f", "labels")))
        return reset
    if not subresource and "status" in rt.subresources:
        return FieldSet.of((("f", "status"),))
    return FieldSet()


class ApplyConflicts(Exception):
    """``merge.Conflicts``: (manager identifier, path) pairs, managers sorted."""

    def __init__(self, conflicts: list[tuple[str, Path]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


def print_manager(ident: str) -> str:
    """``printManager`` (conflict.go): appliers by name; updaters with the API version."""
    try:
        info = json.loads(ident)
    except ValueError:
        return go_quote(ident)
    text = go_quote(str(info.get("manager", "")))
    if info.get("subresource"):
        text += f" with subresource {go_quote(str(info['subresource']))}"
    if info.get("operation") == "Update":
        return f"{text} using {info.get('apiVersion', '')}"
    return text


def conflict_status(conflicts: list[tuple[str, Path]]) -> tuple[str, list[dict[str, str]]]:
    """The message and causes of ``NewConflictError``."""
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {print_manager(m)}",
               "field": path_string(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {print_manager(manager)}: {path_string(path)}", causes
    by_manager: dict[str, list[Path]] = {}
    for manager, path in conflicts:
        by_manager.setdefault(manager, []).append(path)
    lines: list[str] = []
    for manager in sorted(by_manager):
        lines.append(f"conflicts with {print_manager(manager)}:")
        lines.extend(f"- {path_string(p)}" for p in by_manager[manager])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines), causes


def without_managed_fields(obj: Obj | None) -> Obj:
    if not obj:
        return {}
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def set_managed_fields(obj: Obj, entries: list[dict[str, Any]]) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    meta.pop("managedFields", None)
    if entries:
        meta["managedFields"] = entries


class FieldManager:
    """``FieldManager`` for one resource and subresource: the updater and the manager layers."""

    def __init__(self, rt: ResourceType, subresource: str = "") -> None:
        self.rt = rt
        self.subresource = subresource
        self.api_version = rt.api_version
        self.root, self.builtin = root_schema(rt)
        self.ignored = reset_fields(rt, subresource)

    # -- typed helpers --------------------------------------------------------------------------

    def compare(self, old: Obj, new: Obj) -> Comparison:
        if self.builtin:
            old = go_view(old, self.root, zero=True, root=True)
            new = go_view(new, self.root, zero=True, root=True)
        return compare(old, new, self.root)

    def same(self, old: Obj, new: Obj) -> bool:
        if self.builtin:
            old = go_view(old, self.root, zero=False)
            new = go_view(new, self.root, zero=False)
        return canon(old) == canon(new)

    def field_set(self, value: Any) -> FieldSet:
        return to_field_set(value, self.root)

    def ensure(self, fields: FieldSet) -> FieldSet:
        return fields.ensure_named_fields_are_members(self.root)

    def remove(self, value: Obj, fields: FieldSet) -> Obj:
        result: Obj = remove_items(value, fields, self.root)
        return result

    def normalize(self, value: Obj) -> Obj:
        """What a built-in object looks like after the round trip through its Go type."""
        if not self.builtin:
            return value
        result: Obj = go_view(value, self.root, zero=False)
        return result

    # -- merge.Updater ---------------------------------------------------------------------------

    def _update(self, old: Obj, new: Obj, managers: Managers, workflow: str,
                force: bool) -> tuple[Managers, Comparison]:
        comparison = self.compare(old, new).exclude(self.ignored)
        changed = comparison.modified.union(comparison.added)
        conflicts: dict[str, FieldSet] = {}
        for ident, versioned in managers.items():
            if ident == workflow:
                continue
            clash = versioned.set.intersection(changed)
            if not clash.empty():
                conflicts[ident] = clash
        if not force and conflicts:
            raise ApplyConflicts([(ident, path) for ident in sorted(conflicts) for path in conflicts[ident].paths()])
        out: Managers = {}
        for ident, versioned in managers.items():
            fields = versioned.set
            if ident != workflow:
                if ident in conflicts:
                    fields = fields.difference(conflicts[ident])
                if not comparison.removed.empty():
                    fields = fields.difference(comparison.removed)
            if not fields.empty():
                out[ident] = VersionedSet(fields, versioned.api_version, versioned.applied)
        return out, comparison

    def updater_update(self, live: Obj, new: Obj, managers: Managers, manager: str) -> Managers:
        """``Updater.Update``: the manager takes what changed; removed fields leave everybody."""
        managers, comparison = self._update(live, new, managers, manager, True)
        current = managers.get(manager)
        fields = current.set if current else FieldSet()
        fields = (fields.union(comparison.modified).union(comparison.added).difference(comparison.removed)
                  .recursive_difference(self.ignored))
        if fields.empty():
            managers.pop(manager, None)
        else:
            managers[manager] = VersionedSet(fields, self.api_version, False)
        return managers

    def updater_apply(self, live: Obj, config: Obj, managers: Managers, manager: str,
                      force: bool) -> tuple[Obj | None, Managers]:
        """``Updater.Apply``: merge, prune what this applier dropped, then check conflicts."""
        managers = dict(managers)
        merged = merge(live, config, self.root)
        new: Obj = merged if isinstance(merged, dict) else {}
        last = managers.get(manager)
        fields = self.field_set(config).recursive_difference(self.ignored)
        managers[manager] = VersionedSet(fields, self.api_version, True)
        new = self._prune(new, managers, last)
        managers, _ = self._update(live, new, managers, manager, force)
        if self.same(live, new):
            return None, managers
        return new, managers

    def _prune(self, merged: Obj, managers: Managers, last: VersionedSet | None) -> Obj:
        """Removes what the applier applied last time, left out now, and nobody else owns."""
        if last is None or last.set.empty():
            return merged
        last_set = self.ensure(last.set)
        pruned = self.remove(merged, last_set)
        # addBackOwnedItems: everything some manager owns (the applier's new set included) comes back.
        managed = FieldSet()
        for versioned in managers.values():
            managed = managed.union(versioned.set)
        merged_set = self.ensure(self.field_set(merged))
        pruned_set = self.ensure(self.field_set(pruned))
        pruned = self.remove(merged, merged_set.difference(pruned_set.union(self.ensure(managed))))
        # addBackDanglingItems: only what the applier owned last time may go.
        pruned_set = self.ensure(self.field_set(pruned))
        return self.remove(merged, merged_set.difference(pruned_set).intersection(last_set))

    # -- manager layers --------------------------------------------------------------------------

    def _strip(self, managers: Managers, manager: str) -> None:
        versioned = managers.get(manager)
        if versioned is None:
            return
        fields = versioned.set.difference(STRIP_SET)
        if fields.empty():
            del managers[manager]
        else:
            managers[manager] = VersionedSet(fields, versioned.api_version, versioned.applied)

    def update_managers(self, live: Obj, new: Obj, managers: Managers, times: Times, manager: str,
                        now: str) -> None:
        """CapManagers → BuildManagerInfo → ManagedFieldsUpdater → StripMeta → Updater.Update (in place)."""
        ident = manager_identifier(manager or "unknown", "Update", self.api_version, self.subresource)
        result = self.updater_update(without_managed_fields(live), without_managed_fields(new), dict(managers),
                                     CURRENT_OPERATION)
        self._strip(result, CURRENT_OPERATION)
        current = result.pop(CURRENT_OPERATION, None)
        if current is not None:
            previous = result.get(ident)
            fields = current.set.union(previous.set) if previous else current.set
            result[ident] = VersionedSet(fields, current.api_version, current.applied)
            times[ident] = now
        self._cap(result, times)
        managers.clear()
        managers.update(result)

    def _cap(self, managers: Managers, times: Times) -> None:
        """``capUpdateManagers``: past 10 updaters, the oldest merge into ``ancient-changes``."""
        updaters = [ident for ident, v in managers.items() if not v.applied]
        if len(updaters) <= MAX_UPDATE_MANAGERS:
            return
        updaters.sort(key=lambda ident: (_unix(times.get(ident)), ident))
        first_by_version: dict[str, str] = {}
        length = len(updaters)
        for ident in updaters:
            if length <= MAX_UPDATE_MANAGERS:
                break
            versioned = managers[ident]
            version = versioned.api_version
            bucket = manager_identifier(ANCIENT_CHANGES, "Update", version)
            first = first_by_version.get(version)
            if first is None:
                first_by_version[version] = ident
                continue
            if bucket not in managers:
                managers[bucket] = managers.pop(first)
            managers[bucket] = VersionedSet(versioned.set.union(managers[bucket].set), version, versioned.applied)
            del managers[ident]
            length -= 1
            times[bucket] = times.get(ident)

    def _decode_live_or_new(self, live: Obj | None, new: Obj) -> tuple[Managers, Times]:
        live_entries = ((live or {}).get("metadata") or {}).get("managedFields")

        def live_or_empty() -> tuple[Managers, Times]:
            try:
                return decode_managed_fields(live_entries)
            except DecodeError:
                return {}, {}

        if self.subresource:
            return live_or_empty()
        sent = (new.get("metadata") or {}).get("managedFields")
        if is_reset(sent):
            return {}, {}
        try:
            managers, times = decode_managed_fields(sent)
        except DecodeError:
            return live_or_empty()
        if not managers:
            return live_or_empty()
        return managers, times

    def record_update(self, live: Obj | None, new: Obj, manager: str, now: str) -> None:
        """``FieldManager.UpdateNoErrors`` for a create (``live`` None) or a write that is not an apply:
        sets ``new.metadata.managedFields``."""
        managers, times = self._decode_live_or_new(live, new)
        if not managers and live is not None and (live.get("metadata") or {}).get("uid"):
            # skipNonApplied: an object whose fields are not tracked stays untracked until an apply.
            set_managed_fields(new, [])
            return
        try:
            self.update_managers(live or {}, new, managers, times, manager, now)
        except ItemKeyError:
            # UpdateNoErrors: keep what the live object had rather than failing the write.
            set_managed_fields(new, list(((live or {}).get("metadata") or {}).get("managedFields") or []))
            return
        set_managed_fields(new, encode_managed_fields(managers, times))


_field_managers: dict[tuple[int, str], tuple[ResourceType, Any, FieldManager]] = {}


def field_manager_for(rt: ResourceType, subresource: str = "") -> FieldManager:
    """The FieldManager of a resource and subresource, built once (its schema and reset fields) while the
    resource type and its custom schema stay the same objects."""
    structural = getattr(rt.strategy, "structural_schema", None)
    key = (id(rt), subresource)
    hit = _field_managers.get(key)
    if hit is not None and hit[0] is rt and hit[1] is structural:
        return hit[2]
    if len(_field_managers) >= 1024:
        _field_managers.clear()  # custom resources come and go in long runs; rebuilding is cheap
    manager = FieldManager(rt, subresource)
    _field_managers[key] = (rt, structural, manager)
    return manager


def update_hook(rt: ResourceType, subresource: str, manager: str, clock: Clock) -> Callable[[Obj | None, Obj], None]:
    """A ``Registry.create/update`` hook that records a non-apply write of ``manager`` at the cluster's time."""
    field_manager = field_manager_for(rt, subresource)

    def hook(live: Obj | None, new: Obj) -> None:
        field_manager.record_update(live, new, manager, now_rfc3339(clock.now()))

    return hook
