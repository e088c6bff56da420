"""Formatting numbers, money and statuses for the screen (pure functions, no Textual)."""

from __future__ import annotations

from decimal import Decimal

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def currency_symbol(currency: str) -> str:
    return _SYMBOLS.get(currency.upper(), currency.upper() + " ")


def money(
    value: Decimal | float | int | None, currency: str = "USD", *, cents: bool = False
) -> str:
    """``$52,301`` (or ``$0.25`` with ``cents``); ``–`` for None. Negative as ``-$1,200``."""
    if value is None:
        return "–"
    v = Decimal(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    body = f"{v:,.2f}" if cents else f"{v.quantize(Decimal(1)):,}"
    return f"{sign}{currency_symbol(currency)}{body}"


def money_short(value: Decimal | float | int | None, currency: str = "USD") -> str:
    """Compact money for narrow places: ``$52.3k``, ``$1.23M``, ``$950``."""
    if value is None:
        return "–"
    v = float(value)
    sign = "-" if v < 0 else ""
    return f"{sign}{currency_symbol(currency)}{si(abs(v))}"


def si(value: float, digits: int = 3) -> str:
    """``45.2k``, ``1.23M``, ``980``: about ``digits`` significant figures."""
    v = abs(value)
    sign = "-" if value < 0 else ""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return sign + _sig(v / div, digits) + suffix
    if v == 0:
        return "0"
    return sign + _sig(v, digits)


def _sig(v: float, digits: int) -> str:
    if v >= 100 or digits <= 1:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.{max(digits - 2, 0)}f}".rstrip("0").rstrip(".")
    return f"{v:.{max(digits - 1, 0)}f}".rstrip("0").rstrip(".")


def pct(value: float | None, digits: int = 1) -> str:
    """A ratio as a percentage: ``0.184`` -> ``18.4%``."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%"


def gap_text(gap: float | None) -> str:
    if gap is None:
        return "–"
    if gap < 0.0001:
        return f"{gap * 100:.2f}%"
    return f"{gap * 100:.2f}%"


def delta_pct(new: Decimal | float, old: Decimal | float) -> float | None:
    if not old:
        return None
    return (float(new) - float(old)) / float(old)


def option_label(option: str) -> str:
    return {"reserved": "reserved", "on_demand": "on-demand", "spot": "spot"}.get(option, option)


def payment_label(payment: str) -> str:
    return payment.replace("_", " ")


def term_label(term_months: int) -> str:
    return f"{term_months // 12}y" if term_months % 12 == 0 else f"{term_months}mo"


def short_offering(offering_id: str) -> str:
    """``aws.c7g.2xlarge@us-east-1`` -> ``aws.c7g.2xlarge`` (the zone column says where)."""
    return offering_id.split("@", 1)[0]
