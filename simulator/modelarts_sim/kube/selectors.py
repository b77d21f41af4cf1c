"""Label and field selectors with the API server's semantics.

Label selectors: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>n`, `k<n`;
`!=` and `notin` also match objects without the key, as in apimachinery.
Field selectors: `f=v`, `f==v`, `f!=v` on the fields a kind supports; others are a 400.
"""
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from .status import StatusError, bad_request

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str               # exists, !exists, =, !=, in, notin, gt, lt
    values: Tuple[str, ...] = ()

    def matches(self, labels: Dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator in ("gt", "lt"):
            try:
                number = int(value) if present else None
            except ValueError:
                return False
            if number is None:
                return False
            bound = int(self.values[0])
            return number > bound if self.operator == "gt" else number < bound
        return False


LabelSelector = List[Requirement]


def _split_top_level(text: str) -> List[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _parse_error(text: str) -> StatusError:
    return bad_request(f'unable to parse requirement: found \'{text}\', expected: valid label selector')


def parse_label_selector(text: Optional[str]) -> LabelSelector:
    if not text or not text.strip():
        return []
    requirements = []
    for part in _split_top_level(text):
        if not part:
            raise _parse_error(text)
        match = re.fullmatch(rf"({_KEY})\s+(in|notin)\s+\(([^()]*)\)", part)
        if match:
            values = tuple(v.strip() for v in match.group(3).split(",") if v.strip())
            requirements.append(Requirement(match.group(1), match.group(2), values))
            continue
        match = re.fullmatch(rf"({_KEY})\s*(==|!=|=|>|<)\s*([-A-Za-z0-9_.]*)", part)
        if match:
            operator = {"==": "=", ">": "gt", "<": "lt"}.get(match.group(2), match.group(2))
            if operator in ("gt", "lt") and not re.fullmatch(r"-?\d+", match.group(3)):
                raise _parse_error(part)
            requirements.append(Requirement(match.group(1), operator, (match.group(3),)))
            continue
        match = re.fullmatch(rf"(!?)\s*({_KEY})", part)
        if match:
            requirements.append(Requirement(match.group(2), "!exists" if match.group(1) else "exists"))
            continue
        raise _parse_error(part)
    return requirements


def selector_from_object(selector: Optional[dict]) -> Optional[LabelSelector]:
    """A metav1.LabelSelector dict (matchLabels/matchExpressions) as requirements.

    None stays None (a PDB/controller with no selector matches nothing); {} matches everything.
    """
    if selector is None:
        return None
    requirements = [Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expression in selector.get("matchExpressions") or []:
        operator = operators.get(expression.get("operator"))
        if operator is None:
            raise bad_request(f'"{expression.get("operator")}" is not a valid label selector operator')
        requirements.append(Requirement(expression["key"], operator, tuple(expression.get("values") or ())))
    return requirements


def labels_match(requirements: Optional[LabelSelector], labels: Optional[Dict[str, str]]) -> bool:
    if requirements is None:
        return False
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


def selector_to_string(selector: Optional[dict]) -> str:
    """The string form the API puts in `status.selector` (used by kubectl scale and describe)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        op = expression["operator"]
        if op == "Exists":
            parts.append(expression["key"])
        elif op == "DoesNotExist":
            parts.append("!" + expression["key"])
        else:
            parts.append(f'{expression["key"]} {op.lower()} ({",".join(expression.get("values") or [])})')
    return ",".join(parts)


# ---- field selectors ------------------------------------------------------------------------------

FieldRequirement = Tuple[str, str, str]     # (field, "=" | "!=", value)


def _split_unescaped(text: str, separator: str) -> List[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: Optional[str], allowed_fields) -> List[FieldRequirement]:
    if not text or not text.strip():
        return []
    requirements = []
    for part in _split_unescaped(text, ","):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)(.*)", part)
        if not match:
            raise bad_request(f'invalid selector: \'{text}\'; can\'t understand \'{part}\'')
        field_name, operator, value = match.group(1), match.group(2), match.group(3)
        if field_name not in allowed_fields:
            raise bad_request(f'field label not supported: {field_name}')
        requirements.append((field_name, "!=" if operator == "!=" else "=", _unescape(value)))
    return requirements


def field_value(obj: dict, field_name: str) -> str:
    if field_name == "source":      # events: source means source.component
        field_name = "source.component"
    current = obj
    for part in field_name.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return "false" if field_name in ("spec.unschedulable", "spec.hostNetwork") else ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def fields_match(requirements: List[FieldRequirement], obj: dict,
                 value_of: Callable[[dict, str], str] = field_value) -> bool:
    for field_name, operator, value in requirements:
        actual = value_of(obj, field_name)
        if (actual == value) != (operator == "="):
            return False
    return True


def selectors_match(label_selector: LabelSelector, field_selector: List[FieldRequirement], obj: dict) -> bool:
    return (not label_selector or labels_match(label_selector, obj["metadata"].get("labels"))) and \
        fields_match(field_selector, obj)
