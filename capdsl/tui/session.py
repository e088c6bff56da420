"""The state of one open plan: its file text, the what-if text, undo/redo, caches.

Pure Python (no Textual): the app owns one ``Session`` and only ever changes it on the
UI thread. Solutions are cached by (text, scenario) so undo, redo and switching back to a
scenario show their result at once, and a re-solve is warm-started from the last solution
of the same scenario.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capdsl.api import Built
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution

Key = tuple[str, str | None]


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class Solved:
    plan: Plan
    solution: Solution

    @property
    def good(self) -> bool:
        return self.solution.status in ("optimal", "feasible")


class _Lru(OrderedDict[Key, "Built | Solved"]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Key, value: Built | Solved) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class Session:
    """One plan file, the text being explored, and what is known about it."""

    def __init__(self, path: str, text: str, scenario: str | None = None) -> None:
        self.path = path
        self.file_text = text
        self.text = text
        self.scenario = scenario
        self.undo_stack: list[str] = []
        self.redo_stack: list[str] = []
        self._builds = _Lru(64)
        self._solved = _Lru(64)
        self._last_good: dict[str | None, Solution] = {}
        # what is on screen: the last good plan/solution and the (text, scenario) it is for
        self.plan: Plan | None = None
        self.shown: Solved | None = None
        self.shown_key: Key | None = None
        self.build_failed = False

    # ------------------------------------------------------------------ text

    @property
    def dirty(self) -> bool:
        """The text on screen differs from the file (unsaved what-ifs)."""
        return self.text != self.file_text

    @property
    def key(self) -> Key:
        return digest(self.text), self.scenario

    def push(self, text: str) -> None:
        """A new what-if text (undoable)."""
        if text == self.text:
            return
        self.undo_stack.append(self.text)
        self.redo_stack.clear()
        self.text = text

    def undo(self) -> bool:
        if not self.undo_stack:
            return False
        self.redo_stack.append(self.text)
        self.text = self.undo_stack.pop()
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        self.undo_stack.append(self.text)
        self.text = self.redo_stack.pop()
        return True

    def revert(self) -> bool:
        """Back to the file's values (itself undoable)."""
        if not self.dirty:
            return False
        self.push(self.file_text)
        return True

    def reload(self, text: str) -> None:
        """The file changed on disk: start over from it."""
        self.file_text = text
        self.text = text
        self.undo_stack.clear()
        self.redo_stack.clear()

    def saved(self, text: str) -> None:
        """The working text was written to the file (maybe reformatted)."""
        old = self.key
        self.file_text = text
        self.text = text
        self.undo_stack.clear()
        self.redo_stack.clear()
        solved = self._solved.get(old)
        if isinstance(solved, Solved):
            self._solved.put(self.key, solved)
        if self.shown_key == old:
            self.shown_key = self.key

    # ------------------------------------------------------------------ caches

    def remember_build(self, text: str, scenario: str | None, built: Built) -> None:
        self._builds.put((digest(text), scenario), built)

    def build_for(self, text: str, scenario: str | None) -> Built | None:
        b = self._builds.get((digest(text), scenario))
        return None if b is None or isinstance(b, Solved) else b

    def remember_solution(
        self, text: str, scenario: str | None, plan: Plan, solution: Solution
    ) -> Solved:
        solved = Solved(plan, solution)
        # a stopped solve with a feasible plan is shown but not cached as the answer
        self._solved.put((digest(text), scenario), solved)
        if solved.good:
            self._last_good[scenario] = solution
        return solved

    def remember_hint(self, scenario: str | None, solution: Solution) -> None:
        """A feasible plan that is not the answer (its solve was stopped): a warm start."""
        self._last_good[scenario] = solution

    def forget_solution(self, text: str, scenario: str | None) -> None:
        self._solved.pop((digest(text), scenario), None)

    def solved_for(self, text: str, scenario: str | None) -> Solved | None:
        s = self._solved.get((digest(text), scenario))
        return s if isinstance(s, Solved) else None

    def hint(self, scenario: str | None) -> Solution | None:
        """The warm start for a solve of ``scenario``: its last good solution (a what-if's
        previous answer). Another scenario's solution is not used: it often sizes for
        other demand, and a hint far from the answer costs the solver more than it saves."""
        return self._last_good.get(scenario)

    def show(self, solved: Solved, text: str, scenario: str | None) -> None:
        self.shown = solved
        self.shown_key = (digest(text), scenario)

    @property
    def stale(self) -> bool:
        """What is on screen is not the answer for the current text and scenario."""
        return self.shown is not None and (self.shown_key != self.key or self.build_failed)
