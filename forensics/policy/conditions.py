"""Policy conditions: what a condition says about a request, or why it cannot be told.

Ranger attaches conditions to policy items and to whole policies; each names a condition
type of the service definition (`policyConditions`), whose `evaluator` class decides it at
request time. Those decidable from what an audit log records are decided here as the class
does; any other (a custom class, a JavaScript expression beyond the simple forms, a
context attribute the request does not carry) is *undecidable*: `evaluate` returns None and
a reason, and the engine reports the decision as undecidable instead of guessing.

Decided: `RangerIpMatcher` (client address, `*` wildcards), `RangerTimeOfDayMatcher`,
the tag-presence evaluators (`__ANY`/`__ALL`/`__NONE` of the expected tags), context
attribute in/not-in, cluster name and type, `RangerScriptTemplateConditionEvaluator` and
`RangerScriptConditionEvaluator` expressions built from `IS_IN_ROLE`, `IS_IN_GROUP`,
`HAS_TAG`, `TAG.<attr>`, `tagAttr.get(..)`, `ctx.isAccessedBefore/After(..)`, comparisons,
`!`, `&&`, `||`, and `if (..) ctx.result = true;` / `ctx.result = ..;`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from forensics.policy.matchers import SELF, resource_matcher
from forensics.policy.servicedef import ServiceDef
from forensics.policy.undecidable import Undecidable

__all__ = ["Undecidable"]  # re-exported: callers catch it from here

#: Well-known condition names and their evaluators, when the service definition given
#: does not declare them (Ranger 2.5 adds `_expression` to every service definition).
DEFAULT_EVALUATORS = {
    "_expression": ("RangerScriptConditionEvaluator", {}),
    "expression": ("RangerScriptConditionEvaluator", {}),
    "ip-range": ("RangerIpMatcher", {}),
    "accessed-after-expiry": (
        "RangerScriptTemplateConditionEvaluator",
        {"scriptTemplate": "ctx.isAccessedAfter('expiry_date');"},
    ),
}
#: Tag attribute date formats Ranger reads (`RangerRequestScriptEvaluator`).
DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ResourceTag:
    """A tag on the requested resource (Ranger's `RangerTagForEval`): its type (e.g.
    `PII`) and attributes (e.g. `expiry_date`)."""

    type: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    """One condition of a policy or item: type, values, and its evaluator."""

    type: str
    values: tuple[str, ...]
    evaluator: str  # the evaluator class's simple name; "" when the type is unknown
    options: Mapping[str, str]
    where: str  # e.g. "policy 7 allow item 1", for reasons


@dataclass(frozen=True)
class Facts:
    """What a request tells conditions: who, when, from where, on what tags."""

    user: str
    groups: frozenset[str]
    roles: frozenset[str]
    time: datetime | None
    client_ip: str | None  # None: unknown; "": the request had none
    context: Mapping[str, Any]
    tags: tuple[ResourceTag, ...] | None  # None: the resource's tags are unknown
    tag: ResourceTag | None = None  # the tag a tag policy is being evaluated for
    cluster_name: str | None = None
    cluster_type: str | None = None
    zone: ZoneInfo | None = None  # the plugin host's clock (times of day, tag dates)
    #: the request context's REQUESTED_RESOURCES: every resource of the same Hive query
    #: (None: not known), and the service they are matched in
    requested: tuple[Mapping[str, Any], ...] | None = None
    service_def: ServiceDef | None = None


def compile_condition(raw: Mapping, definitions: Mapping[str, tuple], where: str) -> Condition:
    """A condition of a policy (`{"type": .., "values": [..]}`) with its evaluator."""
    kind = str(raw.get("type", ""))
    evaluator, options = definitions.get(kind) or DEFAULT_EVALUATORS.get(kind) or ("", {})
    values = tuple(str(v) for v in raw.get("values") or [])
    return Condition(kind, values, evaluator, dict(options), where)


def evaluate(condition: Condition, facts: Facts) -> tuple[bool | None, str]:
    """(True/False, "") when the condition is decided, (None, why) when it cannot be."""
    decide = EVALUATORS.get(condition.evaluator)
    if decide is None:
        what = condition.evaluator or "no evaluator in the service definition"
        return (
            None,
            f"{condition.where}: condition {condition.type!r} ({what}) runs code at request time",
        )
    try:
        return bool(decide(condition, facts)), ""
    except Undecidable as exc:
        return None, f"{condition.where}: condition {condition.type!r}: {exc}"


def _ip(condition: Condition, facts: Facts) -> bool:
    """`RangerIpMatcher`: exact addresses, or prefixes ending in `.*`/`:*`; a request
    without an address matches (Ranger), an unknown one cannot be told."""
    values = [v for v in condition.values if v]
    if not values or any(re.fullmatch(r"\*(\.\*)*|\*(:\*)*", v) for v in values):
        return True
    if facts.client_ip is None:
        raise Undecidable("the client address is not known")
    if facts.client_ip == "":
        return True
    ip = facts.client_ip if "." in facts.client_ip else facts.client_ip.lower()
    for value in values:
        prefix = (
            re.sub(r"(\.\*)+$", ".", value)
            if "." in value
            else re.sub(r"(:\*)+$", ":", value).lower()
        )
        if prefix != value and ip.startswith(prefix) or prefix == value and ip == value:
            return True
    return False


def _time_of_day(condition: Condition, facts: Facts) -> bool:
    """`RangerTimeOfDayMatcher`: `9am-5pm`, `9:30 AM - 17:00` ranges on the access time."""
    if facts.time is None:
        return True
    local = facts.time.astimezone(facts.zone or timezone.utc)
    minute = local.hour * 60 + local.minute
    found = False
    for value in condition.values:
        match = re.fullmatch(
            r"\s*(\d{1,2})(?::(\d{2}))?\s*([ap]m)?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*([ap]m)?\s*",
            value,
            re.I,
        )
        if match is None:
            raise Undecidable(f"time of day {value!r} is not h[:mm][am|pm]-h[:mm][am|pm]")
        start = _minutes(match.group(1), match.group(2), match.group(3))
        end = _minutes(match.group(4), match.group(5), match.group(6))
        found = found or start <= minute <= end
    return found


def _minutes(hour: str, minute: str | None, half: str | None) -> int:
    h = int(hour) % 12 + (12 if half and half.lower() == "pm" else 0) if half else int(hour)
    return h * 60 + int(minute or 0)


def _tag_types(facts: Facts) -> set[str]:
    if facts.tags is None:
        raise Undecidable("the resource's tags are not known")
    return {t.type for t in facts.tags}


def _any_tag(condition: Condition, facts: Facts) -> bool:
    return bool(_tag_types(facts) & set(condition.values))


def _all_tags(condition: Condition, facts: Facts) -> bool:
    return not condition.values or set(condition.values) <= _tag_types(facts)


def _no_tag(condition: Condition, facts: Facts) -> bool:
    return not _tag_types(facts) & set(condition.values)


def _attribute(condition: Condition, facts: Facts) -> str:
    name = condition.options.get("attributeName") or condition.options.get("contextName") or ""
    if name not in facts.context:
        raise Undecidable(f"the request context attribute {name!r} is not known")
    return str(facts.context[name])


def _cluster(condition: Condition, facts: Facts, attribute: str) -> str:
    value = getattr(facts, attribute)
    if value is None:
        raise Undecidable(f"the request's {attribute.replace('_', ' ')} is not known")
    return value


def _template(condition: Condition, facts: Facts) -> bool:
    """`RangerScriptTemplateConditionEvaluator`: the template's script, inverted when the
    condition's value is `no`/`false`."""
    value = condition.values[0] if condition.values else ""
    script = condition.options.get("scriptTemplate")
    if not value.strip() or script is None:
        return True
    result = _script(script, facts)
    return not result if value.strip().lower() in ("no", "false") else result


def _expression(condition: Condition, facts: Facts) -> bool:
    """`RangerScriptConditionEvaluator`: every value is a script; all must hold."""
    return all(_script(v, facts) for v in condition.values if v.strip())


def _together(condition: Condition, facts: Facts) -> bool:
    """`RangerHiveResourcesAccessedTogetherCondition`: holds when the query's resources
    (REQUESTED_RESOURCES) match the condition's `db.table.column` specs two or more times;
    outside a Hive service, or without values, it holds (Ranger builds no matcher then)."""
    excluded = _mutually_excluded(condition, facts)
    return True if excluded is None else not excluded


def _not_together(condition: Condition, facts: Facts) -> bool:
    """`RangerHiveResourcesNotAccessedTogetherCondition`: the negation, holding as well
    when Ranger builds no matcher."""
    excluded = _mutually_excluded(condition, facts)
    return True if excluded is None else excluded


def _mutually_excluded(condition: Condition, facts: Facts) -> bool | None:
    """Ranger's `RangerRequestedResources.isMutuallyExcluded`: False when the query's
    resources match the specs two or more times in all (None: no matcher to apply)."""
    service = facts.service_def
    specs = [_together_spec(v, service) for v in condition.values if v.strip()]
    specs = [s for s in specs if s]
    if service is None or service.name != "hive" or not specs:
        return None
    if facts.requested is None:
        raise Undecidable(
            "it needs every resource the Hive query accessed together (REQUESTED_RESOURCES), "
            "which an audit event does not carry"
        )
    if len(facts.requested) < 2:
        return True
    hits = sum(_covers(spec, r) for r in facts.requested for spec in specs)
    return hits < 2


def _together_spec(value: str, service: ServiceDef | None) -> dict | None:
    """A `db.table.column` value as matchers (missing levels `*`), as Ranger's
    `buildMatcher` splits it; None for more than three parts or a service without them."""
    parts = [p for p in value.strip().split(".") if p]
    levels = ("database", "table", "column")
    if service is None or not 0 < len(parts) < 4 or not set(levels) <= set(service.resources):
        return None
    values = parts + ["*"] * (3 - len(parts))
    return {
        level: resource_matcher(service.resources[level], {"values": [v]})
        for level, v in zip(levels, values, strict=True)
    }


def _covers(spec: Mapping[str, Any], resource: Mapping[str, Any]) -> bool:
    """Whether a requested resource is the spec's resource (or lies in it, `*` below)."""
    for level, matcher in spec.items():
        value = resource.get(level)
        if value is None:
            if not matcher.matches_all:
                return False
        elif matcher.element_match(value) != SELF:
            return False
    return True


EVALUATORS = {
    "RangerIpMatcher": _ip,
    "RangerHiveResourcesAccessedTogetherCondition": _together,
    "RangerHiveResourcesNotAccessedTogetherCondition": _not_together,
    "RangerTimeOfDayMatcher": _time_of_day,
    "RangerAnyOfExpectedTagsPresentConditionEvaluator": _any_tag,
    "RangerTagsAllPresentConditionEvaluator": _all_tags,
    "RangerNoneOfExpectedTagsPresentConditionEvaluator": _no_tag,
    "RangerContextAttributeValueInCondition": lambda c, f: _attribute(c, f) in c.values,
    "RangerContextAttributeValueNotInCondition": lambda c, f: _attribute(c, f) not in c.values,
    "RangerAccessedFromClusterCondition": lambda c, f: _cluster(c, f, "cluster_name") in c.values,
    "RangerAccessedNotFromClusterCondition": lambda c, f: (
        _cluster(c, f, "cluster_name") not in c.values
    ),
    "RangerAccessedFromClusterTypeCondition": lambda c, f: (
        _cluster(c, f, "cluster_type") in c.values
    ),
    "RangerAccessedNotFromClusterTypeCondition": lambda c, f: (
        _cluster(c, f, "cluster_type") not in c.values
    ),
    "RangerScriptTemplateConditionEvaluator": _template,
    "RangerScriptConditionEvaluator": _expression,
}


# -- the simple expression forms ----------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()=;,.])"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*))"
)


def _script(text: str, facts: Facts) -> bool:
    """A script in one of the simple forms, decided; anything else is undecidable."""
    if "getRequestContextAttribute" in text:
        raise Undecidable(
            "the script reads request context attributes that Ranger's context enrichers "
            "add at request time (e.g. a geolocation of the client address)"
        )
    tokens = _tokens(text)
    parser = _Parser(tokens, facts, text)
    return parser.program()


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    text = text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise Undecidable(f"expression {text[:60]!r} is beyond the simple forms")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
        while at < len(text) and text[at].isspace():
            at += 1
    return found


class _Parser:
    """Recursive descent over the simple forms, evaluating as it goes."""

    def __init__(self, tokens: Sequence[tuple[str, str]], facts: Facts, text: str) -> None:
        self.tokens, self.at, self.facts, self.text = list(tokens), 0, facts, text

    def beyond(self) -> Undecidable:
        return Undecidable(f"expression {self.text[:60]!r} is beyond the simple forms")

    def peek(self, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        return value is None or self.tokens[self.at][1] == value

    def take(self, value: str | None = None) -> str:
        if not self.peek(value):
            raise self.beyond()
        self.at += 1
        return self.tokens[self.at - 1][1]

    def program(self) -> bool:
        if self.peek("if"):  # if ( E ) ctx.result = true;
            self.take("if")
            self.take("(")
            value = bool(self.disjunction())
            self.take(")")
            self._result_assignment("true")
            return value
        if self.peek("ctx") and self.tokens[self.at + 1 : self.at + 3] == [
            ("op", "."),
            ("name", "result"),
        ]:
            self.take("ctx"), self.take("."), self.take("result"), self.take("=")
            value = bool(self.disjunction())
        else:
            value = bool(self.disjunction())
        while self.peek(";"):
            self.take(";")
        if self.at != len(self.tokens):
            raise self.beyond()
        return value

    def _result_assignment(self, literal: str) -> None:
        for expected in ("ctx", ".", "result", "=", literal):
            self.take(expected)
        while self.peek(";"):
            self.take(";")
        if self.at != len(self.tokens):
            raise self.beyond()

    def disjunction(self) -> Any:
        value = self.conjunction()
        while self.peek("||"):
            self.take("||")
            right = self.conjunction()
            value = value or right
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self.peek("&&"):
            self.take("&&")
            right = self.comparison()
            value = value and right
        return value

    def comparison(self) -> Any:
        left = self.unary()
        for op in ("==", "!=", "<=", ">=", "<", ">"):
            if self.peek(op):
                self.take(op)
                return _compare(op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek("!"):
            self.take("!")
            return not self.unary()
        if self.peek("("):
            self.take("(")
            value = self.disjunction()
            self.take(")")
            return value
        kind, value = self.tokens[self.at] if self.at < len(self.tokens) else ("", "")
        if kind == "num":
            self.at += 1
            return float(value)
        if kind == "str":
            self.at += 1
            return value[1:-1]
        if kind == "name":
            return self.name()
        raise self.beyond()

    def arguments(self) -> list[Any]:
        self.take("(")
        args = []
        while not self.peek(")"):
            args.append(self.disjunction())
            if self.peek(","):
                self.take(",")
        self.take(")")
        return args

    def name(self) -> Any:
        name = self.take()
        facts = self.facts
        if name in ("true", "false"):
            return name == "true"
        if name in MACROS:
            args = self.arguments() if self.peek("(") else []
            return MACROS[name](facts, *args)
        if name == "TAG" and self.peek("."):
            self.take(".")
            return _tag_attribute(facts, self.take())
        if name == "tagAttr" and self.peek("."):
            self.take(".")
            self.take("get")
            (attribute,) = self.arguments()
            return _tag_attribute(facts, str(attribute))
        if name == "ctx" and self.peek("."):
            self.take(".")
            method = self.take()
            args = self.arguments()
            if method in ("isAccessedBefore", "isAccessedAfter") and len(args) == 1:
                return _accessed(facts, method == "isAccessedAfter", str(args[0]))
        raise self.beyond()


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):  # JavaScript: to numbers
        try:
            left, right = float(left), float(right)
        except (TypeError, ValueError):
            return op == "!="
    if left is None or right is None:
        return {"==": left == right, "!=": left != right}.get(op, False)
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _tag_attribute(facts: Facts, name: str) -> str | None:
    if facts.tag is None:
        raise Undecidable("it reads the attributes of a tag, and no tag is being evaluated")
    return facts.tag.attributes.get(name)


def _accessed(facts: Facts, after: bool, attribute: str) -> bool:
    """`ctx.isAccessedAfter/Before(attr)`: the access time against the current tag's
    date attribute (a missing date: after holds, before does not)."""
    text = _tag_attribute(facts, attribute)
    if facts.time is None:
        raise Undecidable("the access time is not known")
    date = _date(text, facts.zone)
    if date is None:
        return after
    return facts.time >= date if after else facts.time <= date


def _date(text: str | None, zone: ZoneInfo | None) -> datetime | None:
    """A tag attribute's date (`yyyy/MM/dd` on the host's clock, or Atlas's UTC form)."""
    for fmt in DATE_FORMATS:
        try:
            moment = datetime.strptime(text or "", fmt)
            return moment.replace(
                tzinfo=timezone.utc if fmt.endswith("Z") else zone or timezone.utc
            )
        except ValueError:
            continue
    return None


MACROS = {
    "IS_IN_ROLE": lambda f, role: role in f.roles,
    "IS_IN_GROUP": lambda f, group: group in f.groups,
    "IS_IN_ANY_ROLE": lambda f: bool(f.roles),
    "IS_IN_ANY_GROUP": lambda f: bool(f.groups),
    "IS_NOT_IN_ANY_ROLE": lambda f: not f.roles,
    "IS_NOT_IN_ANY_GROUP": lambda f: not f.groups,
    "HAS_TAG": lambda f, tag: tag in _tag_types(f),
    "HAS_ANY_TAG": lambda f: bool(_tag_types(f)),
    "HAS_NO_TAG": lambda f: not _tag_types(f),
}
