"""A model card as Markdown (the terminal, a README) or as one self-contained HTML page.

Each section is a small function from the card's facts to blocks (text, fields, tables); the
two writers turn the same blocks into Markdown or HTML, so both always show the same facts.
The HTML writer escapes every string it is given, and only it writes markup: text from users
(intended use, descriptions, reasons, params, column names) can never become markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.services.registry.card import CardDataset, ModelCard
    from slipway.services.registry.schemas import Evaluation

NONE = "none recorded"


@dataclass(frozen=True)
class Text:
    text: str
    prose: bool = False  # the author's own text: kept as written, line breaks included


@dataclass(frozen=True)
class Fields:
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Heading:
    text: str


Block = Text | Fields | Table | Bullets | Heading
Section = tuple[str, list[Block]]


# -- sections ------------------------------------------------------------------------------


def _overview(card: ModelCard) -> Section:
    v = card.version
    tags = [(k, val) for k, val in sorted(v.tags.items()) if not k.startswith("card.")]
    items = [
        ("model", v.ref),
        ("project", v.project),
        ("status", v.status),
        ("flavor", v.flavor),
        ("aliases", ", ".join(v.aliases) or "-"),
        ("created", f"{_when(v.created_at)} by {v.created_by}"),
        ("package", v.package_hash),
    ]
    items += [("description", v.description)] if v.description else []
    items += [(f"tag {k}", val) for k, val in tags]
    return "Overview", [Fields(items)]


def _intended_use(card: ModelCard) -> Section:
    return "Intended use", [_authored(card, card.intended_use, "--intended-use")]


def _limitations(card: ModelCard) -> Section:
    return "Limitations", [_authored(card, card.limitations, "--limitations")]


def _authored(card: ModelCard, text: str, option: str) -> Text:
    if text:
        return Text(text, prose=True)
    return Text(f"{NONE} (slipway model card {card.version.ref} {option} TEXT)")


def _training_data(card: ModelCard) -> Section:
    blocks = [block for d in card.datasets for block in _dataset(d)]
    return "Training data", blocks or [Text(NONE)]


def _dataset(d: CardDataset) -> list[Block]:
    size = f"{d.size:,} bytes in {d.file_count:,} file(s)" if d.size is not None else "-"
    blocks: list[Block] = [
        Heading(d.ref),
        Fields([("added from", d.path or "-"), ("size", size), ("content", d.object_hash)]),
    ]
    if d.problem:
        blocks.append(Text(f"Not shown: {d.problem}."))
    elif not d.tables:
        blocks.append(Text("No table profile (it holds no CSV or Parquet table)."))
    for t in d.tables:
        count = f"{t.row_count:,} rows" if t.row_count is not None else "rows unknown"
        blocks.append(Text(f"{t.path}: {count}, {len(t.columns)} columns ({t.format})"))
        rows = [(c.name, c.type, _rate(c.null_rate)) for c in t.columns]
        blocks.append(Table(("column", "type", "null rate"), rows))
    if d.pii:
        flags = [
            (*(str(f.get(k, "")) for k in ("table", "column", "kind")), _rate(f.get("match_rate")))
            for f in d.pii
        ]
        blocks.append(Text("Personal data flagged when it was added:"))
        blocks.append(Table(("table", "column", "kind", "match rate"), flags))
    else:
        blocks.append(Text("Personal data: none flagged."))
    return blocks


def _metrics(card: ModelCard) -> Section:
    if not card.evaluations:
        hint = f"{NONE} (slipway model evaluate {card.version.ref} --data ... --target ...)"
        return "Metrics", [Text(hint)]
    # newest first, as the registry keeps them
    return "Metrics", [block for e in card.evaluations for block in _evaluation(e)]


def _evaluation(e: Evaluation) -> list[Block]:
    blocks: list[Block] = [
        Heading(f"{e.data}: {e.rows:,} rows, {e.task}"),
        Text(f"Evaluated {_when(e.created_at)} by {e.created_by}."),
        Table(("metric", "value"), [(k, _number(v)) for k, v in e.metrics.items()]),
    ]
    if e.confusion_matrix:
        blocks += _confusion(e.confusion_matrix)
    if e.latency:
        blocks.append(
            Fields([(_LATENCY.get(k, k), f"{v:,.1f}") for k, v in sorted(e.latency.items())])
        )
    if e.slices:
        names = list(dict.fromkeys(k for s in e.slices for k in (s.get("metrics") or {})))
        rows = [
            (
                *(str(s.get(k)) for k in ("column", "value", "rows")),
                *(_number((s.get("metrics") or {}).get(n)) for n in names),
            )
            for s in e.slices
        ]
        blocks.append(Table(("slice", "value", "rows", *names), rows))
    return blocks


_LATENCY = {
    "batch_us_per_row": "latency in a batch (µs per row)",
    "single_row_p50_us": "latency of one row, p50 (µs)",
    "single_row_p95_us": "latency of one row, p95 (µs)",
}


def _confusion(found: dict[str, Any]) -> list[Block]:
    labels, matrix = found.get("labels") or [], found.get("matrix") or []
    if len(labels) != len(matrix):  # not as the evaluation writes it: leave it out
        return []
    names = [_plain(label) for label in labels]
    rows = [(name, *(str(n) for n in row)) for name, row in zip(names, matrix, strict=True)]
    return [Text("Confusion matrix (rows: actual, columns: predicted):"), Table(("", *names), rows)]


def _signature(card: ModelCard) -> Section:
    signature = card.version.signature or (card.package.signature if card.package else None)
    if not signature:
        return "Signature", [Text(f"{NONE} (the model was logged without an input example)")]
    blocks: list[Block] = [Text(f"Input format: {signature.get('input_format', 'dataframe')}.")]
    for side in ("inputs", "outputs"):
        rows = [
            (str(c.get("name")), str(c.get("type")), "yes" if c.get("nullable") else "no")
            for c in signature.get(side) or []
        ]
        blocks.append(Heading(side.capitalize()))
        blocks.append(Table(("column", "type", "nullable"), rows) if rows else Text(NONE))
    return "Signature", blocks


def _environment(card: ModelCard) -> Section:
    p = card.package
    if p is None:
        return "Environment", [Text(f"Not shown: {card.package_problem or 'no package'}.")]
    fields = Fields(
        [
            ("flavor", p.flavor),
            ("python", p.python_version or "-"),
            ("slipway", p.slipway_version or "-"),
            ("packaged", _when(p.created_at)),
        ]
    )
    needs = Bullets(list(p.requirements)) if p.requirements else Text(NONE)
    return "Environment", [fields, Heading("Requirements"), needs]


def _lineage(card: ModelCard) -> Section:
    v, run = card.version, card.run
    state = f"{run.get('status')}{', deleted' if run.get('deleted') else ''}" if run else ""
    items = [
        ("run", f"{run.get('id')} ({run.get('name') or '-'}, {state})" if run else "-"),
        ("datasets", ", ".join(v.datasets) or "-"),
        ("code commit", v.code_commit or "-"),
        ("pipeline run", v.pipeline_run or "-"),
    ]
    if v.run_id and run is None:
        items[0] = ("run", f"{v.run_id} (purged)")
    blocks: list[Block] = [Fields(items)]
    params = (run or {}).get("params") or {}
    if params:
        rows = [(str(k), _plain(val)) for k, val in sorted(params.items())]
        blocks += [Heading("Run params"), Table(("param", "value"), rows)]
    return "Lineage", blocks


def _alias_history(card: ModelCard) -> Section:
    if not card.alias_history:
        return "Alias history", [Text(NONE)]
    rows = [
        (
            _when(c.changed_at),
            c.alias,
            f"v{c.previous_version}" if c.previous_version is not None else "-",
            f"v{c.version}" if c.version is not None else "(removed)",
            c.changed_by,
            c.reason,
        )
        for c in card.alias_history
    ]
    return "Alias history", [Table(("when", "alias", "from", "to", "by", "reason"), rows)]


def _promotions(card: ModelCard) -> Section:
    blocks: list[Block] = []
    for p in card.promotions:  # newest first
        forced = " (forced past failed gates)" if p.forced else ""
        blocks.append(Heading(f"{p.alias}: {_when(p.promoted_at)} by {p.promoted_by}{forced}"))
        previous = f"v{p.previous_version}" if p.previous_version is not None else "-"
        items = [("previous version", previous), ("policy", p.report.source or "-")]
        blocks.append(Fields(items + ([("reason", p.reason)] if p.reason else [])))
        checked = [
            (
                r.rule,
                "yes" if r.passed else "NO",
                *map(_number, (r.observed, r.threshold)),
                r.message,
            )
            for r in p.report.results
        ]
        blocks.append(Table(("gate", "passed", "observed", "threshold", "detail"), checked))
    if not card.promotions:
        blocks.append(Text(f"Promotions through gates: {NONE}."))
    if card.approvals:
        approvals = [(a.approved_by, _when(a.approved_at), a.note) for a in card.approvals]
        blocks += [Heading("Approvals"), Table(("approved by", "when", "note"), approvals)]
    else:
        blocks.append(Text(f"Approvals: {NONE}."))
    return "Gates passed and approvals", blocks


SECTIONS: tuple[Callable[[ModelCard], Section], ...] = (
    _overview,
    _intended_use,
    _limitations,
    _training_data,
    _metrics,
    _signature,
    _environment,
    _lineage,
    _alias_history,
    _promotions,
)


# -- writers -------------------------------------------------------------------------------


def card_markdown(card: ModelCard) -> str:
    """The card as Markdown: readable as is in a terminal, rendered nicely anywhere else."""
    out = [f"# Model card: {card.version.ref}", "", f"_Generated {_when(card.generated_at)}._"]
    for title, blocks in (section(card) for section in SECTIONS):
        out += ["", f"## {title}"]
        for block in blocks:
            out += ["", *_md_block(block)]
    return "\n".join(out) + "\n"


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [f"### {_md_line(block.text)}"]
    if isinstance(block, Fields):
        return [f"- **{_md_line(k)}:** {_md_line(v)}" for k, v in block.items]
    if isinstance(block, Bullets):
        return [f"- {_md_line(item)}" for item in block.items]
    if isinstance(block, Table):
        if not block.rows:
            return [f"_{NONE}_"]
        lines = ["| " + " | ".join(map(_md_cell, block.header)) + " |"]
        lines.append("|" + "---|" * len(block.header))
        lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block.rows]
        return lines
    return block.text.splitlines() or [""]


def _md_line(text: str) -> str:
    return " ".join(text.split())


def _md_cell(text: str) -> str:
    # A pipe or a line break inside a cell would end the cell or the table.
    return _md_line(text).replace("|", "\\|") or " "


def card_html(card: ModelCard) -> str:
    """The card as one HTML page with its style inline: no script, nothing fetched."""
    title = f"Model card: {card.version.ref}"
    body = [f"<h1>{_e(title)}</h1>", f"<p class=meta>Generated {_e(_when(card.generated_at))}</p>"]
    for name, blocks in (section(card) for section in SECTIONS):
        body.append(f"<section><h2>{_e(name)}</h2>")
        body += [_html_block(block) for block in blocks]
        body.append("</section>")
    return _PAGE.format(title=_e(title), style=_STYLE, body="\n".join(body))


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_e(block.text)}</h3>"
    if isinstance(block, Fields):
        items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block.items)
        return f"<dl>{items}</dl>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        if not block.rows:
            return f"<p class=none>{_e(NONE)}</p>"
        head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f"<p class={'prose' if block.prose else 'text'}>{_e(block.text)}</p>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin-bottom:.3rem}.meta,.none{color:#666}.prose{white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.2rem .6rem;
text-align:left;vertical-align:top}th{background:#f5f5f5}dl{display:grid;
grid-template-columns:max-content auto;gap:.1rem 1rem}dt{font-weight:600}dd{margin:0;
overflow-wrap:anywhere}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


# -- values --------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _rate(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
