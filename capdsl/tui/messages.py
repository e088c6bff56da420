"""Typed messages the thread workers post to the app (thread-safe ``post_message``).

Every message carries the ``job`` number of the work that produced it, so results of a
superseded job (a solve cancelled by a newer one) are recognised and dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from capdsl.api import Built
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


class BuildFinished(Message):
    """A plan text was parsed and built (for ``scenario``)."""

    def __init__(
        self, job: int, text: str, scenario: str | None, built: Built, *, purpose: str
    ) -> None:
        super().__init__()
        self.job = job
        self.text = text
        self.scenario = scenario
        self.built = built
        self.purpose = (
            purpose  # "open", "solve", "whatif", "scenario", "undo", "reload", "compare", ...
        )


class SolveProgress(Message):
    """The solver found a better plan or a better bound."""

    def __init__(
        self,
        job: int,
        scenario: str | None,
        objective: float | None,
        bound: float | None,
        gap: float | None,
        elapsed_s: float,
    ) -> None:
        super().__init__()
        self.job = job
        self.scenario = scenario
        self.objective = objective
        self.bound = bound
        self.gap = gap
        self.elapsed_s = elapsed_s


class SolveFinished(Message):
    """A solve ended: optimal, feasible (maybe stopped early), infeasible or error."""

    def __init__(
        self,
        job: int,
        text: str,
        scenario: str | None,
        plan: Plan,
        solution: Solution,
        *,
        cancelled: bool,
        purpose: str,
    ) -> None:
        super().__init__()
        self.job = job
        self.text = text
        self.scenario = scenario
        self.plan = plan
        self.solution = solution
        self.cancelled = cancelled
        self.purpose = purpose


class JobEnded(Message):
    """A job ended after its build without solving: asked not to solve, or cancelled."""

    def __init__(self, job: int, *, cancelled: bool) -> None:
        super().__init__()
        self.job = job
        self.cancelled = cancelled


class CompareReady(Message):
    """Both sides of a comparison are solved (or failed). A side is (scenario, from the
    file's text rather than the what-ifs)."""

    def __init__(self, job: int, a: tuple[str | None, bool], b: tuple[str | None, bool]) -> None:
        super().__init__()
        self.job = job
        self.a = a
        self.b = b


class ReportWritten(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
