"""``capdsl tui PLAN``: read a plan, see what it buys and why, turn knobs, watch it change.

Layout: the plan source and its diagnostics on the left; on the right the scenario, live
solve progress, the solution's headline and tabs (purchase mix with "why", reservation
schedule, cost per month, capacity vs demand, scenario comparison, what-if form).

Threads: building and solving run in one exclusive thread worker (group ``solve``); it
posts small typed messages (``capdsl.tui.messages``) and never touches a widget. Each
run gets a job number and a stop event: a newer run or the cancel key sets the event, the
solver stops with its best plan so far, and results of superseded jobs are dropped.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import MountError, Widget
from textual.widgets import Footer, Header, Label, Select, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from capdsl.tui.commands import CapCommands
from capdsl.tui.messages import (
    BuildFinished,
    CompareReady,
    JobEnded,
    ReportWritten,
    SolveFinished,
    SolveProgress,
)
from capdsl.tui.session import Session, Solved
from capdsl.tui.settings import TuiSettings, config_path, load_settings
from capdsl.tui.widgets.capacity import CapacityView
from capdsl.tui.widgets.compare import CompareView, Target, target_label
from capdsl.tui.widgets.cost import CostView
from capdsl.tui.widgets.diagnostics import DiagnosticsList
from capdsl.tui.widgets.mix import MixView
from capdsl.tui.widgets.schedule import ScheduleTable
from capdsl.tui.widgets.solve_status import SolveStatus
from capdsl.tui.widgets.source import SourceView, changed_lines
from capdsl.tui.widgets.summary import SolutionSummary
from capdsl.tui.widgets.whatif_form import WhatIfForm

if TYPE_CHECKING:
    from capdsl.api import Built
    from capdsl.lang.diagnostics import Diagnostic
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution
    from capdsl.tui.backend import Backend
    from capdsl.tui.whatif import Knob

_SAME: Any = object()
# actions that make no sense while a modal (help, a problem, the palette) is up
_MAIN_SCREEN_ACTIONS = frozenset(
    {"save", "undo", "redo", "solve", "reload", "export_report", "goto_line"}
)
TABS = ("mix", "schedule", "cost", "capacity", "compare", "whatif")
# what the help screen says a binding does (the footer keeps the short description)
_HELP_TEXT = {
    "solve": "solve again, warm-started from the last solution",
    "cancel": "cancel the running solve (the best plan found so far is kept)",
    "save": "write the what-ifs into the plan file (formatted, comments kept)",
    "undo": "undo a what-if (back towards the file's values)",
    "redo": "redo a what-if",
    "scenario": "switch scenario",
    "compare": "compare two scenarios, cost per month",
    "whatif": "the what-if form",
    "reload": "reload the plan from disk (drops unsaved what-ifs)",
    "export": "export the HTML report of every verified scenario",
    "diagnostic.next": "next diagnostic",
    "diagnostic.previous": "previous diagnostic",
    "goto": "go to a line of the plan",
    "zoom": "zoom the focused pane (again to restore)",
    "help": "this help",
}


class CapApp(App[int]):
    """The capdsl terminal UI for one plan file."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "capdsl"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {CapCommands}
    # the tabs hidden at start: (title, pane id, view class, view id); their views are
    # mounted once the first frame is on screen (``on_ready``)
    _LATER_TABS: ClassVar[tuple[tuple[str, str, type[Widget], str], ...]] = (
        ("Schedule", "tab-schedule", ScheduleTable, "schedule"),
        ("Cost", "tab-cost", CostView, "cost"),
        ("Capacity", "tab-capacity", CapacityView, "capacity"),
        ("Compare", "tab-compare", CompareView, "compare"),
        ("What-if", "tab-whatif", WhatIfForm, "whatif"),
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "solve", "Solve", id="solve"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+s", "save", "Save", id="save", priority=True),
        Binding("ctrl+z", "undo", "Undo", id="undo", priority=True),
        Binding("ctrl+y", "redo", "Redo", id="redo", show=False, priority=True),
        Binding("f2", "pick_scenario", "Scenario", id="scenario"),
        Binding("f3", "compare_tab", "Compare", id="compare", show=False),
        Binding("f4", "show_tab('whatif')", "What-if", id="whatif"),
        Binding("ctrl+r", "reload", "Reload", id="reload", show=False),
        Binding("f9", "export_report", "Export report", id="export", show=False),
        Binding("f8", "next_diagnostic", "Next problem", id="diagnostic.next", show=False),
        Binding(
            "shift+f8",
            "previous_diagnostic",
            "Previous problem",
            id="diagnostic.previous",
            show=False,
        ),
        Binding("ctrl+g", "goto_line", "Go to line", id="goto", show=False),
        Binding("f10", "zoom", "Zoom pane", id="zoom", show=False),
        Binding("f1", "help", "Help", id="help"),
        *(
            Binding(
                str(i + 1),
                f"show_tab('{tab}')",
                f"the {tab.replace('whatif', 'what-if')} tab",
                id=f"tab.{tab}",
                show=False,
            )
            for i, tab in enumerate(TABS)
        ),
    ]

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        scenario: str | None = None,
        backend: Backend | None = None,
        settings: TuiSettings | None = None,
    ) -> None:
        super().__init__()
        if backend is None:
            from capdsl.tui.backend import ApiBackend

            backend = ApiBackend()
        self.backend: Backend = backend
        self.plan_path = str(path)
        self.settings_problem: str | None = None
        if settings is None:
            settings, self.settings_problem = load_settings()
        self.settings = settings
        self.session = Session(self.plan_path, "", scenario)
        self.knobs: list[Knob] = []
        self.busy = False
        self._job = 0
        self._stop: threading.Event | None = None
        self._worker: Worker[None] | None = None
        self._pending_whatif: tuple[Knob, str] | None = None
        self._plan_diags: list[Diagnostic] = []
        self._solve_diags: list[Diagnostic] = []
        self._stopped_early = False
        self._disk_stamp: tuple[tuple[str, int, int], ...] = ()
        self._disk_warned = False
        self._previous_total: Any = None
        self._n_changed = 0
        self._scenario_options: list[tuple[str, str]] = [("base", "")]
        self._open_on_ready = False  # the plan was read: build and solve it once painted
        self.started = False  # on_ready has run: every view is mounted, the open job started
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        if settings.keymap:
            self.set_keymap(settings.keymap)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                source = SourceView(lexer=self.backend.lexer(), id="source")
                source.border_title = Path(self.plan_path).name
                yield source
                yield DiagnosticsList(id="diagnostics")
            with Vertical(id="right"):
                with Horizontal(id="topbar"):
                    yield Label("scenario", classes="toolbar-label")
                    yield Select[str](
                        [("base", "")], allow_blank=False, value="", id="scenario", compact=True
                    )
                yield SolveStatus(id="solve-status")
                yield SolutionSummary(id="summary")
                with TabbedContent(id="tabs", initial="tab-mix"):
                    with TabPane("Mix", id="tab-mix"):
                        yield MixView(id="mix")
                    # the hidden tabs' views are mounted after the first paint
                    for title, pane, _, _ in self._LATER_TABS:
                        yield TabPane(title, id=pane)
        yield Footer()

    def on_mount(self) -> None:
        if self.settings_problem:
            self.notify(
                self.settings_problem, title="settings ignored", severity="warning", timeout=8
            )
        self.query_one(DiagnosticsList).show([])
        try:
            text = self.backend.read(self.plan_path)
        except (OSError, UnicodeDecodeError) as exc:
            self._show_problem("Cannot read the plan", f"{self.plan_path}: {exc}")
            self.query_one(SolutionSummary).set_empty("no plan: the file cannot be read")
            return
        self.session = Session(self.plan_path, text, self.session.scenario)
        self._disk_stamp = self._stamp()
        self._refresh_source()
        self._refresh_header()
        self._open_on_ready = True

    async def on_ready(self) -> None:
        """The first frame is on screen: the hidden tabs' views now, then the build and the
        solve. Both wait for the first paint: mounting the views (half the app's widgets)
        and the build's imports (the language, the model, OR-Tools) would otherwise delay
        it. The views are mounted before the build starts, so every result finds them."""
        for _, pane, view, view_id in self._LATER_TABS:
            try:
                await self.query_one(f"#{pane}", TabPane).mount(view(id=view_id))
            except MountError:
                return  # the app is closing (quit at once): its panes are being removed
        if self._open_on_ready:
            self.run_pipeline(solve=self.settings.solve_on_open, purpose="open")
            # watched from now on: a reload's results, like the first build's, find the views
            if self.settings.watch_interval > 0:
                self.set_interval(self.settings.watch_interval, self.check_disk, name="watch")
        self.started = True

    def on_unmount(self) -> None:
        if self._stop is not None:
            self._stop.set()
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ pipeline

    def run_pipeline(
        self,
        *,
        text: str | None = None,
        scenario: Any = _SAME,
        solve: bool = True,
        purpose: str = "solve",
    ) -> None:
        """Build ``text`` (default: the session's) for ``scenario`` and solve it, in the
        exclusive worker. A running job is stopped first."""
        text = self.session.text if text is None else text
        scenario = self.session.scenario if scenario is _SAME else scenario
        stop = self._new_job()
        job = self._job
        built = self.session.build_for(text, scenario)
        hint = self.session.hint(scenario) if purpose != "open" else None
        label = scenario or "base"
        self._set_busy(True)
        self.query_one(SolveStatus).start(
            f"building {label}" if built is None else f"solving {label}",
            time_limit=self.settings.time_limit,
            currency=self._currency(),
            cancel_key=self._key_for("cancel"),
        )
        self._worker = self._pipeline(job, text, scenario, solve, purpose, built, hint, stop)

    def _new_job(self) -> threading.Event:
        if self._stop is not None:
            self._stop.set()
        self._job += 1
        self._stop = threading.Event()
        return self._stop

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="solve",
        description="build and solve",
    )
    def _pipeline(
        self,
        job: int,
        text: str,
        scenario: str | None,
        solve: bool,
        purpose: str,
        built: Built | None,
        hint: Solution | None,
        stop: threading.Event,
    ) -> None:
        prepare = getattr(self.backend, "prepare", None)
        if solve and prepare is not None:
            prepare()  # the solver process starts while the plan builds
        if built is None:
            built = self.backend.build(text, self.plan_path, scenario)
        self.post_message(BuildFinished(job, text, scenario, built, purpose=purpose))
        if built.plan is None:
            return
        if not solve or stop.is_set():
            self.post_message(JobEnded(job, cancelled=stop.is_set()))
            return
        solution = self._solve(job, built.plan, hint, stop)
        self.post_message(
            SolveFinished(
                job, text, scenario, built.plan, solution, cancelled=stop.is_set(), purpose=purpose
            )
        )

    def _solve(
        self, job: int, plan: Plan, hint: Solution | None, stop: threading.Event
    ) -> Solution:
        """Runs in a worker thread: the solve, with progress posted at most 20 times a second."""
        last = [0.0]
        scenario = plan.scenario

        def on_progress(p: Any) -> None:
            now = time.monotonic()
            if now - last[0] < 0.05:
                return
            last[0] = now
            self.post_message(
                SolveProgress(
                    job,
                    scenario,
                    _float(getattr(p, "objective", None)),
                    _float(getattr(p, "bound", None)),
                    _float(getattr(p, "gap", None)),
                    float(getattr(p, "elapsed_s", 0.0) or 0.0),
                )
            )

        return self.backend.solve(
            plan,
            time_limit=self.settings.time_limit,
            on_progress=on_progress,
            stop=stop,
            hint=hint,
            seed=self.settings.seed,
        )

    def on_build_finished(self, message: BuildFinished) -> None:
        self.session.remember_build(message.text, message.scenario, message.built)
        if message.job != self._job or message.purpose == "compare":
            return  # superseded, or a scenario built only to be compared
        self._apply_build(message.text, message.scenario, message.built, message.purpose)

    def _apply_build(self, text: str, scenario: str | None, built: Built, purpose: str) -> None:
        if purpose == "whatif":
            pending = self._pending_whatif
            self._pending_whatif = None
            if built.plan is None:
                first = next((d for d in built.diagnostics if d.is_error), None)
                reason = f"{first.code}: {first.message}" if first else "the plan does not build"
                self.notify(reason, title="what-if rejected", severity="error", timeout=8)
                if pending is not None:
                    self.query_one(WhatIfForm).mark_invalid(pending[0])
                self._end_job()
                return
            self.session.push(text)
        self._plan_diags = list(built.diagnostics)
        self._solve_diags = []
        if built.plan is not None:
            self.session.plan = built.plan
            self.session.build_failed = False
            self._sync_scenarios(built.plan)
            if self.session.shown is None:
                self.query_one(CapacityView).show(built.plan, None)
            self.query_one(SolveStatus).stage(f"solving {scenario or 'base'}")
        else:
            self.session.build_failed = True
            self._end_job()
            n = sum(d.is_error for d in built.diagnostics)
            self.notify(
                f"{n} error{'s' * (n != 1)} in the plan"
                + (
                    "; the last good solution stays on screen, marked stale"
                    if self.session.shown
                    else ""
                ),
                title=Path(self.plan_path).name,
                severity="error",
            )
            if self.session.shown is None:
                self.query_one(SolutionSummary).set_empty(
                    "the plan has errors: fix them in the file; it reloads"
                )
        self._refresh_source()
        self._refresh_diagnostics()
        self.refresh_knobs()
        self._refresh_summary()
        self._refresh_header()

    def on_solve_progress(self, message: SolveProgress) -> None:
        if message.job == self._job:
            self.query_one(SolveStatus).progress(message.objective, message.bound, message.gap)

    def on_solve_finished(self, message: SolveFinished) -> None:
        sol = message.solution
        # an answer worth keeping: not "no plan within the time limit", not a plan whose
        # solve was stopped early (it is shown, and kept as the next warm start, but a
        # later visit solves again)
        final = sol.status != "unknown" and (
            not message.cancelled or sol.status in ("optimal", "infeasible")
        )
        if final:
            self.session.remember_solution(message.text, message.scenario, message.plan, sol)
        elif sol.status == "feasible":
            self.session.remember_hint(message.scenario, sol)
        if message.purpose == "compare":
            return
        if message.job != self._job:
            return
        self._end_job()
        self._apply_solution(
            message.text, message.scenario, message.plan, sol, cancelled=message.cancelled
        )

    def _apply_solution(
        self,
        text: str,
        scenario: str | None,
        plan: Plan,
        sol: Solution,
        *,
        cancelled: bool = False,
        quiet: bool = False,
    ) -> None:
        cur = sol.currency
        before = self.session.shown.solution if self.session.shown else None
        if sol.status in ("optimal", "feasible"):
            self.session.show(Solved(plan, sol), text, scenario)
            self._stopped_early = cancelled and sol.status == "feasible"
            self._solve_diags = [d for d in sol.diagnostics]
            self._show_solution()
            if quiet:
                pass
            elif cancelled:
                self.notify(
                    "showing the best plan found so far"
                    + (f" (gap {sol.gap * 100:.1f}%)" if sol.gap else ""),
                    title="solve stopped",
                    severity="warning",
                )
            elif sol.totals is not None:
                from capdsl.tui.display import money

                msg = f"{money(sol.totals.cost, cur)} total, {sol.status}"
                if before is not None and before.totals is not None and before.currency == cur:
                    delta = sol.totals.cost - before.totals.cost
                    if delta:
                        msg += f" ({'+' if delta > 0 else '-'}{money(abs(delta), cur)} vs before)"
                self.notify(msg, title=f"solved {scenario or 'base'}", timeout=4)
        elif sol.status == "infeasible":
            self._solve_diags = list(sol.diagnostics)
            if not quiet:
                self._show_problem(
                    "Infeasible plan",
                    sol.message or "no plan meets every constraint",
                    self._render_diags(sol.diagnostics),
                    severity="warning",
                )
        elif sol.status == "error":
            self._solve_diags = list(sol.diagnostics)
            if not quiet:
                self._show_problem(
                    "Solver error",
                    sol.message or "the solve failed",
                    self._render_diags(sol.diagnostics),
                )
        else:
            if not quiet:
                self.notify(
                    "stopped before any plan was found"
                    if cancelled
                    else f"no plan found within {self.settings.time_limit:g} s (raise time_limit in the settings)",
                    title="no solution",
                    severity="warning",
                )
        self._refresh_source()
        self._refresh_diagnostics()
        self._refresh_summary()
        self._refresh_header()

    def on_job_ended(self, message: JobEnded) -> None:
        if message.job == self._job:
            self._end_job()
            if message.cancelled:
                self.notify("cancelled before solving", title="solve", severity="warning")
            elif self.session.shown is None:
                self.query_one(SolutionSummary).set_empty("not solved yet: f5 solves")
            self._refresh_summary()

    def _end_job(self) -> None:
        self._set_busy(False)
        self.query_one(SolveStatus).stop()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.refresh_bindings()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or not self.is_running:
            return
        if worker is self._worker or worker.group == "solve":
            self._end_job()
            self._refresh_summary()
        import traceback

        from capdsl.tui.solver_process import SolverCrashed, SolverFailed

        error = worker.error
        keep = " The solution on screen is the last good one." if self.session.shown else ""
        if isinstance(error, SolverCrashed):
            self._show_problem(
                "The solver crashed",
                "the solver process stopped; capdsl starts a new one on the next solve." + keep,
                str(error),
            )
            return
        if isinstance(error, SolverFailed):
            self._show_problem("Solver error", error.args[0] + keep, error.child_traceback[-4000:])
            return
        details = (
            "".join(traceback.format_exception(error)) if isinstance(error, BaseException) else ""
        )
        self._show_problem(
            f"Unexpected error in {worker.description or worker.name}",
            f"{type(error).__name__}: {error}" + keep,
            details[-4000:],
        )

    # ------------------------------------------------------------------ showing things

    def _show_solution(self) -> None:
        shown = self.session.shown
        if shown is None:
            return
        plan, sol = shown.plan, shown.solution
        self.query_one(MixView).show(plan, sol)
        self.query_one(ScheduleTable).show(plan, sol)
        self.query_one(CostView).show(plan, sol)
        self.query_one(CapacityView).show(plan, sol)

    def _refresh_source(self) -> None:
        s = self.session
        changed = changed_lines(s.file_text, s.text) if s.dirty else set()
        self.query_one(SourceView).show_source(
            s.text, path=self.plan_path, diagnostics=self.all_diagnostics, changed=changed
        )

    def _refresh_diagnostics(self) -> None:
        self.query_one(DiagnosticsList).show(self._plan_diags, self._solve_diags)

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        return [*self._plan_diags, *self._solve_diags]

    def _refresh_summary(self) -> None:
        s = self.session
        summary = self.query_one(SolutionSummary)
        if s.shown is None:
            return
        stale: str | None = None
        if s.build_failed:
            stale = "the plan has errors: this is the last good solution"
        elif s.shown_key != s.key:
            solved = s.solved_for(s.text, s.scenario)
            if solved is not None and not solved.good:
                stale = f"the plan on screen is {solved.solution.status}: this is the last good solution"
            elif self.busy:
                stale = "re-solving…"
            else:
                stale = "not solved since the last change (f5 solves)"
        shown_scenario = s.shown_key[1] if s.shown_key else None
        if stale is None and shown_scenario != s.scenario:
            stale = f"showing {shown_scenario or 'base'}"
        dirty = (self._n_changed or -1) if s.dirty else 0  # -1: changed, count unknown
        summary.show(
            s.shown.plan, s.shown.solution, stale=stale, dirty=dirty, stopped=self._stopped_early
        )

    def _refresh_header(self) -> None:
        s = self.session
        parts = [Path(self.plan_path).name, s.scenario or "base"]
        plan = s.plan
        if plan is not None:
            parts[0] = f"{plan.name} ({Path(self.plan_path).name})"
            if plan.plan_for and plan.plan_for == s.scenario:
                parts[1] += " (plan for)"
        if s.dirty:
            parts.append("unsaved what-ifs")
        self.sub_title = " · ".join(parts)

    def refresh_knobs(self) -> None:
        from capdsl.tui.whatif import current_value, knobs_for

        plan = self.session.plan
        if plan is None:
            return
        self.knobs = knobs_for(plan)
        current = {k.path: current_value(plan, k) for k in self.knobs}
        file_built = self.session.build_for(self.session.file_text, self.session.scenario)
        file_values: dict[str, str] = {}
        if file_built is not None and file_built.plan is not None:
            file_values = {k.path: current_value(file_built.plan, k) for k in self.knobs}
        self._n_changed = sum(
            1 for k, v in current.items() if k in file_values and file_values[k] != v
        )
        self.run_worker(
            self.query_one(WhatIfForm).set_knobs(self.knobs, current, file_values),
            group="form",
            exclusive=True,
            exit_on_error=False,
        )

    def _sync_scenarios(self, plan: Plan) -> None:
        select = self.query_one("#scenario", Select)
        options: list[tuple[str, str]] = [("base", "")]
        for name in plan.scenarios:
            options.append((f"{name} (plan for)" if plan.plan_for == name else name, name))
        with self.prevent(Select.Changed):
            if options != self._scenario_options:
                self._scenario_options = options
                select.set_options(options)
            select.value = self.session.scenario or ""
        self.query_one(CompareView).set_scenarios(
            plan.scenarios,
            current=self.session.scenario,
            plan_for=plan.plan_for,
            dirty=self.session.dirty,
        )

    def _currency(self) -> str:
        plan = self.session.plan
        return plan.currency if plan is not None else "USD"

    def _key_for(self, binding_id: str) -> str:
        keys = self._keymap.get(binding_id)
        if keys:
            return keys.split(",")[0]
        for b in self.BINDINGS:
            if isinstance(b, Binding) and b.id == binding_id:
                return self.get_key_display(b)
        return binding_id

    def _render_diags(self, diags: list[Diagnostic]) -> str:
        """rustc-style text, with paths relative to the plan's folder (short, stable)."""
        from dataclasses import replace

        from capdsl.lang.diagnostics import render

        folder = Path(self.plan_path).resolve().parent

        def short(file: str) -> str:
            try:
                return str(Path(file).resolve().relative_to(folder))
            except (ValueError, OSError):
                return file

        sources = {short(self.plan_path): self.session.text}
        out = []
        for d in diags:
            if d.span is not None:
                d = replace(
                    d,
                    span=replace(d.span, file=short(d.span.file)),
                    labels=tuple(
                        replace(lb, span=replace(lb.span, file=short(lb.span.file)))
                        for lb in d.labels
                    ),
                )
            out.append(render(d, sources))
        return "\n\n".join(out)

    def _show_problem(
        self, title: str, summary: str, details: str = "", *, severity: str = "error"
    ) -> None:
        from capdsl.tui.screens.problem import ProblemScreen

        self.push_screen(ProblemScreen(title, summary, details, severity=severity))

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from textual.screen import ModalScreen

        if isinstance(self.screen, ModalScreen) and action in _MAIN_SCREEN_ACTIONS:
            return False
        if action == "cancel":
            return self.busy
        if action == "save":
            return True if self.session.dirty else None
        if action == "undo":
            return bool(self.session.undo_stack)
        return True

    def action_solve(self) -> None:
        if self.session.plan is None and not self.session.text:
            self.notify("no plan to solve", severity="warning")
            return
        self.session.forget_solution(self.session.text, self.session.scenario)
        self.run_pipeline(purpose="solve")

    def action_cancel(self) -> None:
        if self._stop is not None and self.busy:
            self._stop.set()
            self.query_one(SolveStatus).stage("stopping…")

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def action_zoom(self) -> None:
        """Fill the screen with the focused pane (the source, the diagnostics or the
        tabs); again to restore."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        if focused is None:
            return
        tabs = self.query_one(TabbedContent)
        if focused is tabs or tabs in focused.ancestors:
            screen.maximized = tabs
        else:
            screen.maximize(focused, container=False)

    def action_compare_tab(self) -> None:
        self.action_show_tab("compare")

    def action_pick_scenario(self) -> None:
        from functools import partial

        plan = self.session.plan
        names: list[str | None] = [None, *(plan.scenarios if plan else ())]
        commands = [
            (
                (n or "base")
                + (" (plan for)" if plan and n and plan.plan_for == n else "")
                + ("  ← on screen" if n == self.session.scenario else ""),
                partial(self.switch_scenario, n),
                None,
            )
            for n in names
        ]
        self.search_commands(commands, placeholder="Switch to scenario…")

    @on(Select.Changed, "#scenario")
    def _scenario_selected(self, event: Select.Changed) -> None:
        select = event.select
        # only the user's choice switches; programmatic updates (mount, sync) do not
        if not (select.has_focus or select.expanded) or select.value != event.value:
            return
        value = event.value
        self.switch_scenario(value if isinstance(value, str) and value else None)

    def switch_scenario(self, name: str | None) -> None:
        """Show another scenario (from the cache when it was solved for this text)."""
        s = self.session
        if name == s.scenario:
            return
        s.scenario = name
        with self.prevent(Select.Changed):
            self.query_one("#scenario", Select).value = name or ""
        self._show_current_or_run(purpose="scenario")

    def _show_current_or_run(self, *, purpose: str) -> None:
        """After undo/redo/scenario switch: show cached results, else build and solve."""
        s = self.session
        built = s.build_for(s.text, s.scenario)
        solved = s.solved_for(s.text, s.scenario)
        if built is not None and solved is not None:
            self._new_job()
            self._end_job()
            self._apply_build(s.text, s.scenario, built, purpose)
            self._apply_solution(s.text, s.scenario, solved.plan, solved.solution, quiet=True)
            return
        self._refresh_source()
        self._refresh_header()
        self.run_pipeline(purpose=purpose)

    # what-ifs

    def prompt_whatif(self, knob: Knob) -> None:
        from capdsl.tui.screens.prompt import PromptScreen
        from capdsl.tui.whatif import current_value

        plan = self.session.plan
        value = current_value(plan, knob) if plan is not None else ""

        def done(result: str | None) -> None:
            if result is not None:
                self.apply_whatif(knob, result)

        self.push_screen(
            PromptScreen(f"what if {knob.label} were…", value=value, help=knob.help), done
        )

    def apply_whatif(self, knob: Knob, raw: str) -> None:
        """Write ``raw`` into the in-memory text at the knob's setting, rebuild, re-solve."""
        from capdsl.tui.whatif import WhatIfError, apply_whatif, find_knob, normalise

        s = self.session
        plan = s.plan
        if plan is None or s.build_failed:
            self.notify(
                "fix the plan's errors first: what-ifs need a plan that builds",
                title="what-if",
                severity="error",
            )
            return
        if plan.scenario != s.scenario:
            self.notify(
                "the plan is still being built for this scenario; try again in a moment",
                title="what-if",
                severity="warning",
            )
            return
        knob = find_knob(self.knobs, knob.path) or knob
        try:
            value = normalise(knob, raw)
            text = apply_whatif(s.text, plan, knob, value, path=self.plan_path, scenario=s.scenario)
        except WhatIfError as exc:
            self.notify(str(exc), title="what-if", severity="error")
            self.query_one(WhatIfForm).mark_invalid(knob)
            return
        if text == s.text:
            self.notify(f"{knob.path} is already {value}", title="what-if")
            return
        self._pending_whatif = (knob, value)
        self.run_pipeline(text=text, purpose="whatif")

    def on_what_if_form_apply(self, message: WhatIfForm.Apply) -> None:
        self.apply_whatif(message.knob, message.value)

    def on_what_if_form_command(self, message: WhatIfForm.Command) -> None:
        {"undo": self.action_undo, "revert": self.action_revert, "save": self.action_save}[
            message.command
        ]()

    def action_undo(self) -> None:
        if not self.session.undo():
            self.notify("nothing to undo: these are the file's values", title="undo")
            return
        self._show_current_or_run(purpose="undo")

    def action_redo(self) -> None:
        if not self.session.redo():
            self.notify("nothing to redo", title="redo")
            return
        self._show_current_or_run(purpose="redo")

    def action_revert(self) -> None:
        if not self.session.revert():
            self.notify("no what-ifs: these are the file's values", title="revert")
            return
        self._show_current_or_run(purpose="revert")

    # files

    def action_save(self) -> None:
        s = self.session
        if not s.dirty:
            self.notify("nothing to save: the file already says this", title="save")
            return
        try:
            disk = self.backend.read(self.plan_path)
        except OSError:
            disk = s.file_text
        if disk != s.file_text:
            from capdsl.tui.screens.problem import ProblemScreen

            def answer(choice: str | None) -> None:
                if choice == "overwrite":
                    self._save()

            self.push_screen(
                ProblemScreen(
                    "The file changed on disk",
                    f"{Path(self.plan_path).name} was changed by someone else since it was loaded. "
                    "Overwrite it with the what-if version?",
                    severity="warning",
                    buttons=(("cancel", "Keep the file"), ("overwrite", "Overwrite")),
                ),
                answer,
            )
            return
        self._save()

    def _save(self) -> None:
        from capdsl.lang.diagnostics import DiagnosticError

        s = self.session
        text = s.text
        note = ""
        if self.settings.format_on_save:
            try:
                text = self.backend.format(text, self.plan_path)
            except DiagnosticError as exc:
                self._show_problem(
                    "Cannot save",
                    "the what-if text does not format",
                    self._render_diags(exc.diagnostics),
                )
                return
            except (ImportError, AttributeError):
                note = " (formatter not available: written as edited)"
        try:
            self.backend.write(self.plan_path, text)
        except OSError as exc:
            self._show_problem("Cannot save", f"{self.plan_path}: {exc}")
            return
        reformatted = text != s.text
        s.saved(text)
        self._disk_stamp = self._stamp()
        self._disk_warned = False
        self.notify(f"saved {Path(self.plan_path).name}{note}", title="save")
        if reformatted:
            # spans moved: rebuild (the solution carries over to the formatted text)
            self.run_pipeline(solve=False, purpose="saved")
        else:
            self._refresh_source()
            self.refresh_knobs()
            self._refresh_summary()
            self._refresh_header()

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        paths = [self.plan_path]
        built = self.session.build_for(self.session.file_text, self.session.scenario)
        if built is not None:
            paths += [p for p in built.sources if p != self.plan_path]
        out = []
        for p in dict.fromkeys(paths):
            try:
                st = os.stat(p)
            except OSError:
                continue
            out.append((p, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def check_disk(self) -> None:
        """Reload when the plan file (or a file it imports) changed on disk."""
        stamp = self._stamp()
        if stamp == self._disk_stamp:
            return
        self._disk_stamp = stamp
        try:
            text = self.backend.read(self.plan_path)
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"cannot read {self.plan_path}: {exc}", severity="error")
            return
        imports_changed = text == self.session.file_text
        s = self.session
        if s.dirty:
            if not self._disk_warned:
                self._disk_warned = True
                self.notify(
                    f"{Path(self.plan_path).name} changed on disk; your what-ifs are kept. "
                    f"{self._key_for('reload')} reloads from disk and drops them.",
                    title="file changed",
                    severity="warning",
                    timeout=10,
                )
            return
        if imports_changed:
            # an imported file changed: forget cached builds of this text
            self.session = _fresh_copy(s)
        self._reload(text, reason="changed on disk")

    def _reload(self, text: str, *, reason: str) -> None:
        self.session.reload(text)
        self._disk_warned = False
        self._disk_stamp = self._stamp()
        self.notify(f"{Path(self.plan_path).name} {reason}: rebuilding", title="reload", timeout=3)
        self._refresh_source()
        self._refresh_header()
        self.run_pipeline(purpose="reload")

    def action_reload(self) -> None:
        try:
            text = self.backend.read(self.plan_path)
        except (OSError, UnicodeDecodeError) as exc:
            self._show_problem("Cannot read the plan", f"{self.plan_path}: {exc}")
            return
        self.session = _fresh_copy(self.session)
        self._reload(text, reason="reloaded")

    def action_edit(self) -> None:
        import shlex
        import subprocess

        if self.session.dirty:
            self.notify("save or revert the what-ifs first", title="edit", severity="warning")
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with self.suspend():
                subprocess.call([*shlex.split(editor), self.plan_path])
        except Exception as exc:  # no terminal to suspend to (e.g. a test), editor missing
            self.notify(f"cannot start {editor}: {exc}", title="edit", severity="error")
            return
        self.check_disk()

    # report

    def action_export_report(self) -> None:
        s = self.session
        results: list[tuple[Plan, Solution]] = []
        names: list[str | None] = [None, *(s.plan.scenarios if s.plan else ())]
        for name in names:
            solved = s.solved_for(s.text, name)
            if solved is not None and solved.good and solved.solution.verified:
                results.append((solved.plan, solved.solution))
        if not results:
            self.notify(
                "solve the plan first (f5): reports show verified solutions only",
                title="export report",
                severity="warning",
            )
            return
        self._export(results)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="export",
        description="export report",
    )
    def _export(self, results: list[tuple[Plan, Solution]]) -> None:
        from capdsl.tui.backend import write_atomic

        out = self.backend.report(results, "html")
        plan_path = Path(self.plan_path)
        folder = plan_path.parent
        if self.settings.report_dir:
            folder = folder / self.settings.report_dir
        target = folder / f"{plan_path.stem}.report.html"
        if isinstance(out, bytes):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(out)
        else:
            write_atomic(target, out)
        self.post_message(ReportWritten(str(target)))

    def on_report_written(self, message: ReportWritten) -> None:
        self.notify(f"wrote {message.path}", title="export report", timeout=6)

    # compare

    def on_compare_view_requested(self, message: CompareView.Requested) -> None:
        self.compare(message.a, message.b)

    def compare(self, a: Target | str | None, b: Target | str | None) -> None:
        """Show ``a`` and ``b`` side by side, solving those not solved yet. A target is a
        scenario name (None: base) or (scenario, from the file's text)."""
        ta, tb = _as_target(a), _as_target(b)
        s = self.session
        self.action_show_tab("compare")
        self.query_one(CompareView).select(ta, tb)
        missing = [
            (self._text_of(t), t[0])
            for t in dict.fromkeys((ta, tb))
            if s.solved_for(self._text_of(t), t[0]) is None
        ]
        missing = list(dict.fromkeys(missing))
        if not missing:
            self._show_compare(ta, tb)
            return
        stop = self._new_job()
        self._set_busy(True)
        names = ", ".join(target_label((n, text != s.text)) for text, n in missing)
        self.query_one(SolveStatus).start(
            f"solving {names} to compare",
            time_limit=self.settings.time_limit * len(missing),
            currency=self._currency(),
            cancel_key=self._key_for("cancel"),
        )
        # what the worker needs from the session is read here, on the UI thread
        work = [(text, name, s.build_for(text, name), s.hint(name)) for text, name in missing]
        self._worker = self._compare(self._job, work, ta, tb, stop)

    def _text_of(self, target: Target) -> str:
        return self.session.file_text if target[1] else self.session.text

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="solve",
        description="compare scenarios",
    )
    def _compare(
        self,
        job: int,
        work: list[tuple[str, str | None, Built | None, Solution | None]],
        a: Target,
        b: Target,
        stop: threading.Event,
    ) -> None:
        for text, name, cached, hint in work:
            if stop.is_set():
                break
            built = cached or self.backend.build(text, self.plan_path, name)
            self.post_message(BuildFinished(job, text, name, built, purpose="compare"))
            if built.plan is None:
                continue
            solution = self._solve(job, built.plan, hint, stop)
            self.post_message(
                SolveFinished(
                    job,
                    text,
                    name,
                    built.plan,
                    solution,
                    cancelled=stop.is_set(),
                    purpose="compare",
                )
            )
        self.post_message(CompareReady(job, a, b))

    def on_compare_ready(self, message: CompareReady) -> None:
        if message.job != self._job:
            return
        self._end_job()
        self._show_compare(message.a, message.b)
        self._refresh_summary()

    def _show_compare(self, a: Target, b: Target) -> None:
        s = self.session
        view = self.query_one(CompareView)
        sa, sb = s.solved_for(self._text_of(a), a[0]), s.solved_for(self._text_of(b), b[0])
        problems = []
        for target, solved in ((a, sa), (b, sb)):
            if solved is None:
                problems.append(
                    f"{target_label(target)} was not solved (does it build? see diagnostics)"
                )
            elif not solved.good:
                problems.append(
                    f"{target_label(target)} is {solved.solution.status}: "
                    f"{solved.solution.message or 'no plan'}"
                )
        if problems or sa is None or sb is None:
            view.show_message("; ".join(problems))
            return
        view.show(a, sa.solution, b, sb.solution)

    # navigation

    def on_diagnostics_list_jump(self, message: DiagnosticsList.Jump) -> None:
        self._jump(message.diagnostic.span, focus=message.focus)

    def on_diagnostics_list_explain(self, message: DiagnosticsList.Explain) -> None:
        self.show_code(message.code)

    def _jump(self, span: Any, *, focus: bool) -> None:
        from capdsl.tui.whatif import same_file

        if span is None:
            return
        if not same_file(span.file, self.plan_path):
            self.notify(f"in {span.file}:{span.line}:{span.column}", title="elsewhere")
            return
        source = self.query_one(SourceView)
        source.jump_to(span.line, span.column, span.end_line, span.end_column)
        if focus:
            source.focus()

    def action_jump_setting(self, path: str) -> None:
        plan = self.session.plan
        setting = plan.settings.get(path) if plan is not None else None
        if setting is None or setting.span is None:
            self.notify(
                f"`{path}` is not written in the plan (its default applies)", title="setting"
            )
            return
        self._jump(setting.span, focus=True)

    def action_next_diagnostic(self) -> None:
        if self.query_one(DiagnosticsList).select_next(1) is None:
            self.notify("no problems", title="diagnostics")

    def action_previous_diagnostic(self) -> None:
        if self.query_one(DiagnosticsList).select_next(-1) is None:
            self.notify("no problems", title="diagnostics")

    def action_goto_line(self) -> None:
        from capdsl.tui.screens.prompt import PromptScreen

        def done(result: str | None) -> None:
            if result and result.strip().isdigit():
                source = self.query_one(SourceView)
                source.jump_to(int(result.strip()))
                source.focus()

        self.push_screen(PromptScreen("go to line", placeholder="line number"), done)

    def show_code(self, code: str) -> None:
        from capdsl.tui.screens.explain_code import ExplainCodeScreen

        entry = self.backend.explain(code)
        if entry is None:
            self.notify(f"no explanation for `{code}`", title="explain", severity="warning")
            return
        self.push_screen(ExplainCodeScreen(code.upper(), entry[1]))

    def action_help(self) -> None:
        from capdsl.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.keys_markdown(), str(config_path())))

    def keys_markdown(self) -> str:
        rows = ["| keys | what | binding id |", "|---|---|---|"]
        listed: list[tuple[str, str, str]] = [
            (
                "ctrl+p",
                "command palette (solve, scenarios, what-ifs, explain codes…)",
                "command_palette",
            ),
        ]
        for b in self.BINDINGS:
            if not isinstance(b, Binding) or b.id is None:
                continue
            keys = self._keymap.get(b.id, b.key)
            shown = ", ".join(
                self.get_key_display(Binding(k.strip(), b.action)) for k in keys.split(",")
            )
            desc = _HELP_TEXT.get(b.id) or b.description or b.action
            listed.append((shown, desc, b.id))
        listed += [
            ("enter (diagnostics)", "jump to the diagnostic's line", "diagnostics.jump"),
            ("e (diagnostics)", "explain the diagnostic's code", "diagnostics.explain"),
            ("tab / shift+tab", "move between panes", ""),
            ("ctrl+q", "quit", "quit"),
        ]
        for keys, desc, bid in listed:
            rows.append(f"| `{keys}` | {desc} | {('`' + bid + '`') if bid else ''} |")
        return "\n".join(rows)


def _as_target(value: Target | str | None) -> Target:
    return value if isinstance(value, tuple) else (value, False)


def _fresh_copy(s: Session) -> Session:
    """The same session without cached builds/solutions (an import changed on disk)."""
    fresh = Session(s.path, s.file_text, s.scenario)
    fresh.text = s.text
    fresh.undo_stack = list(s.undo_stack)
    fresh.redo_stack = list(s.redo_stack)
    fresh.plan = s.plan
    fresh.shown = s.shown
    fresh.shown_key = None if s.shown is None else ("", s.shown_key[1] if s.shown_key else None)
    fresh._last_good = dict(s._last_good)
    return fresh


def _float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def run(
    path: str,
    *,
    scenario: str | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
) -> int:
    """Run the TUI on ``path`` until the user quits; the exit code for ``capdsl tui``.
    ``time_limit`` and ``seed`` override the settings file's."""
    from dataclasses import replace

    settings, problem = load_settings()
    if time_limit is not None:
        settings = replace(settings, time_limit=time_limit)
    if seed is not None:
        settings = replace(settings, seed=seed)
    app = CapApp(path, scenario=scenario, settings=settings)
    app.settings_problem = problem
    code = app.run()
    if isinstance(code, int):
        return code
    return app.return_code or 0
