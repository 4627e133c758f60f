"""Label and field selectors: parsing, matching and the exact kube-apiserver error texts."""

# Expected messages are kept whole on one line where that reads best.
# ruff: noqa: E501

from __future__ import annotations

from typing import Any

import pytest

from kubeproof.server.errors import StatusError
from kubeproof.server.selectors import (
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    FieldSelector,
    LabelRequirement,
    LabelSelector,
    check_field_labels,
    escape_field_value,
    label_selector_from_dict,
    parse_field_selector,
    parse_label_selector,
    unescape_field_value,
)

LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
LABEL_KEY_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
OPERATORS = "in, notin, =, ==, !=, gt, lt"


def label_error(text: str) -> str:
    with pytest.raises(StatusError) as info:
        parse_label_selector(text)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    return info.value.message


def field_error(text: str) -> str:
    with pytest.raises(StatusError) as info:
        parse_field_selector(text)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    return info.value.message


def dict_error(sel: dict[str, Any]) -> str:
    with pytest.raises(StatusError) as info:
        label_selector_from_dict(sel)
    assert info.value.code == 400
    return info.value.message


# --- label selector parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "operator", "values"),
    [
        ("a", "a", EXISTS, ()),
        ("!a", "a", DOES_NOT_EXIST, ()),
        ("a=b", "a", EQUALS, ("b",)),
        ("a==b", "a", DOUBLE_EQUALS, ("b",)),
        ("a!=b", "a", NOT_EQUALS, ("b",)),
        ("a in (x,y)", "a", IN, ("x", "y")),
        ("a notin (x)", "a", NOT_IN, ("x",)),
        ("a>5", "a", GREATER_THAN, ("5",)),
        ("a<5", "a", LESS_THAN, ("5",)),
        ("a=", "a", EQUALS, ("",)),
        ("a!=", "a", NOT_EQUALS, ("",)),
        ("a in ()", "a", IN, ("",)),
        ("a in (,a)", "a", IN, ("", "a")),
        ("a in (a,)", "a", IN, ("", "a")),
        ("a in (a,,b)", "a", IN, ("", "a", "b")),
        ("a in (,)", "a", IN, ("",)),
        ("a in (b,a,b)", "a", IN, ("a", "b")),
        ("example.com/my-key=v_1.x", "example.com/my-key", EQUALS, ("v_1.x",)),
        ("a>007", "a", GREATER_THAN, ("007",)),
    ],
)
def test_each_operator(text: str, key: str, operator: str, values: tuple[str, ...]) -> None:
    selector = parse_label_selector(text)
    assert selector.requirements == (LabelRequirement(key, operator, values),)
    assert not selector.empty


def test_empty_selector_matches_everything() -> None:
    for text in ("", "   ", "\t\n"):
        selector = parse_label_selector(text)
        assert selector.empty
        assert selector.requirements == ()
        assert str(selector) == ""
        assert selector.matches({})
        assert selector.matches(None)
        assert selector.matches({"a": "b"})


def test_whitespace_separates_tokens() -> None:
    selector = parse_label_selector("  a = b ,\tc notin ( d , e ) , ! f ")
    assert str(selector) == "a=b,c notin (d,e),!f"
    assert parse_label_selector("a in(x)").requirements == (LabelRequirement("a", IN, ("x",)),)


def test_keywords_are_identifiers_in_value_positions() -> None:
    selector = parse_label_selector("in in (in,notin),notin=in")
    assert selector.requirements == (
        LabelRequirement("in", IN, ("in", "notin")),
        LabelRequirement("notin", EQUALS, ("in",)),
    )


def test_requirements_sorted_by_key_and_canonical_string() -> None:
    selector = parse_label_selector("z,b!=2,a in (y,x),!c,d>3,e<4,f==5")
    assert [r.key for r in selector.requirements] == ["a", "b", "c", "d", "e", "f", "z"]
    assert str(selector) == "a in (x,y),b!=2,!c,d>3,e<4,f==5,z"


def test_duplicate_keys_keep_their_order() -> None:
    selector = parse_label_selector("a!=1,a=2")
    assert str(selector) == "a!=1,a=2"
    assert selector.matches({"a": "2"})
    assert not selector.matches({"a": "1"})


def test_canonical_string_round_trips() -> None:
    for text in ("a in (,x),!b,c", "a notin (),b=", "x.io/y==z"):
        selector = parse_label_selector(text)
        assert parse_label_selector(str(selector)) == selector


# --- label selector matching -----------------------------------------------------------------------


def test_equality_matching() -> None:
    for text in ("a=b", "a==b"):
        selector = parse_label_selector(text)
        assert selector.matches({"a": "b"})
        assert not selector.matches({"a": "c"})
        assert not selector.matches({})
        assert not selector.matches(None)


def test_empty_value_matching() -> None:
    selector = parse_label_selector("a=")
    assert selector.matches({"a": ""})
    assert not selector.matches({})
    assert not selector.matches({"a": "x"})


def test_not_equals_matches_missing_key() -> None:
    selector = parse_label_selector("a!=b")
    assert selector.matches({})
    assert selector.matches(None)
    assert selector.matches({"a": "c"})
    assert not selector.matches({"a": "b"})


def test_in_and_notin_matching() -> None:
    selector = parse_label_selector("env in (prod,staging)")
    assert selector.matches({"env": "prod"})
    assert selector.matches({"env": "staging"})
    assert not selector.matches({"env": "dev"})
    assert not selector.matches({})
    selector = parse_label_selector("env notin (prod,staging)")
    assert selector.matches({})
    assert selector.matches({"env": "dev"})
    assert not selector.matches({"env": "prod"})


def test_in_with_empty_value_matches_empty_label() -> None:
    selector = parse_label_selector("a in (,x)")
    assert selector.matches({"a": ""})
    assert selector.matches({"a": "x"})
    assert not selector.matches({})


def test_exists_and_does_not_exist() -> None:
    assert parse_label_selector("a").matches({"a": ""})
    assert not parse_label_selector("a").matches({"b": "a"})
    assert parse_label_selector("!a").matches({"b": "a"})
    assert parse_label_selector("!a").matches(None)
    assert not parse_label_selector("!a").matches({"a": ""})


def test_integer_comparisons() -> None:
    gt = parse_label_selector("n>5")
    lt = parse_label_selector("n<5")
    assert gt.matches({"n": "6"})
    assert not gt.matches({"n": "5"})
    assert gt.matches({"n": "10"})  # numeric, not lexical
    assert lt.matches({"n": "-3"})
    assert lt.matches({"n": "04"})
    assert not lt.matches({"n": "5"})
    # Missing keys and labels that are not integers never match either way.
    assert not gt.matches({})
    assert not lt.matches({})
    assert not gt.matches({"n": "x"})
    assert not lt.matches({"n": "x"})
    assert not lt.matches({"n": "1.5"})
    # Out of int64 range does not parse.
    assert not gt.matches({"n": "9223372036854775808"})
    assert gt.matches({"n": "9223372036854775807"})


def test_and_of_requirements() -> None:
    selector = parse_label_selector("app=web,tier!=db,!canary")
    assert selector.matches({"app": "web"})
    assert selector.matches({"app": "web", "tier": "front"})
    assert not selector.matches({"app": "web", "tier": "db"})
    assert not selector.matches({"app": "web", "canary": "1"})
    assert not selector.matches({"tier": "front"})


def test_requires_exact_match() -> None:
    assert parse_label_selector("a=b,c").requires_exact_match("a") == "b"
    assert parse_label_selector("a in (b)").requires_exact_match("a") == "b"
    assert parse_label_selector("a in (b,c)").requires_exact_match("a") is None
    assert parse_label_selector("a!=b").requires_exact_match("a") is None
    assert parse_label_selector("c").requires_exact_match("a") is None


# --- label selector errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Top-level parser errors are not prefixed.
        ("a=b,", "found '', expected: identifier after ','"),
        ("a,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        ("a,=b", "found '=', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("=", "found '=', expected: !, identifier, or 'end of string'"),
        ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a in (x) b", "found 'b', expected: ',' or 'end of string'"),
        # Errors inside a requirement are prefixed.
        ("a b", f"unable to parse requirement: found 'b', expected: {OPERATORS}"),
        ("a!b", f"unable to parse requirement: found '!', expected: {OPERATORS}"),
        ("a(", f"unable to parse requirement: found '(', expected: {OPERATORS}"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!!a", "unable to parse requirement: found '!', expected: identifier"),
        ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
        ("a>=5", "unable to parse requirement: found '=', expected: identifier"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("a==!", "unable to parse requirement: found '!', expected: identifier"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        ("a in", "unable to parse requirement: found '' expected: '('"),
        ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"),
        ("a in (x", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (x,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a notin (x,", "unable to parse requirement: found '', expected: ',', or identifier"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    assert label_error(text) == message


def test_invalid_key_messages() -> None:
    assert label_error("Key!") == f"unable to parse requirement: found '!', expected: {OPERATORS}"
    assert (
        label_error("Key_!")
        == f'unable to parse requirement: <nil>: Invalid value: "Key_": {LABEL_KEY_NAME_MSG}'
    )
    assert (
        label_error("-a=b")
        == f'unable to parse requirement: <nil>: Invalid value: "-a": {LABEL_KEY_NAME_MSG}'
    )
    assert (
        label_error("/a")
        == 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'
    )
    assert label_error("a/") == (
        'unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; '
        + LABEL_KEY_NAME_MSG
    )
    assert label_error("x/y/z") == (
        'unable to parse requirement: <nil>: Invalid value: "x/y/z": a valid label key must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
        "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    )
    assert label_error("Example.com/a") == (
        'unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    )
    long_key = "k" * 64
    assert label_error(long_key) == (
        f'unable to parse requirement: <nil>: Invalid value: "{long_key}": name part must be no more than 63 bytes'
    )
    assert parse_label_selector("k" * 63).requirements[0].key == "k" * 63
    # The key is checked before the operator: a bad key wins over a missing operator.
    assert label_error("-a b").startswith('unable to parse requirement: <nil>: Invalid value: "-a": ')
    # ...and a bad key after "!" too.
    assert label_error("!-a").startswith('unable to parse requirement: <nil>: Invalid value: "-a": ')


def test_invalid_value_messages() -> None:
    assert (
        label_error("a=-b")
        == f'unable to parse requirement: values[0][a]: Invalid value: "-b": {LABEL_VALUE_MSG}'
    )
    assert (
        label_error("a!=b_")
        == f'unable to parse requirement: values[0][a]: Invalid value: "b_": {LABEL_VALUE_MSG}'
    )
    long_value = "v" * 64
    assert label_error("a=" + long_value) == (
        f'unable to parse requirement: values[0][a]: Invalid value: "{long_value}": must be no more than 63 bytes'
    )
    assert parse_label_selector("a=" + "v" * 63).requirements[0].values == ("v" * 63,)
    # Set values are sorted (sets.String.List) before they are checked, so indexes follow that order.
    assert label_error("a in (x_, -b)") == (
        "unable to parse requirement: ["
        f'values[0][a]: Invalid value: "-b": {LABEL_VALUE_MSG}, '
        f'values[1][a]: Invalid value: "x_": {LABEL_VALUE_MSG}]'
    )
    assert label_error("x.io/k notin (ok,.bad)") == (
        f'unable to parse requirement: values[0][x.io/k]: Invalid value: ".bad": {LABEL_VALUE_MSG}'
    )


def test_integer_operator_messages() -> None:
    assert label_error("a>x") == (
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
    )
    assert label_error("a<") == (
        "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer"
    )
    assert label_error("a<1.5") == (
        "unable to parse requirement: values[0]: Invalid value: \"1.5\": for 'Gt', 'Lt' operators, the value must be an integer"
    )
    assert label_error("a>99999999999999999999") == (
        "unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for 'Gt', 'Lt' "
        "operators, the value must be an integer"
    )
    # Both the integer check and the label value check fail: two errors, bracketed.
    assert label_error("a>x_") == (
        "unable to parse requirement: ["
        "values[0]: Invalid value: \"x_\": for 'Gt', 'Lt' operators, the value must be an integer, "
        f'values[0][a]: Invalid value: "x_": {LABEL_VALUE_MSG}]'
    )
    # A negative number parses as an integer but is not a valid label value.
    assert (
        label_error("a>-5")
        == f'unable to parse requirement: values[0][a]: Invalid value: "-5": {LABEL_VALUE_MSG}'
    )
    assert parse_label_selector("a>9223372036854775807").matches({"a": "-1"}) is False


def test_nul_ends_a_token_like_go() -> None:
    # The Go lexer reads a NUL byte as its end-of-input marker.
    assert label_error("a\x00b") == f"unable to parse requirement: found 'b', expected: {OPERATORS}"
    assert str(parse_label_selector("a\x00")) == "a"


def test_error_is_a_bad_request_status() -> None:
    with pytest.raises(StatusError) as info:
        parse_label_selector("a b")
    status = info.value.status()
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"unable to parse requirement: found 'b', expected: {OPERATORS}",
        "reason": "BadRequest",
        "code": 400,
    }


# --- metav1.LabelSelector --------------------------------------------------------------------------


def test_nil_selector_matches_nothing() -> None:
    selector = label_selector_from_dict(None)
    assert selector.is_nothing
    assert not selector.empty
    assert not selector.matches({})
    assert not selector.matches(None)
    assert not selector.matches({"a": "b"})
    assert str(selector) == ""
    assert selector == LabelSelector.nothing()


@pytest.mark.parametrize(
    "sel",
    [{}, {"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": None, "matchExpressions": None}],
)
def test_empty_selector_object_matches_everything(sel: dict[str, Any]) -> None:
    selector = label_selector_from_dict(sel)
    assert selector.empty
    assert not selector.is_nothing
    assert selector.matches({})
    assert selector.matches(None)
    assert selector.matches({"a": "b"})
    assert selector == LabelSelector.everything()


def test_match_labels_and_expressions() -> None:
    selector = label_selector_from_dict(
        {
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "canary"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists", "values": []},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
            ],
        }
    )
    assert str(selector) == "app=shop,env in (canary,prod),!legacy,team,tier=web,zone notin (a)"
    labels = {"app": "shop", "tier": "web", "env": "prod", "team": "x"}
    assert selector.matches(labels)
    assert selector.matches({**labels, "zone": "b"})
    assert not selector.matches({**labels, "zone": "a"})
    assert not selector.matches({**labels, "legacy": "1"})
    assert not selector.matches({k: v for k, v in labels.items() if k != "team"})
    assert not selector.matches({**labels, "env": "dev"})


def test_expression_values_keep_given_order_but_print_sorted() -> None:
    selector = label_selector_from_dict(
        {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", "a", "b"]}]}
    )
    assert selector.requirements[0].values == ("b", "a", "b")
    assert str(selector) == "a in (a,b,b)"


def test_selector_object_errors() -> None:
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}) == (
        '"Gt" is not a valid label selector operator'
    )
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "in", "values": ["1"]}]}) == (
        '"in" is not a valid label selector operator'
    )
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "In"}]}) == (
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    )
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]}) == (
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    )
    assert dict_error(
        {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x", "y"]}]}
    ) == ('values: Invalid value: ["x","y"]: values set must be empty for exists and does not exist')
    # The bad value prints as JSON (HTML characters escaped as encoding/json does), then each value is checked.
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "<y>"]}]}) == (
        '[values: Invalid value: ["x","\\u003cy\\u003e"]: values set must be empty for exists and does not exist, '
        f'values[1][a]: Invalid value: "<y>": {LABEL_VALUE_MSG}]'
    )
    assert dict_error({"matchLabels": {"-a": "ok"}}) == f'key: Invalid value: "-a": {LABEL_KEY_NAME_MSG}'
    assert dict_error({"matchLabels": {"a": "-"}}) == f'values[0][a]: Invalid value: "-": {LABEL_VALUE_MSG}'
    assert dict_error({"matchLabels": {"a/": "-"}}) == (
        f'[key: Invalid value: "a/": name part must be non-empty; {LABEL_KEY_NAME_MSG}, '
        f'values[0][a/]: Invalid value: "-": {LABEL_VALUE_MSG}]'
    )
    assert dict_error({"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", "b_"]}]}) == (
        f'values[1][a]: Invalid value: "b_": {LABEL_VALUE_MSG}'
    )


# --- field selectors -------------------------------------------------------------------------------


def test_field_selector_operators() -> None:
    selector = parse_field_selector("metadata.name=a,spec.nodeName==n1,status.phase!=Running")
    assert selector.requirements == [
        ("metadata.name", "=", "a"),
        ("spec.nodeName", "=", "n1"),
        ("status.phase", "!=", "Running"),
    ]
    assert selector.fields == {"metadata.name", "spec.nodeName", "status.phase"}
    assert not selector.empty
    assert str(selector) == "metadata.name=a,spec.nodeName=n1,status.phase!=Running"


def test_field_selector_terms_are_sorted() -> None:
    selector = parse_field_selector("b=2,a=1")
    assert selector.requirements == [("a", "=", "1"), ("b", "=", "2")]
    assert str(selector) == "a=1,b=2"


def test_empty_field_selector() -> None:
    for text in ("", ",", ",,,"):
        selector = parse_field_selector(text)
        assert selector.empty
        assert selector.requirements == []
        assert selector.fields == set()
        assert selector.matches({})
        assert selector.single_name() is None
        assert str(selector) == ""


def test_trailing_and_doubled_commas_are_ignored() -> None:
    assert parse_field_selector("metadata.name=x,").requirements == [("metadata.name", "=", "x")]
    assert parse_field_selector(",metadata.name=x,,").requirements == [("metadata.name", "=", "x")]
    assert parse_field_selector("metadata.name=x,").single_name() == "x"


def test_field_value_escapes() -> None:
    assert parse_field_selector("a=x\\,y").requirements == [("a", "=", "x,y")]
    assert parse_field_selector("a=x\\=y").requirements == [("a", "=", "x=y")]
    assert parse_field_selector("a=x\\\\y").requirements == [("a", "=", "x\\y")]
    assert parse_field_selector("a=x\\\\,b=y").requirements == [("a", "=", "x\\"), ("b", "=", "y")]
    assert parse_field_selector("a=\\,b,c=d").requirements == [("a", "=", ",b"), ("c", "=", "d")]
    assert str(parse_field_selector("a=x\\,y\\=z\\\\")) == "a=x\\,y\\=z\\\\"


def test_field_value_may_be_empty_and_field_may_be_empty() -> None:
    assert parse_field_selector("spec.nodeName=").requirements == [("spec.nodeName", "=", "")]
    assert parse_field_selector("spec.nodeName!=").requirements == [("spec.nodeName", "!=", "")]
    assert parse_field_selector("=a").requirements == [("", "=", "a")]


def test_escape_and_unescape_helpers() -> None:
    assert escape_field_value("a\\b,c=d") == "a\\\\b\\,c\\=d"
    assert unescape_field_value(escape_field_value("a\\b,c=d")) == "a\\b,c=d"
    assert unescape_field_value("plain") == "plain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "invalid selector: 'a'; can't understand 'a'"),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("b=1,a", "invalid selector: 'b=1,a'; can't understand 'a'"),
        ("a,b", "invalid selector: 'a,b'; can't understand 'a'"),
        ("a>1", "invalid selector: 'a>1'; can't understand 'a>1'"),
        ("a in (b)", "invalid selector: 'a in (b)'; can't understand 'a in (b)'"),
        ("a\\,b", "invalid selector: 'a\\,b'; can't understand 'a\\,b'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a!==b", "invalid field selector: unescaped character in value: 61"),
        ("a===b", "invalid field selector: unescaped character in value: 61"),
        ("a=x\\n", "invalid field selector: invalid escape sequence: \\n"),
        ("a=x\\", "invalid field selector: invalid escape sequence: \\"),
        ("a=\\é", "invalid field selector: invalid escape sequence: \\é"),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    assert field_error(text) == message


def test_first_bad_term_in_sorted_order_is_reported() -> None:
    assert field_error("z,a=b=c") == "invalid field selector: unescaped character in value: 61"
    assert field_error("b=b=c,a") == "invalid selector: 'b=b=c,a'; can't understand 'a'"


def test_field_matching() -> None:
    selector = parse_field_selector("metadata.name=a,status.phase!=Running")
    assert selector.matches({"metadata.name": "a", "status.phase": "Pending"})
    assert selector.matches({"metadata.name": "a"})
    assert not selector.matches({"metadata.name": "a", "status.phase": "Running"})
    assert not selector.matches({"metadata.name": "b"})
    assert not selector.matches({})


def test_absent_field_compares_as_empty() -> None:
    assert parse_field_selector("spec.nodeName=").matches({})
    assert not parse_field_selector("spec.nodeName!=").matches({})
    assert parse_field_selector("spec.nodeName!=").matches({"spec.nodeName": "n1"})
    assert not parse_field_selector("spec.nodeName=n1").matches({})


def test_single_name() -> None:
    assert parse_field_selector("metadata.name=x").single_name() == "x"
    assert parse_field_selector("metadata.name==x").single_name() == "x"
    assert parse_field_selector("metadata.namespace=ns,metadata.name=x").single_name() == "x"
    assert parse_field_selector("metadata.name!=x").single_name() is None
    assert parse_field_selector("metadata.namespace=x").single_name() is None
    # Several pins: the first in sorted term order wins, as andTerm.RequiresExactMatch does.
    assert parse_field_selector("metadata.name=b,metadata.name=a").single_name() == "a"
    assert parse_field_selector("metadata.name=").single_name() == ""


def test_field_selector_equality() -> None:
    assert parse_field_selector("b=1,a=2") == parse_field_selector("a=2,b==1")
    assert parse_field_selector("a=1") != parse_field_selector("a!=1")
    assert FieldSelector() == parse_field_selector("")


# --- unsupported field labels ----------------------------------------------------------------------


def test_supported_fields_pass() -> None:
    selector = parse_field_selector("metadata.name=a,spec.nodeName=n")
    check_field_labels(selector, ["metadata.name", "metadata.namespace", "spec.nodeName"], True)
    check_field_labels(parse_field_selector(""), [], False)


def test_kind_with_conversion_function_message() -> None:
    with pytest.raises(StatusError) as info:
        check_field_labels(parse_field_selector("spec.foo=x"), ["metadata.name", "metadata.namespace"], True)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    assert info.value.message == "field label not supported: spec.foo"


def test_kind_without_conversion_function_message() -> None:
    with pytest.raises(StatusError) as info:
        check_field_labels(parse_field_selector("spec.foo=x"), ["metadata.name", "metadata.namespace"], False)
    assert info.value.code == 400
    assert (
        info.value.message
        == '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_unsupported_field_message_quotes_like_go() -> None:
    with pytest.raises(StatusError) as info:
        check_field_labels(parse_field_selector('a"b=x'), ["metadata.name"], False)
    assert (
        info.value.message
        == '"a\\"b" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_first_unsupported_field_in_sorted_order() -> None:
    selector = parse_field_selector("zzz=1,metadata.name=a,bbb=2")
    with pytest.raises(StatusError) as info:
        check_field_labels(selector, ["metadata.name"], True)
    assert info.value.message == "field label not supported: bbb"


def test_cluster_scoped_custom_resource_rejects_namespace() -> None:
    # A cluster-scoped kind with a conversion function (custom resources) lists only metadata.name.
    with pytest.raises(StatusError) as info:
        check_field_labels(parse_field_selector("metadata.namespace=x"), ["metadata.name"], True)
    assert info.value.message == "field label not supported: metadata.namespace"


@pytest.mark.parametrize("text", [
    "", "a", "!a", "a=1", "a==1", "a!=1", "a in (1,2)", "a notin (1,2)", "a in ()", "a=", "a!=",
    "a>1", "a<1", "a=1,b", "a=1,!b", "a in (1,2),b notin (3),c", "a=1,a!=2",
])
def test_the_compiled_selector_agrees_with_matches(text: str) -> None:
    """The closure list and watch use (``compile``) decides exactly as ``matches``."""
    selector = parse_label_selector(text)
    compiled = selector.compile()
    label_sets: list[dict[str, str]] = [
        {}, {"a": "1"}, {"a": "2"}, {"a": "3"}, {"a": ""}, {"b": "3"}, {"a": "1", "b": "3"},
        {"a": "1", "b": "4", "c": ""}, {"a": "2", "c": "x"}, {"a": "0"}, {"a": "x"},
    ]
    for labels in label_sets:
        assert compiled(labels) == selector.matches(labels), (text, labels)
    assert LabelSelector.nothing().compile()({"a": "1"}) is False
