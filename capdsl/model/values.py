"""Typed setting values: expressions -> planner values, with schema-aware diagnostics.

``Reader.get(section, key)`` evaluates a setting (``capdsl.lang.evaluate``: ``let``
constants, arithmetic, exact units) and converts it to what the schema says it is
(``SettingSpec.kind``): a fraction, seconds, GiB, a rate in the workload's unit per second,
Decimal money, ... Problems are diagnostics at the value's span, worded from the schema:

    error[E0207]: `headroom` expects a percentage (`30%`), got a duration `30 ms`

Conventions: percentages and multipliers are plain floats (``30%`` -> 0.3, ``4x`` -> 4.0);
durations are seconds; memory is GiB; money is ``Decimal`` (per hour for prices, per month
for budgets); rates are workload units per second; batch work is work units per month.
A growth written per year compounds (``40% per year`` -> 1.4^(1/12) - 1 per month); any
other period converts linearly.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean, error
from capdsl.lang.evaluate import describe, evaluate
from capdsl.lang.quantity import DimensionError, UnitError, UnitRegistry, Value
from capdsl.model.schema import SettingSpec
from capdsl.model.shapes import DAILY, WEEKLY
from capdsl.model.tree import Entry, Section

Converter = Callable[["Reader", Entry, SettingSpec, Any], Any]

_YEAR_WORDS = ("y", "yr", "year", "years")


class Invalid(Exception):
    """A value that does not fit its setting (the diagnostic is already recorded)."""


def _source(expr: ast.Expr) -> str:
    text = getattr(expr, "text", None)
    if text:
        return str(text)
    if isinstance(expr, ast.String):
        return f'"{expr.value}"'
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Bool):
        return "true" if expr.value else "false"
    if isinstance(expr, ast.Month):
        return expr.text
    if isinstance(expr, ast.Redundancy):
        return f"N+{expr.k}"
    return ""


class Reader:
    """Evaluates settings of one plan; collects diagnostics instead of raising."""

    def __init__(
        self,
        registry: UnitRegistry,
        env: Mapping[str, object],
        *,
        hours_per_month: float = 730.0,
        scenarios: tuple[str, ...] = (),
    ):
        self.registry = registry
        self.env = env
        self.hours_per_month = hours_per_month
        self.scenarios = scenarios
        self.diagnostics: list[Diagnostic] = []
        self.units: dict[int, str] = {}  # id(section) -> the workload unit for rates

    # ------------------------------------------------------------------ reporting

    def fail(self, code: str, message: str, span: Span | None, **kw: Any) -> Invalid:
        self.diagnostics.append(error(code, message, span, **kw))
        return Invalid()

    def wrong(self, entry: Entry, spec: SettingSpec, got: object, *, detail: str = "") -> Invalid:
        shown = _source(entry.value)
        got_text = describe(got) + (f" `{shown}`" if shown else "")
        return self.fail(
            "E0207",
            f"`{entry.key}` expects {spec.expects}, got {got_text}",
            entry.value_span,
            label=detail or f"this is {describe(got)}",
            help=f"write `{entry.key}` as {spec.expects}",
        )

    def out_of_range(self, entry: Entry, why: str, fix: str) -> Invalid:
        return self.fail("E0402", f"`{entry.key}` {why}", entry.value_span, label=why, help=fix)

    # ------------------------------------------------------------------ access

    def get(self, section: Section, key: str, *, unit: str | None = None) -> Any:
        """The typed value of ``key`` in ``section``; None when absent or invalid."""
        entry = section.entry(key)
        if entry is None:
            return None
        spec = section.setting_spec(key)
        if spec is None:
            return None
        return self.convert(entry, spec, unit=unit)

    def convert(self, entry: Entry, spec: SettingSpec, *, unit: str | None = None) -> Any:
        if id(entry) in self._cache:
            return self._cache[id(entry)]
        try:
            raw = self.evaluate(entry.value, spec)
            value = CONVERTERS[spec.kind](self, entry, spec, raw if unit is None else (raw, unit))
        except Invalid:
            value = None
        self._cache[id(entry)] = value
        return value

    @property
    def _cache(self) -> dict[int, Any]:
        cache: dict[int, Any] = self.__dict__.setdefault("_values", {})
        return cache

    def evaluate(self, expr: ast.Expr, spec: SettingSpec) -> Any:
        try:
            return evaluate(expr, self.env, self.registry, names=None)
        except DiagnosticError as exc:
            self.diagnostics += exc.diagnostics
            raise Invalid() from None

    # ------------------------------------------------------------------ helpers

    def quantity(self, entry: Entry, spec: SettingSpec, raw: object, unit: str) -> float:
        """``raw`` in ``unit`` as a float, or E0401."""
        if isinstance(raw, Value):
            try:
                return float(raw.to(unit, self.registry))
            except (DimensionError, UnitError):
                pass
        raise self.wrong(entry, spec, raw)

    def fraction_of(self, entry: Entry, spec: SettingSpec, raw: object) -> Fraction:
        if isinstance(raw, Value) and raw.dimensionless:
            return raw.magnitude
        raise self.wrong(entry, spec, raw)


# --------------------------------------------------------------------------- converters


def _fraction(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    value = float(r.fraction_of(e, s, raw))
    if value < 0 or value > 1:
        raise r.out_of_range(
            e, "must be between 0% and 100%", f"write `{e.key}` as a percentage like `30%`"
        )
    return value


def _ratio(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    """A non-negative share that may exceed 100% (``headroom = 150%``)."""
    value = float(r.fraction_of(e, s, raw))
    if value < 0 or value > 10:
        raise r.out_of_range(
            e, "must be between 0% and 1000%", f"write `{e.key}` as a percentage like `30%`"
        )
    return value


def _multiplier(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    value = float(r.fraction_of(e, s, raw))
    if value <= 0:
        raise r.out_of_range(e, "must be positive", f"write `{e.key}` like `2x`")
    return value


def _positive(r: Reader, e: Entry, value: float, what: str = "must be positive") -> float:
    if not value > 0:
        raise r.out_of_range(e, what, f"give `{e.key}` a positive value")
    return value


def _duration(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    return _positive(r, e, r.quantity(e, s, raw, "s"))


def _hours(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    return _positive(r, e, r.quantity(e, s, raw, "h"))


def _months(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> int:
    if isinstance(raw, Value) and raw.dimensionless:
        months = float(raw.magnitude)
    else:
        months = r.quantity(e, s, raw, "month")
    if abs(months - round(months)) > 1e-9 or months < 0:
        raise r.out_of_range(
            e, "must be a whole number of months", f"write `{e.key}` like `24 months` or `2 years`"
        )
    return round(months)


def _memory(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    return _positive(r, e, r.quantity(e, s, raw, "GiB"))


def _int(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> int:
    if isinstance(raw, Value) and dict(raw.dims) in ({}, {"instance": 1}):
        value = raw.magnitude
        if value.denominator == 1 and value >= 0:
            return int(value)
        raise r.out_of_range(e, "must be a whole number", f"write `{e.key}` like `3`")
    raise r.wrong(e, s, raw)


def _number(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    value = float(r.fraction_of(e, s, raw))
    if value < 0:
        raise r.out_of_range(e, "must not be negative", f"write `{e.key}` as a number")
    return value


def _money_amount(r: Reader, e: Entry, s: SettingSpec, raw: Any, unit: str) -> Decimal:
    if isinstance(raw, Value):
        try:
            value = raw.to(unit, r.registry)
        except (DimensionError, UnitError):
            raise r.wrong(e, s, raw) from None
        if value < 0:
            raise r.out_of_range(e, "must not be negative", f"write `{e.key}` as {s.expects}")
        return Decimal(value.numerator) / Decimal(value.denominator)
    raise r.wrong(e, s, raw)


def _money(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> Decimal:
    return _money_amount(r, e, s, raw, "$")


def _money_per_hour(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> Decimal:
    return _money_amount(r, e, s, raw, "$/h")


def _money_per_month(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> Decimal:
    """``$60k`` (a month's cap) or ``$60k/month`` (a rate, in plan billed months)."""
    if isinstance(raw, Value) and dict(raw.dims).get("time") == -1:
        per_hour = _money_amount(r, e, s, raw, "$/h")
        return per_hour * Decimal(str(r.hours_per_month))
    return _money(r, e, s, raw)


def _money_rate(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> Decimal:
    """A spend rate per hour: ``$40/h`` or ``$30k/month`` (billed month)."""
    if isinstance(raw, Value) and dict(raw.dims).get("time") == -1:
        return _money_amount(r, e, s, raw, "$/h")
    raise r.wrong(e, s, raw)


def _string(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, ast.Name):
        return raw.name
    raise r.wrong(e, s, raw)


def _strings(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, ast.Name | ast.Path):
            out.append(item.name if isinstance(item, ast.Name) else item.text)
        else:
            raise r.wrong(e, s, item)
    return tuple(out)


def _word(r: Reader, e: Entry, s: SettingSpec, raw: Any, span: Span) -> str:
    word = raw.name if isinstance(raw, ast.Name) else raw if isinstance(raw, str) else None
    if word is None:
        raise r.wrong(e, s, raw)
    if word not in s.choices:
        raise r.fail(
            "E0311",
            f"unknown value `{word}` for `{e.key}`",
            span,
            label="not one of the choices",
            help=did_you_mean(word, s.choices)
            or "choose one of " + ", ".join(f"`{c}`" for c in s.choices),
        )
    return word


def _enum(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> str:
    return _word(r, e, s, raw, e.value_span)


def _enums(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    nodes = e.value.items if isinstance(e.value, ast.List) else (e.value,)
    return tuple(_word(r, e, s, item, node.span) for item, node in zip(items, nodes, strict=False))


def _bool(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    raise r.wrong(e, s, raw)


def _month(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[int, int]:
    if isinstance(raw, ast.Month):
        return raw.year, raw.month
    raise r.wrong(e, s, raw)


def _month_or_date(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> dt.date:
    """A month (its first day) or a date. The flag of which it was is not needed: a month
    and the first of that month mean the same for coverage."""
    if isinstance(raw, ast.Month):
        return dt.date(raw.year, raw.month, 1)
    if isinstance(raw, ast.Date):
        return raw.value.date()
    raise r.wrong(e, s, raw)


def _datetime(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> dt.datetime:
    if isinstance(raw, ast.Date):
        return raw.value
    if isinstance(raw, ast.Month):
        return dt.datetime(raw.year, raw.month, 1)
    raise r.wrong(e, s, raw)


def _redundancy(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> int:
    if isinstance(raw, ast.Redundancy):
        return raw.k
    raise r.wrong(e, s, raw)


def _counted(
    r: Reader, e: Entry, s: SettingSpec, raw: Any, kinds: tuple[str, ...]
) -> tuple[int, str]:
    if (
        isinstance(raw, Value)
        and len(raw.dims) == 1
        and raw.dims[0][1] == 1
        and raw.dims[0][0] in kinds
    ):
        value = raw.magnitude
        if value.denominator != 1 or value < 0:
            raise r.out_of_range(e, "must be a whole number", f"write `{e.key}` as {s.expects}")
        return int(value), raw.dims[0][0]
    raise r.wrong(e, s, raw)


def _survive(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[int, str]:
    return _counted(r, e, s, raw, ("zone", "region"))


def _quota_max(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[int, str]:
    return _counted(r, e, s, raw, ("instance", "vcpu", "gpu"))


def _term(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> int:
    months = _months(r, e, s, raw)
    if months not in (12, 36):
        raise r.out_of_range(
            e, f"term of {months} months is not offered", "reserved terms are `1y` or `3y`"
        )
    return months


def _terms(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[int, ...]:
    items = raw if isinstance(raw, list) else [raw]
    return tuple(_term(r, e, s, item) for item in items)


def _growth(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    if isinstance(raw, Value) and raw.dims == (("time", -1),):
        per_year = isinstance(e.value, ast.Quantity) and e.value.unit.split("/")[-1] in _YEAR_WORDS
        if per_year:
            yearly = float(raw.to("1/year", r.registry))
            if yearly <= -1:
                raise r.out_of_range(
                    e, "would shrink demand below zero", "use a growth above -100% per year"
                )
            return (1.0 + yearly) ** (1.0 / 12.0) - 1.0
        monthly = float(raw.to("1/month", r.registry))
        if monthly <= -1:
            raise r.out_of_range(
                e, "would shrink demand below zero", "use a growth above -100% per month"
            )
        return monthly
    raise r.wrong(e, s, raw, detail="a growth needs a period, like `3% per month`")


def _factors(r: Reader, e: Entry, s: SettingSpec, raw: Any, n: int) -> tuple[float, ...]:
    if not isinstance(raw, list):
        raise r.wrong(e, s, raw)
    if len(raw) != n:
        raise r.out_of_range(e, f"needs {n} factors, got {len(raw)}", f"list exactly {n} factors")
    out = []
    for item in raw:
        if not (isinstance(item, Value) and item.dimensionless):
            raise r.wrong(e, s, item)
        out.append(float(item.magnitude))
    if any(x < 0 for x in out) or sum(out) <= 0:
        raise r.out_of_range(
            e, "factors must be non-negative and not all zero", "use relative factors like `1.2`"
        )
    return tuple(out)


def _shape(
    r: Reader, e: Entry, s: SettingSpec, raw: Any, named: Mapping[str, tuple[float, ...]], n: int
) -> tuple[str | None, tuple[float, ...]]:
    if isinstance(raw, str | ast.Name):
        word = raw if isinstance(raw, str) else raw.name
        if word not in named:
            raise r.fail(
                "E0311",
                f"unknown shape `{word}` for `{e.key}`",
                e.value_span,
                label="not a named shape",
                help=did_you_mean(word, named)
                or "named shapes: " + ", ".join(f"`{k}`" for k in named),
            )
        return word, named[word]
    return None, _factors(r, e, s, raw, n)


def _shape24(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[str | None, tuple[float, ...]]:
    return _shape(r, e, s, raw, DAILY, 24)


def _shape7(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[str | None, tuple[float, ...]]:
    return _shape(r, e, s, raw, WEEKLY, 7)


def _factors12(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[float, ...]:
    return _factors(r, e, s, raw, 12)


def _unit(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> str:
    if isinstance(raw, ast.Name):
        word = raw.name
    elif isinstance(raw, str):
        word = raw
    else:
        raise r.wrong(e, s, raw)
    try:
        unit = r.registry.parse_unit(word)
    except UnitError as exc:
        raise r.fail(
            "E0203",
            f"unknown unit `{word}`",
            e.value_span,
            label="not a known unit",
            help=exc.help or f"declare it at the top of the plan: `unit {word}`",
        ) from None
    if len(unit.dims) not in (1, 2) or unit.dims == (("time", 1),):
        raise r.fail(
            "E0402",
            f"`unit = {word}` is not a count unit",
            e.value_span,
            label="a workload counts requests, tokens, events or work",
            help="use a unit like `request`, `token` or `gpu_hour` (declare your own: `unit request`)",
        )
    return word


def _rate(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    """A rate in the workload's unit per second (``raw`` carries the unit as a pair)."""
    value, unit = raw
    return _positive(r, e, r.quantity(e, s, value, f"{unit}/s"), "must be positive")


def _per_basis(r: Reader, e: Entry, s: SettingSpec, value: Any, base: str) -> tuple[float, str]:
    """``base`` alone, ``base/vcpu`` or ``base/gpu``: (amount in base, basis)."""
    for basis, suffix in (("instance", ""), ("vcpu", "/vcpu"), ("gpu", "/gpu")):
        if isinstance(value, Value):
            try:
                return float(value.to(base + suffix, r.registry)), basis
            except (DimensionError, UnitError):
                continue
    raise r.wrong(e, s, value)


def _throughput(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[float, str]:
    value, unit = raw
    base = f"{unit}/s"
    if unit in ("gpu_hour", "vcpu_hour"):
        base = f"{unit}/h"
        amount, basis = _per_basis(r, e, s, value, base)
        return _positive(r, e, amount / 3600.0), basis
    amount, basis = _per_basis(r, e, s, value, base)
    return _positive(r, e, amount), basis


def _concurrency(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[float, str]:
    if isinstance(raw, Value):
        dims = dict(raw.dims)
        if not dims:
            return _positive(r, e, float(raw.magnitude)), "instance"
        if dims in ({"vcpu": -1}, {"gpu": -1}):
            basis = next(iter(dims))
            return _positive(r, e, float(raw.magnitude)), basis
    raise r.wrong(e, s, raw)


def _work_unit_amount(
    r: Reader, e: Entry, s: SettingSpec, value: Any, unit: str, per: str
) -> float:
    return r.quantity(e, s, value, f"{unit}{per}")


def _work(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    """Work per month: ``1200 gpu_hour per month``, a rate ``3 gpu_hour/day``, or an amount
    (taken as per month). Rates count the plan's billed hours per month."""
    value, unit = raw
    if isinstance(value, Value):
        try:
            per_hour = float(value.to(f"{unit}/h", r.registry))
            return per_hour * r.hours_per_month
        except (DimensionError, UnitError):
            pass
    return _work_amount(r, e, s, raw)


def _work_amount(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> float:
    value, unit = raw if isinstance(raw, tuple) else (raw, "gpu_hour")
    amount = r.quantity(e, s, value, unit)
    if amount < 0:
        raise r.out_of_range(e, "must not be negative", f"write `{e.key}` like `1200 {unit}`")
    return amount


def _latency(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> tuple[float, float]:
    """``latency p95 < 80 ms`` -> (0.95, 0.08)."""
    q = e.qualifier
    if q is None or not (q.name[:1] == "p" and q.name[1:].isdigit()):
        raise r.fail(
            "E0401",
            "`latency` needs a percentile",
            q.span if q else e.span,
            label="expected `p50`, `p95`, `p99`, `p999`...",
            help="write it like `latency p95 < 80 ms`",
        )
    digits = q.name[1:]
    percentile = float(f"0.{digits}") if len(digits) > 2 else int(digits) / 100
    if not 0 < percentile < 1:
        raise r.fail(
            "E0402", f"`{q.name}` is not a percentile below 100", q.span, help="use `p50` to `p999`"
        )
    if e.op not in ("<", "<="):
        raise r.fail(
            "E0401",
            "a latency target is an upper bound",
            e.span,
            help=f"write `latency {q.name} < ...`",
        )
    target = _duration(r, e, s, raw)
    return percentile, target


def _globs(
    r: Reader, e: Entry, s: SettingSpec, raw: Any
) -> tuple[ast.Path | ast.String | ast.Name, ...]:
    nodes = e.value.items if isinstance(e.value, ast.List) else (e.value,)
    out = []
    for node in nodes:
        if not isinstance(node, ast.Path | ast.String | ast.Name):
            raise r.wrong(e, s, node)
        out.append(node)
    return tuple(out)


def _workloads(
    r: Reader, e: Entry, s: SettingSpec, raw: Any
) -> tuple[ast.Name | ast.Path | ast.String, ...]:
    return _globs(r, e, s, raw)


def _scenario(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> str:
    word = raw.name if isinstance(raw, ast.Name) else raw if isinstance(raw, str) else None
    if word is None:
        raise r.wrong(e, s, raw)
    if word not in r.scenarios:
        raise r.fail(
            "E0310",
            f"unknown scenario `{word}`",
            e.value_span,
            label="no scenario of that name",
            help=did_you_mean(word, r.scenarios)
            or (
                "scenarios: " + ", ".join(r.scenarios)
                if r.scenarios
                else "declare it: `scenario NAME { ... }`"
            ),
        )
    return word


def _table(r: Reader, e: Entry, s: SettingSpec, raw: Any) -> dict[str, float]:
    """``csv("file.csv", column = "x")``: month -> value; see ``read_csv``."""
    value, unit = raw
    if not (isinstance(value, ast.Call) and value.func == "csv"):
        raise r.wrong(e, s, value)
    return read_csv(r, e, value, unit)


CONVERTERS: dict[str, Converter] = {
    "fraction": _fraction,
    "ratio": _ratio,
    "multiplier": _multiplier,
    "duration": _duration,
    "hours": _hours,
    "months": _months,
    "memory": _memory,
    "int": _int,
    "number": _number,
    "money": _money,
    "money_per_hour": _money_per_hour,
    "money_per_month": _money_per_month,
    "money_rate": _money_rate,
    "string": _string,
    "strings": _strings,
    "enum": _enum,
    "enums": _enums,
    "bool": _bool,
    "month": _month,
    "month_or_date": _month_or_date,
    "datetime": _datetime,
    "redundancy": _redundancy,
    "survive": _survive,
    "quota_max": _quota_max,
    "term": _term,
    "terms": _terms,
    "growth": _growth,
    "shape24": _shape24,
    "shape7": _shape7,
    "factors12": _factors12,
    "unit": _unit,
    "rate": _rate,
    "throughput": _throughput,
    "concurrency": _concurrency,
    "work": _work,
    "work_amount": _work_amount,
    "latency": _latency,
    "globs": _globs,
    "workloads": _workloads,
    "scenario": _scenario,
    "table": _table,
}

# Kinds whose converter needs the workload's unit (``Reader.get(..., unit=...)``).
UNIT_KINDS = frozenset({"rate", "throughput", "work", "work_amount", "table"})


# --------------------------------------------------------------------------- csv


def _kwarg(call: ast.Call, name: str) -> ast.Expr | None:
    return next((k.value for k in call.kwargs if k.name == name), None)


def read_csv(r: Reader, e: Entry, call: ast.Call, unit: str) -> dict[str, float]:
    """A monthly table: a ``month`` column (``2027-01``) and the named value column.

    ``csv("forecast.csv", column = "recs", unit = "prediction/day")``: the path is relative
    to the file the setting is written in; ``unit`` says what the numbers are (default: the
    workload unit per second for rates, work units per month for batch)."""
    args = list(call.args)
    path_node = args[0] if args else _kwarg(call, "path")
    column_node = _kwarg(call, "column") or (args[1] if len(args) > 1 else None)
    unit_node = _kwarg(call, "unit")
    if not isinstance(path_node, ast.String) or not isinstance(column_node, ast.String):
        raise r.fail(
            "E0318",
            "`csv` needs a file and a column",
            call.span,
            help='write it like `csv("forecast.csv", column = "recs")`',
        )
    default_unit = f"{unit}/month" if unit in ("gpu_hour", "vcpu_hour") else f"{unit}/s"
    table_unit = unit_node.value if isinstance(unit_node, ast.String) else default_unit
    try:
        factor = float(r.registry.quantity(1, table_unit).to(default_unit, r.registry))
    except (UnitError, DimensionError):
        raise r.fail(
            "E0318",
            f"`{table_unit}` is not a unit of `{e.key}`",
            unit_node.span if unit_node else call.span,
            help=f'give the table\'s unit like `unit = "{unit}/day"`',
        ) from None
    base = (
        os.path.dirname(e.span.file) if e.span.file not in ("<string>", "<stdin>") else os.getcwd()
    )
    path = os.path.join(base, path_node.value)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise r.fail(
            "E0318",
            f"cannot read `{path_node.value}`: {exc.strerror or exc}",
            path_node.span,
            help="the path is relative to the plan file",
        ) from None
    column = column_node.value
    header = list(rows[0]) if rows else []
    if "month" not in header or column not in header:
        missing = "month" if "month" not in header else column
        raise r.fail(
            "E0318",
            f"`{path_node.value}` has no column `{missing}`",
            column_node.span if missing == column else path_node.span,
            label="no such column",
            help=did_you_mean(missing, header)
            or (f"its columns: {', '.join(header)}" if header else "the file is empty"),
        )
    out: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        month, text = (row.get("month") or "").strip(), (row.get(column) or "").strip()
        if not text:
            continue
        try:
            year, mon = month.split("-")
            label = f"{int(year):04d}-{int(mon):02d}"
            value = float(text)
            if not 1 <= int(mon) <= 12 or value < 0 or not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise r.fail(
                "E0318",
                f"`{path_node.value}` line {line}: cannot read month `{month}` / value `{text}`",
                path_node.span,
                help="months are `YYYY-MM`; values are non-negative numbers",
            ) from None
        out[label] = value * factor
    return out
