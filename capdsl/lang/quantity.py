"""Units, dimensions and exact quantities for the .cap language.

Why an in-house table and not pint: pint's default registry misreads this domain (``$``
and ``k`` become Boltzmann-constant arithmetic, ``M`` is molar, bytes are
dimensionless, a month is 730.5 h), so it would be used with an *empty* registry anyway;
what is left of pint then is a unit-expression parser and a dimension algebra that are
each a few dozen lines here, while pint would add ~0.3 s of import time, float-first
magnitudes (money must be exact), and a registry object per plan for the plan's own
count units. The table below is the whole unit vocabulary of the language
(docs/language.md, "Units"); ``Fraction`` keeps every conversion exact.

Conventions: base units are the second (time), the byte (information), the plan currency
(``$``/``USD``) and one of each count (``instance``, ``vcpu``, ``gpu``, ``zone``,
``region`` and every plan-declared unit such as ``prediction``). A month is 730 h (cloud
billing), a year 12 months; ``%`` is 1/100 and ``x`` is 1, both dimensionless. ``M`` is
mega only as a number's scale suffix (the lexer applies it), never a unit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

from capdsl.lang.diagnostics import did_you_mean

Dims = tuple[tuple[str, int], ...]
"""A dimension vector: sorted ``(dimension, exponent)`` pairs, exponents non-zero."""

TIME = "time"
INFORMATION = "information"
CURRENCY = "currency"
COUNTS = ("instance", "vcpu", "gpu", "zone", "region")

HOUR = Fraction(3600)
MONTH = 730 * HOUR
YEAR = 12 * MONTH

# name -> (factor to base units, dims)
_BUILTIN: dict[str, tuple[Fraction, Dims]] = {}


def _add(names: str, factor: Fraction | int, dims: Dims) -> None:
    for name in names.split():
        _BUILTIN[name] = (Fraction(factor), dims)


_T: Dims = ((TIME, 1),)
_add("ms", Fraction(1, 1000), _T)
_add("s sec second", 1, _T)
_add("min minute", 60, _T)
_add("h hr hour", HOUR, _T)
_add("day", 24 * HOUR, _T)
_add("week", 7 * 24 * HOUR, _T)
_add("month", MONTH, _T)
_add("y yr year", YEAR, _T)
_I: Dims = ((INFORMATION, 1),)
_add("B byte", 1, _I)
for _i, _p in enumerate("KMGTP", start=1):
    _add(f"{_p}B", 1000**_i, _I)
    _add(f"{_p}iB", 1024**_i, _I)
_add("$ USD", 1, ((CURRENCY, 1),))
for _c in COUNTS:
    _add(_c, 1, ((_c, 1),))
_add("gpu_hour", HOUR, (("gpu", 1), (TIME, 1)))
_add("vcpu_hour", HOUR, ((TIME, 1), ("vcpu", 1)))
_add("%", Fraction(1, 100), ())
_add("x", 1, ())

# Words that take a plural `s` (abbreviations such as `ms`, `GB`, `h` do not).
_PLURALS = {
    "sec", "second", "min", "minute", "hr", "hour", "day", "week", "month", "yr", "year",
    "byte", "instance", "vcpu", "gpu", "zone", "region", "gpu_hour", "vcpu_hour",
}  # fmt: skip

# Other ISO 4217 currencies: each its own dimension (no exchange rates in a plan).
CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "INR",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "BRL",
        "MXN",
        "SGD",
        "HKD",
        "KRW",
        "ZAR",
        "ILS",
    ]
)


# --------------------------------------------------------------------------- errors


class UnitError(ValueError):
    """An unknown unit word or a malformed unit expression."""

    def __init__(self, message: str, word: str = "", candidates: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.word = word
        self.candidates = list(candidates)
        self.help = suggest_unit(word, self.candidates) if word else None


def suggest_unit(word: str, candidates: Iterable[str]) -> str | None:
    """ "did you mean" for a unit word, stricter than for names (unit words are short, so
    a loose match misleads: `prediction` is not a typo of `region`)."""
    cands = list(dict.fromkeys(candidates))
    forms = [word, *_singulars(word)]
    close = {c for f in forms for c in difflib.get_close_matches(f, cands, n=3, cutoff=0.7)}
    close |= {c for c in cands if c.lower() == word.lower()}
    return did_you_mean(word, [c for c in cands if c in close]) if close else None


class DimensionError(ValueError):
    """Quantities of different dimensions combined or converted (``80 ms + 16 GiB``)."""

    def __init__(self, message: str, left: Dims = (), right: Dims = ()):
        super().__init__(message)
        self.message = message
        self.left = left
        self.right = right


# --------------------------------------------------------------------------- dims


def _combine(a: Dims, b: Dims, sign: int) -> Dims:
    out = dict(a)
    for dim, exp in b:
        out[dim] = out.get(dim, 0) + sign * exp
    return tuple(sorted((d, e) for d, e in out.items() if e))


_BASE_SYMBOL = {TIME: "s", INFORMATION: "B", CURRENCY: "$"}


def dims_text(dims: Dims) -> str:
    """Base-unit text of a dimension vector: ``prediction/s``, ``$/s``, ``gpu*s``."""
    num = [(_BASE_SYMBOL.get(d, d), e) for d, e in dims if e > 0]
    den = [(_BASE_SYMBOL.get(d, d), -e) for d, e in dims if e < 0]
    # Money and counts read first: `$/s`, `prediction/s/vcpu`.
    num.sort(key=lambda t: (t[0] == "s", t[0] == "B", t[0]))
    den.sort(key=lambda t: (t[0] != "s", t[0]))

    def term(sym: str, exp: int) -> str:
        return sym if exp == 1 else f"{sym}^{exp}"

    text = "*".join(term(s, e) for s, e in num) or ("1" if den else "")
    for s, e in den:
        text += "/" + term(s, e)
    return text


def describe_dims(dims: Dims) -> str:
    """Words for a dimension, for messages: "a duration", "a rate like prediction/s"."""
    d = dict(dims)
    if not d:
        return "a plain number"
    if d == {TIME: 1}:
        return "a duration"
    if d == {TIME: -1}:
        return "a frequency like 1/s"
    if d == {INFORMATION: 1}:
        return "a data size"
    if d == {CURRENCY: 1}:
        return "money"
    if d == {CURRENCY: 1, TIME: -1}:
        return "money per time like $/month"
    if len(d) == 1:
        ((dim, exp),) = d.items()
        if exp == 1:
            if dim in CURRENCIES:
                return f"money in {dim}"
            return f"a count of {dim}"
    if len(d) == 2 and d.get(TIME) == -1:
        other = next(k for k in d if k != TIME)
        if d[other] == 1 and other not in (INFORMATION, CURRENCY):
            return f"a rate like {other}/s"
        if d[other] == 1 and other == INFORMATION:
            return "a data rate like GB/s"
    return f"a quantity in {dims_text(dims)}"


# --------------------------------------------------------------------------- units


@dataclass(frozen=True, slots=True)
class Unit:
    """A parsed unit expression: ``factor`` base units per one of it."""

    text: str
    factor: Fraction
    dims: Dims


@total_ordering
@dataclass(frozen=True, slots=True)
class Value:
    """An exact quantity: ``magnitude`` in base units with its dimension vector.

    Arithmetic (``+ - * /``, unary ``-``) and comparisons check dimensions and raise
    `DimensionError`; plain ``int``/``Fraction`` operands are dimensionless."""

    magnitude: Fraction
    dims: Dims = ()

    @classmethod
    def of(cls, number: Fraction | int | str, unit: Unit) -> Value:
        return cls(Fraction(number) * unit.factor, unit.dims)

    # -- helpers
    @staticmethod
    def _coerce(other: object) -> Value | None:
        if isinstance(other, Value):
            return other
        if isinstance(other, int | Fraction) and not isinstance(other, bool):
            return Value(Fraction(other))
        return None

    def _same(self, other: Value, verb: str) -> None:
        if self.dims != other.dims:
            raise DimensionError(
                f"cannot {verb} {describe_dims(self.dims)} and {describe_dims(other.dims)}",
                self.dims,
                other.dims,
            )

    # -- arithmetic
    def __add__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        self._same(o, "add")
        return Value(self.magnitude + o.magnitude, self.dims)

    def __radd__(self, other: object) -> Value:
        return self.__add__(other)

    def __sub__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        self._same(o, "subtract")
        return Value(self.magnitude - o.magnitude, self.dims)

    def __rsub__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o.__sub__(self)

    def __mul__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Value(self.magnitude * o.magnitude, _combine(self.dims, o.dims, 1))

    def __rmul__(self, other: object) -> Value:
        return self.__mul__(other)

    def __truediv__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        if o.magnitude == 0:
            raise ZeroDivisionError("division by zero")
        return Value(self.magnitude / o.magnitude, _combine(self.dims, o.dims, -1))

    def __rtruediv__(self, other: object) -> Value:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o.__truediv__(self)

    def __neg__(self) -> Value:
        return Value(-self.magnitude, self.dims)

    def __lt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        self._same(o, "compare")
        return self.magnitude < o.magnitude

    # -- conversion
    @property
    def dimensionless(self) -> bool:
        return not self.dims

    def to(self, unit_text: str, registry: UnitRegistry) -> Fraction:
        """The magnitude expressed in ``unit_text`` (exact). DimensionError if it is not
        the same kind of quantity."""
        unit = registry.parse_unit(unit_text)
        if unit.dims != self.dims:
            raise DimensionError(
                f"expected {describe_dims(unit.dims)} (`{unit_text}`), found {describe_dims(self.dims)}",
                self.dims,
                unit.dims,
            )
        return self.magnitude / unit.factor

    def dimension_name(self) -> str:
        """ "a rate like prediction/s", "a duration", "money per time like $/month"."""
        return describe_dims(self.dims)

    def __str__(self) -> str:
        unit = dims_text(self.dims)
        mag = self.magnitude
        num = str(mag.numerator) if mag.denominator == 1 else f"{float(mag):g}"
        return f"{num} {unit}".strip()


# --------------------------------------------------------------------------- registry

_TERM = re.compile(r"^(?P<word>[A-Za-z_$%][A-Za-z0-9_]*|%|\$|1)(?:\^(?P<exp>-?[0-9]+))?$")
_PER = re.compile(r"\s+per\s+")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnitRegistry:
    """The units of one plan: the built-in table plus the plan's declared count units
    (``unit prediction``; plural ``predictions`` accepted) and aliases
    (``unit ktok = 1000 token``)."""

    def __init__(self, declared: Iterable[str] = (), *, currency: str = "USD"):
        self._units: dict[str, tuple[Fraction, Dims]] = dict(_BUILTIN)
        self.currency = currency.upper()
        for code in CURRENCIES:
            if code != "USD":
                self._units[code] = (Fraction(1), ((code, 1),))
        if self.currency != "USD":
            self._units[self.currency] = (Fraction(1), ((CURRENCY, 1),))
        self._plural: set[str] = set(_PLURALS)
        self.declared: list[str] = []
        self.aliases: dict[str, str] = {}
        self._cache: dict[str, Unit] = {}
        for name in declared:
            self.declare(name)

    # -- declarations
    def is_builtin(self, name: str) -> bool:
        return name in _BUILTIN or name in CURRENCIES

    def knows(self, word: str) -> bool:
        return self._lookup(word) is not None

    def declare(self, name: str) -> None:
        """A plan count unit (its own dimension). Re-declaring the same name is harmless;
        a built-in name raises UnitError."""
        if name in self.declared:
            return
        if not _NAME.match(name):
            raise UnitError(f"`{name}` is not a valid unit name")
        if name in self._units:
            raise UnitError(f"`{name}` is already a unit")
        self._units[name] = (Fraction(1), ((name, 1),))
        self._plural.add(name)
        self.declared.append(name)
        self._cache.clear()

    def define(self, name: str, value: Value, text: str = "") -> None:
        """An alias: ``unit ktok = 1000 token`` -> define("ktok", Value(1000 token))."""
        if not _NAME.match(name):
            raise UnitError(f"`{name}` is not a valid unit name")
        if name in self._units:
            raise UnitError(f"`{name}` is already a unit")
        self._units[name] = (value.magnitude, value.dims)
        self._plural.add(name)
        self.aliases[name] = text or str(value)
        self._cache.clear()

    def names(self) -> list[str]:
        """Every unit word this registry knows (for suggestions and docs)."""
        return list(self._units)

    # -- parsing
    def _lookup(self, word: str) -> tuple[Fraction, Dims] | None:
        hit = self._units.get(word)
        if hit is not None:
            return hit
        for singular in _singulars(word):
            if singular in self._plural:
                return self._units[singular]
        return None

    def parse_unit(self, text: str) -> Unit:
        """Parse a unit expression: ``prediction/s``, ``prediction/s per vcpu``,
        ``USD/month``, ``%/month``, ``1/vcpu``, ``gpu*h``, ``s^2``. Raises UnitError."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        norm = _PER.sub("/", text.strip())
        if norm.startswith("per "):
            norm = "1/" + norm[4:]
        norm = norm.replace(" ", "")
        if not norm:
            raise UnitError("empty unit")
        factor = Fraction(1)
        dims: Dims = ()
        for sign, term in _terms(norm):
            m = _TERM.match(term)
            if m is None:
                raise UnitError(f"malformed unit `{text}`", term, [])
            word, exp = m.group("word"), int(m.group("exp") or 1)
            if word == "1":
                continue
            hit = self._lookup(word)
            if hit is None:
                raise UnitError(f"unknown unit `{word}`", word, self._suggestions())
            f, d = hit
            factor *= f ** (sign * exp)
            dims = _combine(dims, tuple((k, v * exp) for k, v in d), sign)
        unit = Unit(norm, factor, dims)
        self._cache[text] = unit
        return unit

    def _suggestions(self) -> list[str]:
        # Declared units first: a typo is most likely one of the plan's own words.
        return [*self.declared, *self.aliases, *(n for n in self._units if n not in self.declared)]

    def quantity(self, number: Fraction | int | str, unit_text: str) -> Value:
        return Value.of(number, self.parse_unit(unit_text))


def _singulars(word: str) -> list[str]:
    out = []
    if word.endswith("s") and len(word) > 2:
        out.append(word[:-1])
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    return out


def _terms(norm: str) -> list[tuple[int, str]]:
    """``a/b*c`` -> [(1, a), (-1, b), (1, c)]: left to right, `/` and `*` of equal rank."""
    out: list[tuple[int, str]] = []
    sign = 1
    buf = ""
    for ch in norm:
        if ch in "/*":
            out.append((sign, buf))
            sign = -1 if ch == "/" else 1
            buf = ""
        else:
            buf += ch
    out.append((sign, buf))
    return out
