"""Scenarios: named overrides of settings, each producing a separate plan.

``scenario aggressive { recs.growth = 6% per month, recs.event."annual sale".scale = 6x }``
overrides settings by dotted path. ``apply_scenario`` edits a copy of the section tree
(``capdsl.model.tree``): the overriding item replaces the setting, so its span (the
scenario's line) is what diagnostics and explanations point at. Paths:

- ``WORKLOAD.SETTING`` (``recs.headroom``), through nested blocks:
  ``recs.spot.max``, ``recs.event."annual sale".scale``, ``chat.small.share`` (a mix);
  a ``runs on`` setting at the workload (``recs.service_time = 12 ms``) applies to every
  ``runs on`` block of that workload (and of its mixes);
- ``CATALOG.SETTING`` (``aws.discount``, ``aws.regions``), ``aws.price."c7g.*".on_demand``;
- ``budget.monthly`` (the unnamed budget), ``budget.NAME.monthly``, ``quota.NAME.max``,
  ``commitments.terms``, ``plan.horizon``.

A setting that the schema knows but the plan does not set yet is added (an unnamed block
such as ``spot`` or ``commitments`` is created); a path the schema does not know, or a
named block (event, mix, quota, budget) the plan does not have, is an error with
"did you mean".
"""

from __future__ import annotations

from dataclasses import dataclass

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Span, did_you_mean, error
from capdsl.model.schema import RUNS_SHORTHAND, TOP, WORKLOAD_KINDS
from capdsl.model.tree import Entry, Section, child_path


def scenarios(root: Section) -> dict[str, Section]:
    return {s.name: s for s in root.all("scenario") if s.name}


def clone(section: Section) -> Section:
    """A structural copy (AST items are immutable and shared)."""
    return Section(
        section.kind,
        section.spec,
        section.labels,
        section.span,
        section.kind_span,
        section.path,
        section.name,
        dict(section.entries),
        [clone(c) for c in section.children],
        section.origin,
    )


@dataclass
class Target:
    section: Section
    key: str


class PathError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _unknown(text: str, span: Span, where: str, candidates: list[str], part: str) -> PathError:
    return PathError(
        error(
            "E0309",
            f"scenario overrides `{text}`, which does not exist",
            span,
            label=f"{where} has no `{part}`",
            help=did_you_mean(part, candidates)
            or (
                "known here: " + ", ".join(f"`{c}`" for c in sorted(candidates)[:12])
                if candidates
                else None
            ),
        )
    )


class Resolver:
    """Finds (or creates) the section and key a scenario path names."""

    def __init__(self, root: Section, scenario: str, item: ast.Attribute | ast.Comparison):
        self.root = root
        self.scenario = scenario
        self.item = item
        self.path = item.key if isinstance(item, ast.Attribute) else item.subject
        self.text = self.path.text

    def fail(self, where: str, candidates: list[str], part: str) -> PathError:
        return _unknown(self.text, self.path.span, where, candidates, part)

    def new_child(self, parent: Section, kind: str) -> Section:
        spec = parent.spec.children[kind]
        index = len(parent.all(kind))
        sec = Section(
            kind,
            spec,
            (),
            self.item.span,
            self.path.span,
            child_path(parent, kind, None, index),
            None,
            origin=self.scenario,
        )
        parent.children.append(sec)
        return sec

    def first_segments(self) -> dict[str, Section | None]:
        out: dict[str, Section | None] = {}
        for sec in self.root.children:
            if sec.kind in (*WORKLOAD_KINDS, "catalog") and sec.name:
                out[sec.name] = sec
        for kind in ("plan", "commitments", "budget", "quota"):
            out.setdefault(kind, None)
        return out

    def resolve(self) -> list[Target]:
        parts = list(self.path.parts)
        if len(parts) < 2:
            raise self.fail("a scenario", list(self.first_segments()), parts[0])
        head, rest = parts[0], parts[1:]
        firsts = self.first_segments()
        if head not in firsts:
            raise self.fail("the plan", list(firsts), head)
        section = firsts[head]
        if section is not None:
            return self.walk(section, rest)
        if head in ("plan", "commitments"):
            sec = self.root.child(head) or self.new_child(self.root, head)
            return self.walk(sec, rest)
        if head == "budget":
            return self.budget(rest)
        return self.quota(rest)

    def budget(self, rest: list[str]) -> list[Target]:
        named = {b.name: b for b in self.root.all("budget") if b.name}
        if rest[0] in named and len(rest) > 1:
            return self.walk(named[rest[0]], rest[1:])
        if rest[0] in TOP["budget"].settings and len(rest) == 1:
            plain = next((b for b in self.root.all("budget") if b.name is None), None)
            return self.walk(plain or self.new_child(self.root, "budget"), rest)
        raise self.fail("`budget`", [*named, *TOP["budget"].settings], rest[0])

    def quota(self, rest: list[str]) -> list[Target]:
        named = {q.name: q for q in self.root.all("quota") if q.name}
        if rest[0] not in named or len(rest) < 2:
            raise self.fail("`quota`", list(named), rest[0])
        return self.walk(named[rest[0]], rest[1:])

    def walk(self, sec: Section, parts: list[str]) -> list[Target]:
        head, rest = parts[0], parts[1:]
        spec = sec.spec
        where = f"{sec.kind} `{sec.name}`" if sec.name else f"`{sec.kind}`"
        if not rest:
            if head in spec.settings:
                return [Target(sec, head)]
            if sec.kind in (*WORKLOAD_KINDS, "mix") and head in RUNS_SHORTHAND:
                runs = sec.all("runs") + [r for m in sec.all("mix") for r in m.all("runs")]
                if not runs:
                    raise self.fail(where, list(spec.settings), head)
                return [Target(r, head) for r in runs]
            raise self.fail(where, [*spec.settings, *spec.children], head)
        if head in spec.children and head != "runs":
            child_spec = spec.children[head]
            if child_spec.labels == "none":
                child = sec.child(head) or self.new_child(sec, head)
                return self.walk(child, rest)
            labelled = {c.name: c for c in sec.all(head) if c.name}
            if rest[0] not in labelled:
                raise (
                    self.fail(where, list(labelled), rest[0])
                    if labelled
                    else self.fail(where, [], f"{head} {rest[0]}")
                )
            if len(rest) < 2:
                raise self.fail(f"{head} `{rest[0]}`", list(child_spec.settings), "")
            return self.walk(labelled[rest[0]], rest[1:])
        mix = sec.child("mix", head) if sec.kind == "service" else None
        if mix is not None:
            return self.walk(mix, rest)
        mixes = [c.name for c in sec.all("mix") if c.name]
        raise self.fail(where, [*spec.children, *mixes], head)


def set_entry(target: Target, item: ast.Attribute | ast.Comparison, scenario: str) -> None:
    sec, key = target.section, target.key
    sec.entries[key] = Entry(key, item, origin=scenario)
    if key == "spot":  # `recs.spot = false` replaces a `spot { }` policy block
        sec.children = [c for c in sec.children if c.kind != "spot"]


def drop_spot_flags(root: Section) -> None:
    """A scenario that writes ``recs.spot.max`` turns ``spot = false`` back into a policy."""
    for sec in root.walk():
        spot = sec.child("spot")
        flag = sec.entries.get("spot")
        if (
            spot is not None
            and flag is not None
            and spot.origin is not None
            and flag.origin is None
        ):
            del sec.entries["spot"]


def apply_scenario(
    root: Section, scenario: Section
) -> tuple[Section, list[Diagnostic], list[tuple[Entry, Target]]]:
    """A copy of ``root`` with ``scenario``'s overrides applied; the diagnostics of paths
    that do not resolve; and each applied (override entry, target)."""
    tree = clone(root)
    diags: list[Diagnostic] = []
    applied: list[tuple[Entry, Target]] = []
    name = scenario.name or ""
    for entry in scenario.entries.values():
        try:
            targets = Resolver(tree, name, entry.item).resolve()
        except PathError as exc:
            diags.append(exc.diagnostic)
            continue
        for target in targets:
            if (
                isinstance(entry.item, ast.Comparison)
                and not target.section.spec.settings[target.key].comparison
            ):
                diags.append(
                    error(
                        "E0309",
                        f"`{entry.key}` is a setting, not a comparison",
                        entry.span,
                        help=f"write `{entry.key} = ...`",
                    )
                )
                continue
            set_entry(target, entry.item, name)
            applied.append((target.section.entries[target.key], target))
    drop_spot_flags(tree)
    return tree, diags, applied
