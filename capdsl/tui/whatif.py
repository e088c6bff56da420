"""What-if knobs and how a change is written into the plan text.

A what-if never touches the file: it edits the in-memory source text and the app rebuilds
that text through ``capdsl.api.build_text``, so every what-if passes the same validation as
the file. Editing rules, in the plan's own terms:

- a setting that is written (``Plan.settings[path].span``) is edited at its span: only the
  value after the operator changes, so comments and layout around it stay as they are;
- a setting that is not written is inserted into the block that owns it (``growth`` into
  ``service recs { }``, ``monthly <= ...`` into ``budget { }``, ``terms`` into
  ``commitments { }``), creating the block when the file has none;
- in a scenario, a what-if is an override inside ``scenario NAME { }`` (edited in place when
  the scenario already overrides that setting), so the base plan and other scenarios keep
  their values.

This module is pure text processing (no Textual) and is unit-tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from capdsl.lang.diagnostics import Span
    from capdsl.model.plan import Plan, Setting, Workload

KnobKind = Literal[
    "growth", "headroom", "spot_max", "event_scale", "budget_monthly", "budget_total", "terms"
]


class WhatIfError(ValueError):
    """A what-if that cannot be written (bad value, setting in another file, ...)."""


@dataclass(frozen=True)
class Knob:
    """One what-if parameter: a setting path of the plan and how to write it."""

    path: str  # Plan.settings key: "recs.growth", "budget.monthly", "recs.event.annual sale.scale"
    kind: KnobKind
    label: str  # "recs · growth"
    op: Literal["=", "<="]
    default: str  # what the plan means when the setting is not written
    help: str
    workload: str | None = None
    event: str | None = None

    @property
    def key(self) -> str:
        """The attribute as written inside its own block (``growth``, ``monthly``, ``max``)."""
        return {
            "growth": "growth",
            "headroom": "headroom",
            "spot_max": "max",
            "event_scale": "scale",
            "budget_monthly": "monthly",
            "budget_total": "total",
            "terms": "terms",
        }[self.kind]


_HELP: dict[str, str] = {
    "growth": "compound monthly growth of demand, e.g. 6% per month",
    "headroom": "burst headroom over peak demand, e.g. 40%",
    "spot_max": "largest share of demand on spot; 0% forbids spot",
    "event_scale": "demand multiplier during the event, e.g. 6x",
    "budget_monthly": "hard cap on every month's cost, e.g. $80k",
    "budget_total": "cap on the whole horizon's cost, e.g. $1.5M",
    "terms": "reserved terms allowed: [1y, 3y], [1y] or [] (none)",
}

_EVENT_KEY = re.compile(r'^(?P<w>[^.]+)\.event\.(?P<name>"[^"]*"|[^.]+)\.(?P<attr>[^.]+)$')


def knobs_for(plan: Plan) -> list[Knob]:
    """The what-if knobs that make sense for this plan, in a stable order."""
    out: list[Knob] = []
    # a traffic mix (``chat.small``, ``chat.large``) is tuned on its parent block ``chat``
    tops: dict[str, Workload] = {}
    for w in plan.workloads:
        tops.setdefault(w.parent or w.name, w)
    for name, w in tops.items():
        out.append(
            Knob(
                f"{name}.growth",
                "growth",
                f"{name} · growth",
                "=",
                "0% per month",
                _HELP["growth"],
                workload=name,
            )
        )
        if w.kind != "batch":
            out.append(
                Knob(
                    f"{name}.headroom",
                    "headroom",
                    f"{name} · headroom",
                    "=",
                    "0%",
                    _HELP["headroom"],
                    workload=name,
                )
            )
        out.append(
            Knob(
                f"{name}.spot.max",
                "spot_max",
                f"{name} · spot max",
                "=",
                "0%" if not w.spot.allowed else "100%",
                _HELP["spot_max"],
                workload=name,
            )
        )
        seen: set[str] = set()
        # batch events add work in a month (``work =``), they have no scale
        for key in plan.settings if w.kind != "batch" else ():
            m = _EVENT_KEY.match(key)
            if not m or m["w"] != name:
                continue
            event = m["name"].strip('"')
            if event in seen:
                continue
            seen.add(event)
            path = key.rsplit(".", 1)[0] + ".scale"
            out.append(
                Knob(
                    path,
                    "event_scale",
                    f"{name} · {event} · scale",
                    "=",
                    "1x",
                    _HELP["event_scale"],
                    workload=name,
                    event=event,
                )
            )
    out.append(
        Knob(
            "budget.monthly",
            "budget_monthly",
            "budget · monthly",
            "<=",
            "none",
            _HELP["budget_monthly"],
        )
    )
    if "budget.total" in plan.settings:
        out.append(
            Knob(
                "budget.total",
                "budget_total",
                "budget · total",
                "<=",
                "none",
                _HELP["budget_total"],
            )
        )
    out.append(
        Knob("commitments.terms", "terms", "commitments · terms", "=", "[1y, 3y]", _HELP["terms"])
    )
    return out


def find_knob(knobs: Iterable[Knob], path: str) -> Knob | None:
    norm = _norm_path(path)
    return next((k for k in knobs if _norm_path(k.path) == norm), None)


def _norm_path(path: str) -> str:
    return path.replace('"', "").replace(" ", "").lower()


# --------------------------------------------------------------------------- values


def value_of(setting_text: str) -> str:
    """The value part of a setting as written: ``growth = 3% per month`` -> ``3% per month``."""
    pos = _operator(setting_text)
    if pos is None:
        return setting_text.strip()
    return setting_text[pos[1] :].strip()


def current_value(plan: Plan, knob: Knob) -> str:
    """The knob's value in this plan, as the file writes it (or the default)."""
    setting = plan.settings.get(knob.path)
    if setting is not None:
        return value_of(setting.text)
    if knob.kind == "spot_max" and knob.workload:
        spot = plan.settings.get(f"{knob.workload}.spot")
        if spot is not None and value_of(spot.text).lower() == "false":
            return "0%"
    return knob.default


_NUMBER = r"-?\d+(?:\.\d+)?"


def normalise(knob: Knob, raw: str) -> str:
    """Accept what people type (``6``, ``6%``, ``80k``, ``1y 3y``) and write it as the
    language does (``6% per month``, ``$80k``, ``[1y, 3y]``). The build validates the rest."""
    v = " ".join(raw.strip().split())
    if not v:
        raise WhatIfError(f"`{knob.path}` needs a value ({knob.help})")
    if knob.kind == "growth":
        if re.fullmatch(_NUMBER, v):
            return f"{v}% per month"
        if re.fullmatch(_NUMBER + r"\s*%", v):
            return f"{v.replace(' ', '')} per month"
        return v
    if knob.kind in ("headroom", "spot_max"):
        if re.fullmatch(_NUMBER, v):
            return f"{v}%"
        return v.replace(" %", "%")
    if knob.kind == "event_scale":
        if re.fullmatch(_NUMBER, v):
            return f"{v}x"
        return v.replace(" x", "x")
    if knob.kind in ("budget_monthly", "budget_total"):
        if v.lower() in ("none", "off", "no"):
            raise WhatIfError("a budget cannot be removed by a what-if; set a larger cap instead")
        if re.fullmatch(_NUMBER + r"[kMB]?", v):
            return f"${v}"
        return v
    if knob.kind == "terms":
        inner = v.strip("[]").strip()
        if inner.lower() in ("", "none", "no", "off"):
            return "[]"
        terms = [t for t in re.split(r"[\s,]+", inner) if t]
        for t in terms:
            if not re.fullmatch(r"\d+\s*(y|yr|year|years|months?)", t):
                raise WhatIfError(f"`{t}` is not a reserved term (write 1y or 3y)")
        return "[" + ", ".join(terms) + "]"
    return v


# --------------------------------------------------------------------------- text editing


def apply_whatif(
    text: str,
    plan: Plan,
    knob: Knob,
    value: str,
    *,
    path: str,
    scenario: str | None,
) -> str:
    """``text`` with ``knob`` set to ``value`` (already normalised), for ``scenario``."""
    blocks = scan_blocks(text)
    setting = plan.settings.get(knob.path)
    where = _setting_range(text, setting, path) if setting is not None else None
    spot_off: tuple[int, int] | None = None
    if knob.kind == "spot_max" and knob.workload and setting is None:
        off = plan.settings.get(f"{knob.workload}.spot")
        if off is not None and value_of(off.text).lower() == "false":
            spot_off = _setting_range(text, off, path)

    if scenario is not None:
        block = find_block(blocks, "scenario", scenario, parent=None)
        if block is None:
            raise WhatIfError(f"scenario `{scenario}` is not written in {Path(path).name}")
        if where is not None and block.open < where[0] < block.close:
            return _replace_value(text, where, value)
        if spot_off is not None and block.open < spot_off[0] < block.close:
            return _replace(text, spot_off, f"{_scenario_path(knob)} = {value}")
        return insert_item(text, block, f"{_scenario_path(knob)} {knob.op} {value}")

    if where is not None:
        return _replace_value(text, where, value)
    if spot_off is not None:
        return _replace(text, spot_off, f"spot {{ max = {value} }}")
    return _insert_in_owner(text, blocks, knob, value)


def _scenario_path(knob: Knob) -> str:
    """The knob's path as a scenario override writes it: segments that are not plain
    names are quoted (``recs.event."annual sale".scale``)."""
    if knob.kind == "event_scale" and knob.workload and knob.event is not None:
        return f"{knob.workload}.event.{_quote(knob.event)}.scale"
    return knob.path


def _quote(segment: str) -> str:
    return segment if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", segment) else f'"{segment}"'


def _insert_in_owner(text: str, blocks: list[BlockRange], knob: Knob, value: str) -> str:
    item = f"{knob.key} {knob.op} {value}"
    if knob.workload is not None:
        owner = next(
            (
                b
                for b in blocks
                if b.parent is None
                and b.kind in ("service", "batch", "stream")
                and b.labels[:1] == (knob.workload,)
            ),
            None,
        )
        if owner is None:
            raise WhatIfError(
                f"workload `{knob.workload}` is not written in this file; edit it where it is defined"
            )
        if knob.kind == "spot_max":
            spot = find_block(blocks, "spot", None, parent=owner)
            if spot is None:
                return insert_item(text, owner, f"spot {{ max = {value} }}")
            return insert_item(text, spot, item)
        if knob.kind == "event_scale":
            event = find_block(blocks, "event", knob.event, parent=owner)
            if event is None:
                raise WhatIfError(
                    f"event `{knob.event}` of `{knob.workload}` is not written in this file"
                )
            return insert_item(text, event, item)
        return insert_item(text, owner, item)
    kind = "budget" if knob.kind.startswith("budget") else "commitments"
    owner = next((b for b in blocks if b.parent is None and b.kind == kind and not b.labels), None)
    if owner is not None:
        return insert_item(text, owner, item)
    return _append_block(text, blocks, f"{kind} {{\n  {item}\n}}\n")


def _append_block(text: str, blocks: list[BlockRange], block_text: str) -> str:
    """A new top-level block: before the first scenario (they read as a plan's epilogue)."""
    first_scenario = next((b for b in blocks if b.parent is None and b.kind == "scenario"), None)
    if first_scenario is not None:
        at = _line_start(text, first_scenario.header_start)
        return text[:at] + block_text + "\n" + text[at:]
    sep = "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
    return text + sep + block_text


def _replace(text: str, where: tuple[int, int], new: str) -> str:
    return text[: where[0]] + new + text[where[1] :]


def _replace_value(text: str, where: tuple[int, int], value: str) -> str:
    """Replace the value after the operator, keeping the key, operator and spacing."""
    start, end = where
    segment = text[start:end]
    pos = _operator(segment)
    if pos is None:
        return _replace(text, where, value)
    op_end = pos[1]
    while op_end < len(segment) and segment[op_end] in " \t":
        op_end += 1
    if op_end == pos[1]:
        value = " " + value
    # keep trailing whitespace that belongs to the span (rare) outside the replacement
    stripped = segment.rstrip()
    tail = segment[len(stripped) :]
    return text[: start + op_end] + value + tail + text[end:]


def _operator(segment: str) -> tuple[int, int] | None:
    """(start, end) of the first ``<=``, ``>=``, ``=``, ``<``, ``>`` outside quotes."""
    in_str = False
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == '"':
            in_str = not in_str
        elif not in_str and c in "<>=":
            if segment[i : i + 2] in ("<=", ">="):
                return i, i + 2
            return i, i + 1
        i += 1
    return None


def span_offsets(text: str, span: Span) -> tuple[int, int]:
    """Character offsets of a span, from its 1-based lines and columns."""
    starts = _line_starts(text)

    def offset(line: int, column: int) -> int:
        if not 1 <= line <= len(starts):
            raise WhatIfError(f"line {line} is outside the plan text")
        return min(starts[line - 1] + column - 1, len(text))

    return offset(span.line, span.column), offset(span.end_line, span.end_column)


def _setting_range(text: str, setting: Setting, path: str) -> tuple[int, int] | None:
    span = setting.span
    if span is None:
        return None
    if not same_file(span.file, path):
        raise WhatIfError(
            f"`{setting.path}` is written in {span.file}; what-ifs edit only {Path(path).name}"
        )
    start, end = span_offsets(text, span)
    seg = " ".join(text[start:end].split())
    written = " ".join(setting.text.split())
    # a span over the whole item must read as the setting; a span over the value alone
    # must be the end of it. Anything else: the text moved since the plan was built.
    looks_right = (
        seg == written
        or (_key_part(seg) is not None and _key_part(seg) == _key_part(written))
        or (_operator(seg) is None and bool(seg) and written.endswith(seg))
    )
    if not looks_right:
        raise WhatIfError(f"the plan text changed since `{setting.path}` was read; rebuild first")
    return start, end


def _key_part(item: str) -> str | None:
    """``growth`` of ``growth = 3% per month``; None without an operator."""
    pos = _operator(item)
    return None if pos is None else " ".join(item[: pos[0]].split())


def same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class BlockRange:
    """Where a block sits in the text: ``kind labels { ... }``."""

    kind: str
    labels: tuple[str, ...]
    header_start: int  # offset of the kind keyword
    open: int  # offset of "{"
    close: int  # offset of the matching "}" (len(text) when unclosed)
    parent: int | None  # index of the enclosing block in the scan result
    index: int


_HEADER_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s,"]+')


def scan_blocks(text: str) -> list[BlockRange]:
    """Every ``kind labels { }`` block, outermost first, skipping strings and comments."""
    out: list[dict[str, object]] = []
    stack: list[int] = []
    boundary = 0  # start of the current item's text
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "\n":
            boundary = i + 1
        elif c == "{":
            header = _strip_comment(text[boundary:i])
            offset = boundary + (len(header) - len(header.lstrip()))
            if any(op in header for op in ("=", "<", ">")) and "," in header:
                cut = header.rfind(",")
                offset = (
                    boundary + cut + 1 + (len(header[cut + 1 :]) - len(header[cut + 1 :].lstrip()))
                )
                header = header[cut + 1 :]
            tokens = [
                t.strip('"') if t.startswith('"') else t for t in _HEADER_TOKEN.findall(header)
            ]
            out.append(
                {
                    "kind": tokens[0] if tokens else "",
                    "labels": tuple(tokens[1:]),
                    "header_start": offset,
                    "open": i,
                    "close": n,
                    "parent": stack[-1] if stack else None,
                    "index": len(out),
                }
            )
            stack.append(len(out) - 1)
            boundary = i + 1
        elif c == "}":
            if stack:
                out[stack.pop()]["close"] = i
            boundary = i + 1
        i += 1
    return [BlockRange(**b) for b in out]  # type: ignore[arg-type]


def _strip_comment(header: str) -> str:
    return header.split("#", 1)[0] if "#" in header and '"' not in header else header


def find_block(
    blocks: list[BlockRange], kind: str, label: str | None, *, parent: BlockRange | None
) -> BlockRange | None:
    """The first block of ``kind`` (with first label ``label`` when given) directly in
    ``parent`` (None: at the top level)."""
    want_parent = parent.index if parent is not None else None
    for b in blocks:
        if b.kind != kind or b.parent != want_parent:
            continue
        if label is None or (b.labels and b.labels[0] == label):
            return b
    return None


def insert_item(text: str, block: BlockRange, item: str) -> str:
    """Add ``item`` as the last item of ``block``, matching the block's layout."""
    open_, close = block.open, block.close
    body = text[open_ + 1 : close]
    if "\n" not in body:
        inner = body.strip()
        if not inner:
            return text[: open_ + 1] + f" {item} " + text[close:]
        before = text[: open_ + 1] + body.rstrip()
        sep = "" if inner.endswith(",") else ","
        return before + f"{sep} {item} " + text[close:]
    indent = _body_indent(text, block)
    close_line = _line_start(text, close)
    if text[close_line:close].strip() == "":
        return text[:close_line] + f"{indent}{item}\n" + text[close_line:]
    # "}" shares its line with the last item: put the new item on a line of its own
    return (
        text[:close].rstrip()
        + f"\n{indent}{item}\n"
        + _indent_of(text, block.header_start)
        + text[close:]
    )


def _body_indent(text: str, block: BlockRange) -> str:
    for line in text[block.open + 1 : block.close].split("\n")[1:]:
        if line.strip() and not line.strip().startswith("}"):
            return line[: len(line) - len(line.lstrip())]
    return _indent_of(text, block.header_start) + "  "


def _indent_of(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip())]
