"""What the solver reports while it searches (no OR-Tools here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: best plan cost so far, proven lower bound, relative gap, time.

    Money is in the plan's currency (float, for display); ``gap`` is relative
    (0.001 = 0.1%); ``None`` while unknown."""

    objective: float | None
    bound: float | None
    gap: float | None
    elapsed_s: float
