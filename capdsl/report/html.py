"""Write a ``Document`` as ONE self-contained HTML file.

Opens offline and prints well: inline ``<style>`` only, no scripts, no external CSS, fonts
or images; charts are inline SVG. Text is escaped; nothing from the plan is trusted as
markup.
"""

from __future__ import annotations

from html import escape

from capdsl.report.document import Block, Bullets, Chart, Document, Pre, Section, Table, Text

STYLE = """
:root { --ink: #1b1f24; --muted: #5c6670; --line: #d7dde3; --ok: #1e7a3c; --bad: #b3261e;
        --warn: #9a5b00; --mark: #fff3cd; --head: #f3f5f7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0 0 .3em; }
h2 { font-size: 1.35em; margin: 1.8em 0 .5em; padding-bottom: .2em; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.12em; margin: 1.4em 0 .4em; }
h4, h5, h6 { font-size: 1em; margin: 1.1em 0 .3em; }
p { margin: .45em 0; }
.ok, .bad, .warn { font-weight: 600; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.status .ok, .status .bad, .status .warn { padding: 1px 7px; border-radius: 4px; border: 1px solid currentColor; }
.muted { color: var(--muted); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
.table { overflow-x: auto; margin: .6em 0 1em; }
table { border-collapse: collapse; font-size: .9em; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.mark td { background: var(--mark); font-weight: 600; }
caption { caption-side: bottom; color: var(--muted); text-align: left; padding-top: 4px; }
figure { margin: .8em 0 .4em; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .88em; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px;
      overflow-x: auto; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
nav.toc { font-size: .92em; color: var(--muted); margin: .8em 0 1.2em; }
nav.toc a { color: inherit; margin-right: .9em; white-space: nowrap; }
ul { margin: .4em 0; padding-left: 1.3em; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-before: auto; break-after: avoid; }
  h3, h4 { break-after: avoid; }
  table, figure, pre { break-inside: avoid; }
  .table { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
""".strip()


def text(t: Text) -> str:
    out = []
    for part, style in t.parts:
        body = escape(part)
        if style == "code":
            out.append(f"<code>{body}</code>")
        elif style == "strong":
            out.append(f"<strong>{body}</strong>")
        elif style:
            out.append(f'<span class="{style}">{body}</span>')
        else:
            out.append(body)
    return "".join(out)


def table(t: Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if t.is_numeric(i) else ""

    head = "".join(f"<th{cls(i)}>{escape(c)}</th>" for i, c in enumerate(t.columns))
    body = []
    for r, row in enumerate(t.rows):
        cells = "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row))
        mark = ' class="mark"' if r in t.marked else ""
        body.append(f"<tr{mark}>{cells}</tr>")
    caption = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return (
        f'<div class="table"><table>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def block(b: Block, status: bool = False) -> str:
    if isinstance(b, Text):
        return f'<p class="status">{text(b)}</p>' if status else f"<p>{text(b)}</p>"
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{text(i)}</li>" for i in b.items) + "\n</ul>"
    if isinstance(b, Pre):
        return f"<pre>{escape(b.text)}</pre>"
    if isinstance(b, Chart):
        return f'<figure class="chart" id="chart-{escape(b.key)}">\n{b.render()}<figcaption>{escape(b.title)}</figcaption></figure>'
    raise TypeError(f"unknown block {type(b).__name__}")


def _is_status(b: Block) -> bool:
    return isinstance(b, Text) and bool(b.parts) and b.parts[0][1] in ("ok", "bad", "warn")


def _section(s: Section, level: int, out: list[str]) -> None:
    h = min(level, 6)
    anchor = f' id="{escape(s.anchor)}"' if s.anchor else ""
    out.append(f"<section{anchor}>\n<h{h}>{escape(s.title)}</h{h}>")
    for b in s.blocks:
        out.append(block(b, status=_is_status(b)))
    for child in s.children:
        _section(child, level + 1, out)
    out.append("</section>")


def render_html(doc: Document) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="capdsl">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    for b in doc.intro:
        out.append(block(b, status=_is_status(b)))
    if len(doc.sections) > 1:
        links = " ".join(
            f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in doc.sections if s.anchor
        )
        out.append(f'<nav class="toc">{links}</nav>')
    for s in doc.sections:
        _section(s, 2, out)
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
