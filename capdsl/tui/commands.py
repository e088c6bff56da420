"""The command palette provider (ctrl+p): solve, scenarios, compare, what-ifs, save,
export report, explain a diagnostic code.

A query written as a setting (``set recs.growth = 6%`` or ``budget.monthly <= 80k``)
becomes a what-if hit of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from capdsl.tui.whatif import current_value, find_knob

if TYPE_CHECKING:
    from capdsl.tui.app import CapApp

Command = tuple[str, Callable[[], object], str]

_SET = re.compile(
    r"^\s*(?:set\s+)?(?P<path>[\w.\"' -]+?)\s*(?:<=|=|:)\s*(?P<value>.+?)\s*$", re.IGNORECASE
)


class CapCommands(Provider):
    """Everything the app can do, in words."""

    @property
    def cap(self) -> CapApp:
        from capdsl.tui.app import CapApp

        app = self.app
        assert isinstance(app, CapApp)
        return app

    def commands(self) -> list[Command]:
        app = self.cap
        session = app.session
        out: list[Command] = [
            (
                "Solve",
                app.action_solve,
                "re-solve the plan on screen (warm-started from the last solution)",
            ),
            (
                "Cancel solve",
                app.action_cancel,
                "stop the running solve; the best plan so far is kept",
            ),
            (
                "Save what-ifs to the plan file",
                app.action_save,
                "write the what-if text, formatted, comments kept",
            ),
            ("Undo what-if", app.action_undo, "back one step towards the file's values"),
            ("Redo what-if", app.action_redo, "forward again"),
            ("Revert all what-ifs", app.action_revert, "back to the values in the file (undoable)"),
            (
                "Reload plan from disk",
                app.action_reload,
                "read the file again (drops unsaved what-ifs)",
            ),
            (
                "Export report (HTML)",
                app.action_export_report,
                "every solved scenario, as an HTML report",
            ),
            (
                "Open plan in $EDITOR",
                app.action_edit,
                "edit the file; it reloads when you quit the editor",
            ),
            ("Go to line", app.action_goto_line, "jump to a line of the plan source"),
            ("Help", app.action_help, "keys, mouse, what-if value forms"),
        ]
        plan = session.plan
        scenarios = plan.scenarios if plan is not None else ()
        if session.dirty:
            out.append(
                (
                    "Compare: what-ifs vs the file",
                    partial(app.compare, (session.scenario, True), (session.scenario, False)),
                    "what the unsaved what-ifs change, month by month",
                )
            )
        for name in (None, *scenarios):
            if name == session.scenario:
                continue
            label = name or "base"
            tag = " (plan for)" if plan is not None and plan.plan_for == name and name else ""
            out.append(
                (
                    f"Scenario: {label}{tag}",
                    partial(app.switch_scenario, name),
                    f"show the {label} plan",
                )
            )
            out.append(
                (
                    f"Compare: {session.scenario or 'base'} vs {label}",
                    partial(app.compare, session.scenario, name),
                    "cost per month side by side (solves both if needed)",
                )
            )
        if plan is not None:
            for knob in app.knobs:
                value = current_value(plan, knob)
                out.append(
                    (
                        f"What-if: {knob.label} (now {value})",
                        partial(app.prompt_whatif, knob),
                        knob.help,
                    )
                )
        seen: set[str] = set()
        for d in app.all_diagnostics:
            if d.code in seen:
                continue
            seen.add(d.code)
            out.append(
                (
                    f"Explain {d.code}: {d.message}",
                    partial(app.show_code, d.code),
                    "long explanation",
                )
            )
        for code in app.backend.known_codes():
            if code not in seen:
                out.append(
                    (f"Explain {code}", partial(app.show_code, code), "long explanation of a code")
                )
        return out

    async def discover(self) -> Hits:
        for text, callback, help_text in self.commands():
            if text.startswith("Explain ") and not any(
                d.code in text for d in self.cap.all_diagnostics
            ):
                continue
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        app = self.cap
        m = _SET.match(query)
        if m and app.session.plan is not None:
            knob = find_knob(app.knobs, m["path"].strip().strip("'"))
            if knob is not None:
                value = m["value"]
                yield Hit(
                    1.0,
                    f"What-if: {knob.path} {knob.op} {value}",
                    partial(app.apply_whatif, knob, value),
                    help="apply this value, rebuild and re-solve (unsaved)",
                )
        matcher = self.matcher(query)
        for text, callback, help_text in self.commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)
