"""ASP.NET-style route templates as the Functions host matches them (``{id:int?}``, ``{*rest}``, ...)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

_CONSTRAINT_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "decimal": r"-?\d+(?:\.\d+)?",
    "double": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "float": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "guid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|\{[0-9a-fA-F-]{36}\}",
    "alpha": r"[A-Za-z]+",
    "datetime": r"[^/]+",
}


class RouteTemplateError(ValueError):
    """A route template this host cannot parse; raised at load time with the template."""


@dataclass
class Param:
    name: str
    constraints: list[tuple[str, list[str]]]
    optional: bool
    default: str | None
    catch_all: bool


def _check(value: str, constraints: list[tuple[str, list[str]]]) -> bool:
    for name, args in constraints:
        try:
            if name == "minlength" and len(value) < int(args[0]):
                return False
            if name == "maxlength" and len(value) > int(args[0]):
                return False
            if name == "length":
                if len(args) == 1 and len(value) != int(args[0]):
                    return False
                if len(args) == 2 and not int(args[0]) <= len(value) <= int(args[1]):
                    return False
            if name in ("min", "max", "range"):
                n = int(value)
                if name == "min" and n < int(args[0]):
                    return False
                if name == "max" and n > int(args[0]):
                    return False
                if name == "range" and not int(args[0]) <= n <= int(args[1]):
                    return False
            if name == "regex" and not re.fullmatch(args[0], value):
                return False
            if name == "guid":
                uuid.UUID(value.strip("{}"))
            if name == "datetime":
                datetime.fromisoformat(value)
            if name in ("int", "long") and name == "int" and not -(2**31) <= int(value) < 2**31:
                return False
        except ValueError:
            return False
    return True


class RouteTemplate:
    """A compiled template; ``match(path)`` returns the route params or None."""

    def __init__(self, template: str) -> None:
        self.template = template.strip("/")
        self.params: list[Param] = []
        self.literal_segments = 0
        parts: list[str] = []
        segments = self.template.split("/") if self.template else []
        for index, seg in enumerate(segments):
            seg_regex, optional_only = self._segment(seg, last=index == len(segments) - 1)
            if not any(c == "{" for c in seg):
                self.literal_segments += 1
            if optional_only:
                parts.append(f"(?:/{seg_regex})?")
            else:
                parts.append("/" + seg_regex)
        pattern = "".join(parts) if parts else ""
        self.regex = re.compile("^" + pattern + "/?$", re.IGNORECASE)

    def _segment(self, seg: str, last: bool) -> tuple[str, bool]:
        out = []
        pos = 0
        only_param_optional = False
        tokens = list(re.finditer(r"\{([^{}]+)\}", seg))
        for m in tokens:
            out.append(re.escape(seg[pos : m.start()]))
            body = m.group(1)
            catch_all = body.startswith("*")
            body = body.lstrip("*")
            default = None
            if "=" in body:
                body, default = body.split("=", 1)
            optional = body.endswith("?")
            body = body.rstrip("?")
            name, *cons = body.split(":")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise RouteTemplateError(f"route {self.template!r}: bad parameter name {name!r}")
            constraints: list[tuple[str, list[str]]] = []
            for c in cons:
                cm = re.fullmatch(r"([a-z]+)(?:\((.*)\))?", c)
                if not cm:
                    raise RouteTemplateError(f"route {self.template!r}: bad constraint {c!r}")
                cname, cargs = cm.group(1), cm.group(2)
                known = set(_CONSTRAINT_PATTERNS) | {
                    "minlength",
                    "maxlength",
                    "length",
                    "min",
                    "max",
                    "range",
                    "regex",
                    "required",
                }
                if cname not in known:
                    raise RouteTemplateError(f"route {self.template!r}: unknown constraint {cname!r}")
                constraints.append((cname, [a.strip() for a in cargs.split(",")] if cargs else []))
            self.params.append(Param(name, constraints, optional or default is not None, default, catch_all))
            base = ".*" if catch_all else "[^/]+"
            for cname, _ in constraints:
                if cname in _CONSTRAINT_PATTERNS and not catch_all:
                    base = _CONSTRAINT_PATTERNS[cname]
            group = f"(?P<{name}>{base})"
            if (optional or default is not None) and len(tokens) == 1 and seg == m.group(0):
                only_param_optional = True
            out.append(group)
            pos = m.end()
        out.append(re.escape(seg[pos:]))
        if catch_all_only := (len(tokens) == 1 and seg == tokens[0].group(0) and seg.startswith("{*")):
            return "".join(out), catch_all_only
        return "".join(out), only_param_optional

    @property
    def sort_key(self) -> tuple[int, int, int]:
        catch_all = sum(1 for p in self.params if p.catch_all)
        return (catch_all, -self.literal_segments, len(self.params))

    def match(self, path: str) -> dict[str, str] | None:
        path = "/" + path.strip("/") if path.strip("/") else ""
        m = self.regex.match(path)
        if not m:
            return None
        values: dict[str, str] = {}
        for p in self.params:
            v = m.group(p.name)
            if v is None or v == "":
                if p.default is not None:
                    values[p.name] = p.default
                continue
            if not _check(v, p.constraints):
                return None
            values[p.name] = v
        return values
