"""The ``capdsl`` command.

Conventions (terraform / ruff): exit 0 ok, 1 plan errors or infeasible, 2 usage errors;
``--format json`` on every command that prints data; ``-`` reads standard input; progress
on stderr only when it is a terminal. Everything below this module returns values and
diagnostics; only this module prints and exits.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from capdsl.api import Built
    from capdsl.lang.diagnostics import Diagnostic

app = typer.Typer(
    name="capdsl",
    help="Capacity plans in the .cap language: the cheapest verified mix of reserved, on-demand and spot.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"
    html = "html"


class DataFormat(StrEnum):
    table = "table"
    json = "json"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


EXIT_OK, EXIT_PLAN, EXIT_USAGE = 0, 1, 2


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        # Piped or redirected: rich would assume 80 columns and truncate table cells; data
        # written to a file or a pager should be whole.
        console.width = _PIPE_WIDTH
    return console


_PIPE_WIDTH = 160


def _usage_error(message: str) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_USAGE)


def _print_diagnostics(diags: list[Diagnostic], sources: dict[str, str]) -> None:
    from capdsl.lang.diagnostics import render

    if not diags:
        return
    err = _console(stderr=True)
    for d in diags:
        text = render(d, sources)
        style = {"error": "red", "warning": "yellow"}.get(d.level.value, "cyan")
        head, _, rest = text.partition("\n")
        err.print(f"[bold {style}]{_escape(head)}[/]")
        if rest:
            err.print(_escape(rest))
        err.print()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _build(path: str, scenario: str | None, allow_outside: bool, refresh: bool = False) -> Built:
    from capdsl.api import build_file

    if path != "-" and not Path(path).exists():
        raise _usage_error(f"no such file: {path}")
    return build_file(path, scenario=scenario, allow_outside=allow_outside, refresh=refresh)


def _write_output(text: str | bytes, output: Path | None) -> None:
    """Write to a file atomically, or to stdout."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    import os
    import tempfile

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    size = output.stat().st_size
    shown = f"{size / 1024:,.0f} KiB" if size >= 1024 else f"{size} bytes"
    _console(stderr=True).print(_escape(f"wrote {output} ({shown})"))


ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="Solve this scenario of the plan.")
]
AllowOutsideOpt = Annotated[
    bool, typer.Option("--allow-outside", help="Allow imports outside the plan's directory.")
]


# --------------------------------------------------------------------------- check


@app.command()
def check(
    paths: Annotated[list[str], typer.Argument(help="Plan files ('-' for stdin).")],
    fmt: Annotated[TextFormat, typer.Option("--format", "-f")] = TextFormat.text,
    scenario: ScenarioOpt = None,
    emit: Annotated[
        str | None, typer.Option("--emit", help="Also print 'plan' (the built Plan as JSON).")
    ] = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Check plans: syntax, units, names, model; lints as warnings. Exit 1 on errors."""
    import json

    if emit not in (None, "plan"):
        raise _usage_error(f"unknown --emit value `{emit}` (expected `plan`)")
    failed = False
    records: list[dict[str, Any]] = []
    for path in paths:
        built = _build(path, scenario, allow_outside)
        failed |= not built.ok
        if fmt is TextFormat.json:
            rec: dict[str, Any] = {
                "path": path,
                "ok": built.ok,
                "diagnostics": [d.to_dict() for d in built.diagnostics],
            }
            if emit == "plan" and built.plan is not None:
                rec["plan"] = json.loads(built.plan.model_dump_json())
            records.append(rec)
            continue
        _print_diagnostics(built.diagnostics, built.sources)
        if emit == "plan" and built.plan is not None:
            sys.stdout.write(built.plan.model_dump_json(indent=2) + "\n")
        counts = {
            lv: sum(d.level.value == lv for d in built.diagnostics)
            for lv in ("error", "warning", "note")
        }
        status = "[bold red]failed[/]" if not built.ok else "[bold green]ok[/]"
        summary = f"{_escape('<stdin>' if path == '-' else path)}: {status}"
        if counts["error"] or counts["warning"]:
            summary += (
                " ("
                + ", ".join(
                    f"{n} {lv}{'s' * (n != 1)}" for lv, n in counts.items() if n or lv != "note"
                )
                + ")"
            )
        _console(stderr=True).print(summary)
    if fmt is TextFormat.json:
        sys.stdout.write(
            json.dumps(records if len(records) > 1 else records[0], indent=2, sort_keys=True) + "\n"
        )
    raise typer.Exit(EXIT_PLAN if failed else EXIT_OK)


# --------------------------------------------------------------------------- solve


@app.command()
def solve(
    path: Annotated[str, typer.Argument(help="Plan file ('-' for stdin).")],
    scenario: ScenarioOpt = None,
    all_scenarios: Annotated[
        bool, typer.Option("--all-scenarios", help="Solve the base plan and every scenario.")
    ] = False,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f")] = OutFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            "-t",
            help="Solver time limit per plan (s); the 'why not' re-solves of a small plan "
            "take a quarter more (at most 5 s).",
        ),
    ] = 20.0,
    seed: Annotated[int, typer.Option(help="Solver random seed (same seed, same plan).")] = 0,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Refetch online prices (cache bypass).")
    ] = False,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Stress test: replay another scenario's demand ('base' = no scenario) against the fleet "
            "this plan buys; exit 1 where the SLA breaks.",
        ),
    ] = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Solve a plan: what to run and buy, month by month; verified independently."""
    from capdsl.api import solve_plan, stress_test
    from capdsl.report import render_solutions

    if all_scenarios and scenario:
        raise _usage_error("use either --scenario or --all-scenarios")
    built = _build(path, scenario, allow_outside, refresh)
    _print_diagnostics(built.diagnostics, built.sources)
    if built.plan is None:
        raise typer.Exit(EXIT_PLAN)
    actual = None
    if against is not None:
        name = None if against == "base" else against
        if name is not None and name not in built.plan.scenarios:
            from capdsl.lang.diagnostics import did_you_mean

            hint = did_you_mean(name, ["base", *built.plan.scenarios])
            raise _usage_error(f"unknown scenario `{name}`" + (f"; {hint}" if hint else ""))
        actual = built.plan.variant(name)
    plans = [built.plan]
    if all_scenarios:
        plans += [built.plan.variant(s) for s in built.plan.scenarios]
    results = []
    for plan in plans:
        with _progress(
            f"solving {plan.name}" + (f" [{plan.scenario}]" if plan.scenario else "")
        ) as on_progress:
            sol = solve_plan(plan, time_limit=time_limit, seed=seed, on_progress=on_progress)
        if actual is not None and plan.scenario != actual.scenario:
            sol = stress_test(plan, sol, actual)
        results.append((plan, sol))
    table_on_screen = fmt is OutFormat.table and output is None
    if not table_on_screen:  # the table shows them itself
        for _, sol in results:
            _print_diagnostics(sol.diagnostics, built.sources)
    color = table_on_screen and sys.stdout.isatty()
    width = 100
    if color:
        import shutil

        width = min(max(shutil.get_terminal_size().columns, 80), 140)
    _write_output(render_solutions(results, fmt.value, color=color, width=width), output)
    bad = any(
        sol.status not in ("optimal", "feasible")
        or not sol.verified
        or (sol.stress is not None and not sol.stress.ok)
        for _, sol in results
    )
    raise typer.Exit(EXIT_PLAN if bad else EXIT_OK)


class _progress:
    """A rich status line with elapsed time, objective and gap; silent when not a terminal."""

    def __init__(self, title: str):
        self.title = title
        self.status: Any = None

    def __enter__(self) -> Any:
        console = _console(stderr=True)
        if not console.is_terminal:
            return None
        self.status = console.status(f"{self.title}…")
        self.status.__enter__()

        def on_progress(p: Any) -> None:
            gap = f"{p.gap * 100:.2f}%" if p.gap is not None else "–"
            obj = f"{p.objective:,.0f}" if p.objective is not None else "–"
            self.status.update(f"{self.title}: {p.elapsed_s:5.1f}s  objective {obj}  gap {gap}")

        return on_progress

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


# --------------------------------------------------------------------------- report


@app.command()
def report(
    path: Annotated[str, typer.Argument(help="Plan file ('-' for stdin).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (format from suffix).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="html or md (default: from -o, else md).")
    ] = None,
    scenario: ScenarioOpt = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t")] = 20.0,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """A planning report: cost per month, capacity vs demand, purchase mix, savings, binding constraints."""
    from capdsl.api import solve_plan
    from capdsl.report import render_report

    if fmt is None:
        fmt = "html" if output is not None and output.suffix.lower() in (".html", ".htm") else "md"
    if fmt not in ("html", "md"):
        raise _usage_error(f"unknown report format `{fmt}` (expected html or md)")
    built = _build(path, scenario, allow_outside)
    _print_diagnostics(built.diagnostics, built.sources)
    if built.plan is None:
        raise typer.Exit(EXIT_PLAN)
    results = []
    names = [scenario] if scenario else [None, *built.plan.scenarios]
    for name in names:
        plan = built.plan.variant(name)
        with _progress(f"solving {plan.name}" + (f" [{name}]" if name else "")) as on_progress:
            results.append((plan, solve_plan(plan, time_limit=time_limit, on_progress=on_progress)))
    _write_output(render_report(results, fmt), output)
    raise typer.Exit(EXIT_OK if results[0][1].verified else EXIT_PLAN)


# --------------------------------------------------------------------------- fmt


@app.command()
def fmt(
    paths: Annotated[
        list[str], typer.Argument(help="Files or directories ('-' for stdin -> stdout).")
    ],
    check_only: Annotated[
        bool, typer.Option("--check", help="Exit 1 if any file would change.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff instead of writing.")
    ] = False,
) -> None:
    """Format .cap files canonically (comments kept; refuses files that do not parse)."""
    from capdsl.lang.format import format_paths

    result = format_paths(paths, check=check_only, diff=diff)
    _print_diagnostics(result.diagnostics, result.sources)
    if result.stdout:
        sys.stdout.write(result.stdout)
    for line in result.messages:
        _console(stderr=True).print(_escape(line))
    raise typer.Exit(result.exit_code)


# --------------------------------------------------------------------------- tui


@app.command()
def tui(
    path: Annotated[str, typer.Argument(help="Plan file.")],
    scenario: ScenarioOpt = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            "-t",
            min=0.001,
            help="Solver time limit per solve (s); default: the settings file's, else 20.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Solver random seed; default: the settings file's, else 0.")
    ] = None,
) -> None:
    """Explore a plan, its costs and what-ifs in the terminal."""
    if not Path(path).exists():
        raise _usage_error(f"no such file: {path}")
    from capdsl.tui.app import run

    raise typer.Exit(run(path, scenario=scenario, time_limit=time_limit, seed=seed))


# --------------------------------------------------------------------------- explain


@app.command()
def explain(
    code: Annotated[str, typer.Argument(help="A diagnostic code, e.g. E0203.")],
    fmt: Annotated[TextFormat, typer.Option("--format", "-f")] = TextFormat.text,
) -> None:
    """Print the long explanation of a diagnostic code, with an example."""
    import json

    from capdsl.codes import get_code, known_codes

    entry = get_code(code)
    if entry is None:
        from capdsl.lang.diagnostics import did_you_mean

        hint = did_you_mean(code.upper(), known_codes())
        raise _usage_error(f"unknown code `{code}`" + (f"; {hint}" if hint else ""))
    if fmt is TextFormat.json:
        sys.stdout.write(json.dumps(entry.to_dict(), indent=2, sort_keys=True) + "\n")
        return
    from rich.markdown import Markdown

    _console().print(Markdown(entry.text))


# --------------------------------------------------------------------------- catalog / plugins / bench


@app.command()
def catalog(
    source: Annotated[str, typer.Option("--source", help="Pricing source.")] = "bundled",
    provider: Annotated[str | None, typer.Option("--provider")] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Region (repeatable).")
    ] = None,
    family: Annotated[
        list[str] | None, typer.Option("--family", help="Family or type glob (repeatable).")
    ] = None,
    gpu: Annotated[list[str] | None, typer.Option("--gpu", help="GPU model (repeatable).")] = None,
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.table,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Refetch online prices into the cache.")
    ] = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="Load the provider's own format from a file.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to show in the table (0 = all).")] = 50,
) -> None:
    """Show offerings with their prices and provenance."""
    import json

    from capdsl.plugins import get_manager
    from capdsl.pricing.browse import UnknownSource, browse_catalog
    from capdsl.pricing.catalog import PricingError

    if file is not None and not file.is_file():
        raise _usage_error(f"no such file: {file}")
    manager = get_manager()
    err = _console(stderr=True)
    try:
        with _fetch_progress(f"reading prices from `{source}`") as progress:
            view = browse_catalog(
                manager.pricing_sources(),
                source=source,
                provider=provider,
                regions=region or [],
                families=family or [],
                gpus=gpu or [],
                file=str(file) if file else None,
                refresh=refresh,
                progress=progress,
            )
    except UnknownSource as exc:
        raise _usage_error(str(exc)) from None
    except PricingError as exc:
        err.print(f"[bold red]{_escape(f'error[{exc.code}]')}:[/] {_escape(str(exc))}")
        if exc.help:
            err.print(f"  = help: {_escape(exc.help)}")
        raise typer.Exit(EXIT_PLAN) from None
    for warning in view.table.warnings:
        err.print(f"[yellow]warning:[/] {_escape(warning)}")
    if fmt is DataFormat.json:
        sys.stdout.write(json.dumps(view.to_json(), indent=2, sort_keys=True) + "\n")
        raise typer.Exit(EXIT_OK)
    _render_catalog(view, limit)
    raise typer.Exit(EXIT_OK)


def _fmt_price(value: Any, currency: str) -> str:
    if value is None:
        return "–"
    text = f"{value:,.4f}" if value < 100 else f"{value:,.2f}"
    return text if currency == "USD" else f"{text} {currency}"


def _render_catalog(view: Any, limit: int) -> None:
    from rich.table import Table

    out = _console()
    rows = view.rows(limit)
    total = len(view.table.offerings)
    if not rows:
        out.print(
            "no offerings match (try fewer filters, or `capdsl catalog --format json` for the query)"
        )
    else:
        regions = sorted({o.region for o in view.table.offerings})
        one_region = len(regions) == 1
        where = f" in {regions[0]}" if one_region else ""
        table = Table(
            title=f"{view.source}: {total} offering{'s' * (total != 1)}{where}",
            title_justify="left",
            pad_edge=False,
            header_style="bold",
        )
        columns: list[tuple[str, str]] = [("type", "left")]
        if not one_region:
            columns.append(("region", "left"))
        show_gpu = any(r.gpu for r in rows)
        show_intr = any(r.interruption for r in rows)
        columns += [("AZs", "right"), ("vCPU", "right"), ("GiB", "right")]
        columns += [("GPU", "left")] if show_gpu else []
        columns += [("OD", "right"), ("spot", "right")]
        columns += [("intr", "left")] if show_intr else []
        columns += [("1y", "right"), ("3y", "right")]
        for name, justify in columns:
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for r in rows:
            cells = [r.instance_type]
            if not one_region:
                cells.append(r.region)
            cells += [str(len(r.zones)) if r.zones else "–", str(r.vcpu), f"{r.memory_gib:g}"]
            cells += [r.gpu] if show_gpu else []
            cells += [_fmt_price(r.on_demand, r.currency), _fmt_price(r.spot_min, r.currency)]
            cells += [r.interruption] if show_intr else []
            cells += [
                _fmt_price(r.reserved_1y, r.currency) + ("*" if r.reserved_1y_derived else ""),
                _fmt_price(r.reserved_3y, r.currency) + ("*" if r.reserved_3y_derived else ""),
            ]
            table.add_row(*cells)
        out.print(table)
        if limit and total > limit:
            out.print(
                f"[dim]showing {limit} of {total}; --limit 0 shows all, --family/--region/--gpu narrow[/]"
            )
        notes = [
            "$ per instance-hour. OD: on-demand; spot: cheapest zone; intr: spot interruption frequency",
            "1y/3y: effective $/h of the standard no-upfront commitment (upfront spread over the term)",
        ]
        if view.has_derived:
            notes.append(
                "* derived from a documented ratio of real published rates (not published for that type)"
            )
        for note in notes:
            out.print(f"[dim]{_escape(note)}[/]")
    out.print()
    out.print("[bold]prices from[/]")
    for s in view.table.stamps:
        fetched = f", fetched {s.fetched_at:%Y-%m-%d %H:%M}" if s.fetched_at else ""
        out.print(f"  {s.as_of} [cyan]{_escape(s.origin)}[/]{fetched}")
        if s.detail:
            out.print(f"    [dim]{_escape(s.detail)}[/]")


class _fetch_progress:
    """Price-fetch progress on stderr (a status line); silent when stderr is not a terminal."""

    def __init__(self, title: str):
        self.title = title
        self.status: Any = None

    def __enter__(self) -> Any:
        console = _console(stderr=True)
        if not console.is_terminal:
            return None
        self.status = console.status(f"{self.title}…")
        self.status.__enter__()

        def progress(message: str, fraction: float | None) -> None:
            pct = f" {fraction * 100:5.1f}%" if fraction is not None else ""
            self.status.update(f"{_escape(message)}{pct}")

        return progress

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


@app.command()
def plugins(
    all_: Annotated[bool, typer.Option("--all", help="Include capdsl's built-in plugins.")] = False,
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.table,
) -> None:
    """List installed plugins with versions and hooks; report broken ones."""
    import json

    from capdsl.plugins import get_manager

    manager = get_manager()
    manager.collect_all()  # run every hook once: failures inside hooks show up too
    infos = manager.plugins(include_builtin=all_)
    contributions = manager.contributions()
    failures = manager.failures()

    def contributed(name: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for hook, owners in contributions.items():
            items = sorted(n for n, owner in owners.items() if owner == name)
            if items:
                out[hook.removeprefix("register_")] = items
        return out

    if fmt is DataFormat.json:
        doc = {
            "plugins": [{**p.to_dict(), "registers": contributed(p.name)} for p in infos],
            "failures": [f.to_dict() for f in failures],
        }
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        raise typer.Exit(EXIT_OK)
    from rich.table import Table

    out = _console()
    if infos:
        table = Table(title="plugins", title_justify="left")
        for col in ("name", "version", "hooks", "registers"):
            table.add_column(col)
        for p in infos:
            regs = "; ".join(
                f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in contributed(p.name).items()
            )
            name = p.name + (" [dim](built-in)[/]" if p.builtin else "")
            table.add_row(
                name,
                p.version or "–",
                "\n".join(h.removeprefix("register_") for h in p.hooks),
                _escape(regs),
            )
        out.print(table)
    else:
        out.print(
            "no plugins installed" + ("" if all_ else " (--all shows capdsl's built-in ones)")
        )
    if failures:
        err = _console(stderr=True)
        err.print(
            f"[bold red]{len(failures)} plugin problem{'s' * (len(failures) != 1)}[/] (capdsl carries on without them):"
        )
        for f in failures:
            version = f" {f.version}" if f.version else ""
            err.print(
                f"  [red]{_escape(f.name)}{_escape(version)}[/] ({f.stage}): {_escape(f.error)}"
            )
    raise typer.Exit(EXIT_OK)


@app.command()
def bench(
    size: Annotated[str, typer.Option("--size", help="S, M, L or XL.")] = "M",
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.table,
    time_limit: Annotated[float | None, typer.Option("--time-limit", "-t")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    demand: Annotated[
        str,
        typer.Option(
            "--demand",
            help="daily: daily and weekly shapes (about 25 demand blocks a month); monthly: "
            "one level a month, the issue's sizes as it counts them (M: 22k variables).",
        ),
    ] = "daily",
) -> None:
    """Benchmark the optimiser on a generated plan over the bundled catalog."""
    from capdsl.bench import run_bench
    from capdsl.bench.generate import DEMANDS

    if size.upper() not in ("S", "M", "L", "XL"):
        raise _usage_error(f"unknown size `{size}` (expected S, M, L or XL)")
    if demand not in DEMANDS:
        raise _usage_error(f"unknown demand shape `{demand}` (expected {' or '.join(DEMANDS)})")
    raise typer.Exit(
        run_bench(size.upper(), fmt=fmt.value, time_limit=time_limit, seed=seed, demand=demand)
    )


@app.command()
def speed(
    again: Annotated[
        bool, typer.Option("--again", help="Measure again (a few seconds) and keep the result.")
    ] = False,
    fmt: Annotated[DataFormat, typer.Option("--format", "-f")] = DataFormat.table,
) -> None:
    """This machine's speed against the one the solver's work rates were fitted on: a time
    limit is spent as time limit x speed seconds of that machine's work."""
    import json
    import os
    from dataclasses import asdict

    from capdsl.solve import speed as sp
    from capdsl.solve.search import default_workers

    threads = default_workers()
    fixed = sp.fixed_speed()
    got = sp.measure(threads) if again else sp.cached(threads)
    if fixed is not None:
        value, source = fixed, f"{sp.ENV}={os.environ[sp.ENV]}"
    else:
        got = got or sp.measure(threads)
        value, source = got.speed, f"measured {got.when}"
    if fmt is DataFormat.json:
        record: dict[str, Any] = {
            "speed": value,
            "source": "env" if fixed is not None else "measured",
            "measured": asdict(got) if got is not None else None,
            "cache": str(sp.cache_path()),
        }
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
        raise typer.Exit(EXIT_OK)
    out = _console()
    out.print(f"speed [bold]{value:g}[/] ({_escape(source)})")
    if got is not None:
        out.print(
            _escape(
                f"probes: CP-SAT {got.cp_s:.3f} s on {threads} thread(s), Python {got.py_s:.3f} s "
                f"(reference machine: {sp.REFERENCE_CP_S:.3f} s, {sp.REFERENCE_PY_S:.3f} s)"
            )
        )
        out.print(_escape(f"machine: {got.key}"))
    out.print(_escape(f"kept in {sp.cache_path()}"))
    if fixed is not None and got is not None:
        out.print(_escape(f"(measured {got.speed:g}, not used while {sp.ENV} is set)"))
    raise typer.Exit(EXIT_OK)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from capdsl import __version__

        sys.stdout.write(f"capdsl {__version__}\n")
        raise typer.Exit(EXIT_OK)
    import os

    if os.environ.get("CAPDSL_SPEED"):
        from capdsl.solve.speed import fixed_speed

        try:
            fixed_speed()  # a CAPDSL_SPEED that is not a speed: said before any work
        except ValueError as exc:
            raise _usage_error(str(exc)) from None


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
