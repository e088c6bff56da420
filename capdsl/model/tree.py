"""The plan as a tree of sections, validated against the schema.

All documents of a ``ParseResult`` (the root file and everything it imports) are merged into
one root ``Section``: top-level blocks of every file side by side (shared catalogs, team
workloads). Each block becomes a ``Section`` whose settings (attributes and comparisons) are
``Entry`` values keyed by name. Scenario overrides (``capdsl.model.scenario``) edit a copy of
this tree, so every later pass reads one uniform structure and a scenario's value carries its
own span.

``read_documents`` reports what the schema alone can tell: unknown blocks and settings (with
"did you mean"), labels of the wrong shape, settings given twice, required settings missing.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Label, Span, did_you_mean, error
from capdsl.model.schema import TOP, BlockSpec, SettingSpec

Setting = ast.Attribute | ast.Comparison


@dataclass
class Entry:
    """One setting as written (``headroom = 30%``, ``latency p95 < 80 ms``)."""

    key: str
    item: Setting
    origin: str | None = None  # the scenario that set it, None for the plan itself

    @property
    def value(self) -> ast.Expr:
        return self.item.value

    @property
    def op(self) -> str:
        return self.item.op if isinstance(self.item, ast.Comparison) else "="

    @property
    def qualifier(self) -> ast.Name | None:
        return self.item.qualifier if isinstance(self.item, ast.Comparison) else None

    @property
    def span(self) -> Span:
        return self.item.span

    @property
    def value_span(self) -> Span:
        return self.item.value.span


@dataclass
class Section:
    """A block of the plan. ``path`` is the dotted prefix of its settings' keys
    (``recs``, ``recs.event.annual sale``, ``budget.ml``, ``aws.price.c7g.*``)."""

    kind: str
    spec: BlockSpec
    labels: tuple[ast.Name | ast.String | ast.Path, ...]
    span: Span
    kind_span: Span
    path: str
    name: str | None = None
    entries: dict[str, Entry] = field(default_factory=dict)
    children: list[Section] = field(default_factory=list)
    origin: str | None = None  # the scenario that created it

    def entry(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def has(self, key: str) -> bool:
        return key in self.entries

    def all(self, kind: str) -> list[Section]:
        return [c for c in self.children if c.kind == kind]

    def child(self, kind: str, name: str | None = None) -> Section | None:
        for c in self.children:
            if c.kind == kind and (name is None or c.name == name):
                return c
        return None

    def walk(self) -> Iterator[Section]:
        yield self
        for c in self.children:
            yield from c.walk()

    def setting_spec(self, key: str) -> SettingSpec | None:
        return self.spec.settings.get(key)

    def copy(self) -> Section:
        return copy.deepcopy(self)


ROOT_SPEC = BlockSpec("<root>", "none", {}, dict(TOP))


def label_text(label: ast.Name | ast.String | ast.Path) -> str:
    if isinstance(label, ast.Name):
        return label.name
    if isinstance(label, ast.String):
        return label.value
    return label.text


def _wrong_labels(kind: str, span: Span, expected: str) -> Diagnostic:
    return error(
        "E0317",
        f"`{kind}` block labels do not fit",
        span,
        label=f"expected {expected}",
        help=f"write it as {expected}",
    )


LABEL_FORMS = {
    "none": "`KIND { ... }` with no label",
    "name": "`KIND NAME { ... }`",
    "optional_name": "`KIND { ... }` or `KIND NAME { ... }`",
    "string": '`KIND "NAME" { ... }`',
    "catalog": '`catalog NAME from "SOURCE" { ... }` or `catalog NAME { ... }`',
    "runs_on": "`runs on GLOB, GLOB { ... }`",
    "offering": "`reserved CATALOG.TYPE { ... }`",
    "glob": "`price GLOB { ... }`",
}


def _labels_span(block: ast.Block) -> Span:
    if not block.labels:
        return block.kind.span
    a, b = block.labels[0].span, block.labels[-1].span
    return Span(a.file, a.line, a.column, b.end_line, b.end_column, a.start, b.end)


def check_labels(block: ast.Block, spec: BlockSpec) -> tuple[str | None, Diagnostic | None]:
    """The block's name (if its rule has one), or a diagnostic when the labels do not fit."""
    labels = block.labels
    rule = spec.labels
    kind = block.kind.name
    bad = _wrong_labels(kind, _labels_span(block), LABEL_FORMS[rule].replace("KIND", kind))
    if rule == "none":
        return (None, None) if not labels else (None, bad)
    if rule in ("name", "optional_name"):
        if rule == "optional_name" and not labels:
            return None, None
        if len(labels) == 1 and isinstance(labels[0], ast.Name):
            return labels[0].name, None
        return None, bad
    if rule == "string":
        if len(labels) == 1 and isinstance(labels[0], ast.String | ast.Name):
            return label_text(labels[0]), None
        return None, bad
    if rule == "catalog":
        if len(labels) == 1 and isinstance(labels[0], ast.Name):
            return labels[0].name, None
        ok = (
            len(labels) == 3
            and isinstance(labels[0], ast.Name)
            and isinstance(labels[1], ast.Name)
            and labels[1].name == "from"
            and isinstance(labels[2], ast.String)
        )
        return (labels[0].name, None) if ok else (None, bad)  # type: ignore[union-attr]
    if rule == "runs_on":
        ok = len(labels) >= 2 and isinstance(labels[0], ast.Name) and labels[0].name == "on"
        if ok and len(labels) >= 3 and isinstance(labels[-1], ast.Name):
            # `runs on aws.g6.*` without a body swallows the next block's kind as a label.
            last = labels[-1]
            return None, error(
                "E0317",
                f"`runs on` has no body before `{last.name}`",
                last.span,
                label=f"`{last.name}` read as another offering",
                help="give `runs on` a body, even an empty one: `runs on aws.g6.* { }`",
            )
        ok = ok and all(isinstance(x, ast.Path | ast.String) for x in labels[1:])
        return ("on", None) if ok else (None, bad)
    if rule == "offering":
        if len(labels) == 1 and isinstance(labels[0], ast.Path):
            return labels[0].text, None
        return None, bad
    if rule == "glob":
        if len(labels) == 1:
            return label_text(labels[0]), None
        return None, bad
    raise AssertionError(rule)


def child_path(parent: Section, kind: str, name: str | None, index: int) -> str:
    """Dotted key prefix of a block's settings (see ``Section``)."""
    if parent.kind == "<root>":
        if kind in ("service", "stream", "batch", "catalog"):
            return name or kind
        if kind in ("quota", "scenario"):
            return f"{kind}.{name}"
        if kind == "budget":
            return f"budget.{name}" if name else "budget"
        return kind
    base = parent.path
    if kind == "mix":
        return f"{base}.{name}"
    if kind in ("event", "price", "offering"):
        return f"{base}.{kind}.{name}"
    if kind == "reserved" and parent.kind == "fleet":
        return f"{base}.{name}" if index == 0 else f"{base}.{name}#{index + 1}"
    segment = "runs_on" if kind == "runs" else kind
    return f"{base}.{segment}" if index == 0 else f"{base}.{segment}#{index + 1}"


class TreeReader:
    """Builds sections from AST blocks, collecting schema diagnostics."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        # Names of top-level blocks that could not be read: later references to them
        # (scenario paths) are not reported again.
        self.broken: set[str] = set()

    def report(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    def read(self, documents: Sequence[ast.Document]) -> Section:
        first = documents[0].span if documents else Span("<plan>", 1, 1, 1, 1)
        root = Section("<root>", ROOT_SPEC, (), first, first, "")
        for doc in documents:
            for item in doc.items:
                if isinstance(item, ast.Block):
                    self.block(root, item)
                elif isinstance(item, ast.Attribute | ast.Comparison):
                    key = ".".join(
                        item.key.parts if isinstance(item, ast.Attribute) else item.subject.parts
                    )
                    self.report(
                        error(
                            "E0303",
                            f"setting `{key}` outside of any block",
                            item.span,
                            label="settings belong inside a block",
                            help="move it into the block it configures (`plan`, a workload, `budget`, ...)",
                        )
                    )
        return root

    def block(self, parent: Section, block: ast.Block) -> None:
        kind = block.kind.name
        spec = parent.spec.children.get(kind)
        if spec is None:
            self.unknown_block(parent, block)
            self.remember_broken(parent, block)
            return
        name, bad = check_labels(block, spec)
        if bad is not None:
            self.report(bad)
            self.remember_broken(parent, block)
            return
        same = [c for c in parent.children if c.kind == kind]
        if not spec.repeatable and same:
            self.report(self.duplicate(f"`{kind}` block", block.kind.span, same[0].kind_span))
            return
        if spec.labels not in ("runs_on", "offering") and (
            name is not None or spec.labels == "optional_name"
        ):
            twin = next((c for c in same if c.name == name), None)
            if twin is not None:
                what = f"{kind} `{name}`" if spec.labels != "string" else f'{kind} "{name}"'
                if name is None:
                    what = f"unnamed `{kind}`"
                self.report(self.duplicate(what, _labels_span(block), twin.kind_span))
                return
        section = Section(
            kind,
            spec,
            block.labels,
            block.span,
            block.kind.span,
            child_path(parent, kind, name, len(same)),
            name,
        )
        parent.children.append(section)
        for item in block.body:
            if isinstance(item, ast.Block):
                self.block(section, item)
            elif isinstance(item, ast.Attribute | ast.Comparison):
                self.setting(section, item)
            else:
                self.report(
                    error(
                        "E0303",
                        f"`{type(item).__name__.lower()}` inside a `{kind}` block",
                        item.span,
                        help="`import`, `let` and `unit` belong at the top of a file",
                    )
                )
        self.check_required(section)
        self.check_spot(section)

    def remember_broken(self, parent: Section, block: ast.Block) -> None:
        if parent.kind == "<root>" and block.labels:
            self.broken.add(label_text(block.labels[0]))

    # ------------------------------------------------------------------ settings

    def setting(self, section: Section, item: Setting) -> None:
        parts = item.key.parts if isinstance(item, ast.Attribute) else item.subject.parts
        key_span = item.key.span if isinstance(item, ast.Attribute) else item.subject.span
        key = ".".join(parts)
        spec = section.spec
        if spec.kind == "scenario":
            section.entries.setdefault(key, Entry(key, item))  # validated by scenario.py
            if key in section.entries and section.entries[key].item is not item:
                self.report(
                    self.duplicate(f"override `{key}`", key_span, section.entries[key].span)
                )
            return
        known = spec.settings.get(key)
        if known is None:
            if self.open_setting(section, key, item, key_span):
                return
            self.unknown_setting(section, key, key_span)
            return
        if isinstance(item, ast.Comparison) and not known.comparison:
            self.report(
                error(
                    "E0303",
                    f"`{key}` is a setting, not a comparison",
                    item.span,
                    help=f"write `{key} = {_source_hint(item)}`",
                )
            )
            return
        if key in section.entries:
            self.report(self.duplicate(f"`{key}`", key_span, section.entries[key].span))
            return
        section.entries[key] = Entry(key, item)

    def open_setting(self, section: Section, key: str, item: Setting, key_span: Span) -> bool:
        """Catalogs pass source-specific string options through (``file = "..."``)."""
        if not section.spec.open_settings or isinstance(item, ast.Comparison):
            return False
        if difflib.get_close_matches(key, list(section.spec.settings), n=1, cutoff=0.8):
            return False  # a typo of a known setting (`regoins`), not an option
        if not isinstance(item.value, ast.String | ast.Number | ast.Bool | ast.Name):
            return False
        if key in section.entries:
            self.report(self.duplicate(f"`{key}`", key_span, section.entries[key].span))
            return True
        section.entries[key] = Entry(key, item)
        return True

    def unknown_setting(self, section: Section, key: str, key_span: Span) -> None:
        where = f"`{section.kind}`" if section.name is None else f"{section.kind} `{section.name}`"
        candidates = list(section.spec.settings) + list(section.spec.children)
        help_text = did_you_mean(key, candidates)
        if help_text is None:
            shown = ", ".join(f"`{c}`" for c in sorted(section.spec.settings))
            help_text = f"{where} knows {shown}" if shown else None
        self.report(
            error(
                "E0303",
                f"unknown setting `{key}` in {where}",
                key_span,
                label="not a known setting",
                help=help_text,
            )
        )

    def unknown_block(self, parent: Section, block: ast.Block) -> None:
        kind = block.kind.name
        candidates = list(parent.spec.children)
        where = "at the top of a plan" if parent.kind == "<root>" else f"inside `{parent.kind}`"
        help_text = did_you_mean(kind, candidates)
        if help_text is None and parent.spec.settings.get(kind) is not None:
            help_text = f"`{kind}` is a setting: write `{kind} = ...`"
        if help_text is None:
            help_text = (
                "blocks here: " + ", ".join(f"`{c}`" for c in sorted(candidates))
                if candidates
                else None
            )
        self.report(
            error(
                "E0302",
                f"unknown block `{kind}` {where}",
                block.kind.span,
                label="not a known block",
                help=help_text,
            )
        )

    def duplicate(self, what: str, span: Span, first: Span) -> Diagnostic:
        return error(
            "E0308",
            f"{what} is defined twice",
            span,
            label="defined again here",
            labels=(Label(first, "first defined here"),),
            help="keep one of them",
        )

    def check_required(self, section: Section) -> None:
        for key, spec in section.spec.settings.items():
            if spec.required and key not in section.entries:
                what = (
                    f"`{section.kind}`"
                    if section.name is None
                    else f"{section.kind} `{section.name}`"
                )
                example = spec.expects
                self.report(
                    error(
                        "E0313",
                        f"{what} is missing `{key}`",
                        section.kind_span,
                        label=f"needs `{key}`",
                        help=f"add `{key} = ...`: {example}",
                    )
                )

    def check_spot(self, section: Section) -> None:
        flag, block = section.entry("spot"), section.child("spot")
        if flag is not None and block is not None:
            self.report(self.duplicate("`spot`", block.kind_span, flag.span))


def _source_hint(item: ast.Comparison) -> str:
    return str(getattr(item.value, "text", "...") or "...")


def read_documents(documents: Sequence[ast.Document]) -> tuple[Section, list[Diagnostic], set[str]]:
    """Merge the documents into one validated section tree. Also returns the names of
    top-level blocks that could not be read (so references to them stay quiet)."""
    reader = TreeReader()
    root = reader.read(documents)
    return root, reader.diagnostics, reader.broken
