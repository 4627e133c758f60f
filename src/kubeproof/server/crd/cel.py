"""``x-kubernetes-validations``: CEL rules of a CRD schema, evaluated with ``cel-python`` (``celpy``).

What is supported: the standard CEL language and functions that cel-python implements (arithmetic,
comparison, ``has()``, ``size()``, ``in``, ``all``/``exists``/``exists_one``/``map``/``filter`` macros,
``startsWith``/``endsWith``/``contains``/``matches``, timestamps and durations), ``self`` at the node the
rule is attached to, and transition rules on ``oldSelf`` (evaluated on update only, when the old object
has a value at the same place, as kube-apiserver does). ``message``, ``reason`` and ``fieldPath`` are
honoured; ``messageExpression`` is evaluated when it compiles. Kubernetes' CEL extension libraries
(``isURL``, ``quantity``, ``ip``/``cidr``, ``format``, ``lists``/``sets`` helpers, ...) are not: a rule that
uses them is rejected when the CRD is created or updated, with ``compilation failed: ...`` naming the
problem, rather than being silently ignored.

The failure text is the apiserver's: ``<path>: Invalid value: "<type>": <message>`` (``failed rule:
<rule>`` without a message).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from kubeproof.server.validation.field import FieldError, invalid


@functools.cache
def _celpy() -> Any:
    """cel-python, imported on the first CRD with rules (it costs ~60 ms of every cold start otherwise);
    None when missing, so a broken install gives a clear 422 instead of an import error."""
    try:
        import celpy
    except ImportError:  # pragma: no cover - depends on what is installed
        return None
    return celpy

#: Functions of Kubernetes' CEL libraries that cel-python does not provide.
_K8S_ONLY = re.compile(
    r"\b(isURL|url|quantity|isQuantity|ip|isIP|cidr|isCIDR|semver|isSemver|format|indexOf|lastIndexOf|"
    r"lowerAscii|upperAscii|replace|split|join|trim|substring|isSorted|sum|min|max|sets\.\w+|"
    r"optional\.\w+|regex\.\w+|charAt)\s*\("
)


@dataclass
class Rule:
    rule: str
    message: str
    message_expression: str
    reason: str
    field_path: str
    program: Any
    message_program: Any
    transition: bool


@dataclass
class NodeRules:
    """The rules of one schema node and of the nodes under it."""

    rules: list[Rule] = field(default_factory=list)
    properties: dict[str, NodeRules] = field(default_factory=dict)
    items: NodeRules | None = None
    additional: NodeRules | None = None

    def empty(self) -> bool:
        return not self.rules and not self.properties and self.items is None and self.additional is None


class CELError(ValueError):
    """A rule that does not compile (or uses what cel-python cannot evaluate)."""


@functools.cache
def _environment() -> Any:
    return _celpy().Environment()


def compile_rule(text: str) -> Any:
    if _celpy() is None:
        raise CELError("CEL rules need the cel-python package (pip install cel-python)")
    unsupported = _K8S_ONLY.search(text)
    if unsupported:
        raise CELError(f"kubeproof cannot evaluate the Kubernetes CEL library function "
                       f"{unsupported.group(1)!r} (cel-python has only the standard library)")
    env = _environment()
    try:
        return env.program(env.compile(text))
    except Exception as exc:  # celpy raises its own parse errors
        raise CELError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def compile_rules(schema: Any) -> NodeRules:
    """The compiled rules of a schema (rules that do not compile are left out: the CRD check reports them)."""
    node = NodeRules()
    if not isinstance(schema, dict):
        return node
    for spec in schema.get("x-kubernetes-validations") or []:
        if not isinstance(spec, dict) or not isinstance(spec.get("rule"), str):
            continue
        try:
            program = compile_rule(spec["rule"])
        except CELError:
            continue
        message_program = None
        if isinstance(spec.get("messageExpression"), str):
            try:
                message_program = compile_rule(spec["messageExpression"])
            except CELError:
                message_program = None
        node.rules.append(Rule(spec["rule"], str(spec.get("message") or ""), str(spec.get("messageExpression") or ""),
                               str(spec.get("reason") or ""), str(spec.get("fieldPath") or ""), program,
                               message_program, bool(re.search(r"\boldSelf\b", spec["rule"]))))
    for name, sub in (schema.get("properties") or {}).items():
        child = compile_rules(sub)
        if not child.empty():
            node.properties[name] = child
    if isinstance(schema.get("items"), dict):
        child = compile_rules(schema["items"])
        node.items = None if child.empty() else child
    if isinstance(schema.get("additionalProperties"), dict):
        child = compile_rules(schema["additionalProperties"])
        node.additional = None if child.empty() else child
    return node


def check_schema(schema: Any, path: str) -> list[FieldError]:
    """Compile every rule of a CRD schema: ``compilation failed`` errors for the CRD's validation."""
    errs: list[FieldError] = []
    if not isinstance(schema, dict):
        return errs
    for index, spec in enumerate(schema.get("x-kubernetes-validations") or []):
        if not isinstance(spec, dict):
            continue
        for key in ("rule", "messageExpression"):
            text = spec.get(key)
            if not isinstance(text, str):
                continue
            try:
                compile_rule(text)
            except CELError as exc:
                errs.append(invalid(f"{path}.x-kubernetes-validations[{index}].{key}", text,
                                    f"compilation failed: {exc}"))
    for name, sub in sorted((schema.get("properties") or {}).items()):
        errs += check_schema(sub, f"{path}.properties[{name}]")
    if isinstance(schema.get("items"), dict):
        errs += check_schema(schema["items"], f"{path}.items")
    if isinstance(schema.get("additionalProperties"), dict):
        errs += check_schema(schema["additionalProperties"], f"{path}.additionalProperties")
    return errs


def _type_name(value: Any) -> str:
    from kubeproof.server.crd.structural import json_type

    return json_type(value)


_REASONS = {"FieldValueRequired", "FieldValueForbidden", "FieldValueDuplicate", "FieldValueInvalid"}


def _error(path: str, value: Any, reason: str, message: str) -> FieldError:
    from kubeproof.server.validation.field import OMIT

    if reason in ("FieldValueRequired", "FieldValueForbidden"):
        return FieldError(reason, path, OMIT, message)
    return FieldError(reason if reason in _REASONS else "FieldValueInvalid", path, _type_name(value), message)


def _run(rule: Rule, value: Any, old: Any, has_old: bool, path: str) -> FieldError | None:
    celpy = _celpy()
    activation = {"self": celpy.json_to_cel(value)}
    if rule.transition:
        if not has_old:
            return None
        activation["oldSelf"] = celpy.json_to_cel(old)
    try:
        result = rule.program.evaluate(activation)
    except Exception as exc:  # an evaluation error fails the rule, as in kube-apiserver
        text = str(exc.args[0] if exc.args else exc).splitlines()[0][:200]
        return invalid(path, _type_name(value), f"rule evaluation error: {text}")
    if result is True or (not isinstance(result, Exception) and bool(result) and str(result) == "True"):
        return None
    if isinstance(result, Exception):
        return invalid(path, _type_name(value), f"rule evaluation error: {str(result)[:200]}")
    target = path + rule.field_path if rule.field_path else path
    message = rule.message or f"failed rule: {rule.rule}"
    if rule.message_program is not None:
        try:
            computed = rule.message_program.evaluate(activation)
            if isinstance(computed, str) and computed.strip():
                message = str(computed)
        except Exception:
            pass
    return _error(target, value, rule.reason or "FieldValueInvalid", message)


def _walk(node: NodeRules, value: Any, old: Any, has_old: bool, path: str, errs: list[FieldError]) -> None:
    if value is None:
        return
    for rule in node.rules:
        error = _run(rule, value, old, has_old, path)
        if error is not None:
            errs.append(error)
    if isinstance(value, dict):
        old_map = old if has_old and isinstance(old, dict) else {}
        for name, value_item in value.items():
            child = node.properties.get(name) or node.additional
            if child is not None:
                child_path = f"{path}.{name}" if path else name
                _walk(child, value_item, old_map.get(name), name in old_map, child_path, errs)
    elif isinstance(value, list) and node.items is not None:
        # Transition rules on list items need a correlatable list (map/set); kubeproof skips oldSelf there.
        for index, item in enumerate(value):
            _walk(node.items, item, None, False, f"{path}[{index}]", errs)


def evaluate(rules: NodeRules, obj: Any, old: Any) -> list[FieldError]:
    if rules.empty():
        return []
    errs: list[FieldError] = []
    root = rules
    # The root's own rules see the whole object; properties are walked from there.
    for rule in root.rules:
        error = _run(rule, obj, old, old is not None, "<nil>")
        if error is not None:
            errs.append(error)
    if isinstance(obj, dict):
        for name, value in obj.items():
            child = root.properties.get(name)
            if child is not None:
                old_value = old.get(name) if isinstance(old, dict) else None
                _walk(child, value, old_value, isinstance(old, dict) and name in old, name, errs)
    return errs
