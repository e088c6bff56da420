"""Human formatting of money, prices, shares and names, shared by every text renderer.

Machine formats (JSON, CSV) never use these: they write plain numbers (see ``json_out``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from capdsl.pricing.catalog import Payment

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

OPTION_LABEL = {"reserved": "reserved", "on_demand": "on-demand", "spot": "spot"}
OPTION_SHORT = {"reserved": "R", "on_demand": "OD", "spot": "S"}
PAYMENT_LABEL: dict[Payment, str] = {
    "no_upfront": "no upfront",
    "partial_upfront": "partial upfront",
    "all_upfront": "all upfront",
}


def quantize(value: Decimal, step: Decimal = CENT) -> Decimal:
    """Round half-up to ``step`` (cents by default): how money is shown and exported."""
    return value.quantize(step, rounding=ROUND_HALF_UP)


def symbol(currency: str) -> str:
    return _SYMBOLS.get(currency, currency + " ")


def money(value: Decimal | None, currency: str = "USD", *, cents: bool | None = None) -> str:
    """``$12,345`` for amounts of 1,000 and more, ``$123.45`` below (or as ``cents`` says)."""
    if value is None:
        return "–"
    show_cents = abs(value) < 1000 if cents is None else cents
    q = quantize(value, CENT if show_cents else Decimal(1))
    sign = "-" if q < 0 else ""
    body = f"{abs(q):,.2f}" if show_cents else f"{abs(q):,.0f}"
    return f"{sign}{symbol(currency)}{body}"


def money_column(values: list[Decimal | None], currency: str = "USD") -> list[str]:
    """Amounts of one table column, all with cents or all without (cents only when every
    amount is below 1,000), so the column lines up."""
    known = [abs(v) for v in values if v is not None]
    cents = not known or max(known) < 1000
    return [money(v, currency, cents=cents) for v in values]


def signed_money(value: Decimal, currency: str = "USD", *, cents: bool | None = None) -> str:
    """``+$1,200`` / ``-$300`` / ``$0``: a difference."""
    if quantize(value) == 0:
        return money(Decimal(0), currency, cents=cents)
    text = money(value, currency, cents=cents)
    return text if text.startswith("-") else "+" + text


def price(value: Decimal | None, currency: str = "USD") -> str:
    """A per-instance-hour price: ``$0.2890`` (four decimals, more when needed)."""
    if value is None:
        return "–"
    q = quantize(value, MICRO)
    decimals = len(f"{abs(q):.6f}".rstrip("0").split(".")[1])
    return f"{symbol(currency)}{q:,.{max(4, decimals)}f}"


def pct(value: float | None, places: int = 1) -> str:
    """A percentage given in percent (``savings_pct``): ``38.2%``."""
    return "–" if value is None else f"{value:.{places}f}%"


def share(value: float | None, places: int = 1) -> str:
    """A fraction (0..1) as a percentage: ``0.382`` -> ``38.2%``."""
    return "–" if value is None else f"{value * 100:.{places}f}%"


def gap(value: float | None) -> str:
    """The relative optimality gap (0.001 = 0.1%)."""
    return "–" if value is None else f"{value * 100:.2f}%"


def number(value: float, places: int = 0) -> str:
    """``12,345`` with thousands separators; more decimals for small values."""
    if places == 0 and 0 < abs(value) < 10 and value != int(value):
        places = 2
    return f"{value:,.{places}f}"


def term(months: int) -> str:
    return f"{months // 12}y" if months % 12 == 0 else f"{months}mo"


def short_offering(offering_id: str) -> str:
    """``aws.c7g.2xlarge@us-east-1`` -> ``aws.c7g.2xlarge`` (the zone column names the region)."""
    return offering_id.split("@", 1)[0]


def scenario_name(scenario: str | None) -> str:
    return scenario if scenario is not None else "base"
