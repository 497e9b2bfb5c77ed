"""A self-contained HTML report: figures embedded as base64 PNG, tables, plain-language captions."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from climmig import __version__
from climmig.io.writers import write_text

__all__ = ["ReportFigure", "ReportTable", "Section", "render_html", "write_html_report"]

logger = logging.getLogger(__name__)

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5}
h1{border-bottom:2px solid #1d3354;padding-bottom:.2em}h2{color:#1d3354;margin-top:2em}
figure{margin:1.2em 0;padding:.6em;background:#fafafa;border:1px solid #e3e3e3;border-radius:6px}
figure img{max-width:100%;height:auto;display:block;margin:auto}
figcaption{font-size:.93em;color:#444;margin-top:.5em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #d0d0d0;padding:.25em .55em;text-align:right}
th{background:#eef2f7}td:first-child,th:first-child{text-align:left}
.caption{font-size:.93em;color:#444}.meta{font-size:.85em;color:#666}
nav ul{columns:2;font-size:.95em}
"""


@dataclass(frozen=True)
class ReportFigure:
    """A figure with a caption written for non-programmers.

    Attributes
    ----------
    image : Figure or str or Path
        A matplotlib figure (rendered in memory and embedded) or the path of a PNG in the run directory
        (linked relatively).
    caption : str
        What the figure shows and how to read it.
    alt : str
        Short text alternative.
    """

    image: Figure | str | Path
    caption: str
    alt: str = ""


@dataclass(frozen=True)
class ReportTable:
    """A table with a caption.

    Attributes
    ----------
    table : pandas.DataFrame
        The data (numbers are formatted for reading).
    caption : str
        What the table shows.
    max_rows : int
        Rows shown at most.
    """

    table: pd.DataFrame
    caption: str
    max_rows: int = 200


@dataclass(frozen=True)
class Section:
    """A report section: title, plain-language text, figures and tables.

    Attributes
    ----------
    title : str
        Heading.
    text : str
        Paragraphs separated by blank lines (plain text, escaped).
    figures : sequence of ReportFigure
        Figures.
    tables : sequence of ReportTable
        Tables.
    """

    title: str
    text: str = ""
    figures: Sequence[ReportFigure] = field(default_factory=tuple)
    tables: Sequence[ReportTable] = field(default_factory=tuple)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return "–"
        if np.isinf(v):
            return "no benefit" if v > 0 else "–"
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.1f}"
        return f"{v:.2f}"
    if isinstance(v, int | np.integer):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    return str(v)


def _table_html(t: ReportTable) -> str:
    df = t.table
    extra = ""
    if len(df) > t.max_rows:
        extra = f"<p class='caption'>Showing {t.max_rows} of {len(df)} rows; the full table is in the CSV.</p>"
        df = df.head(t.max_rows)
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v)).replace(chr(10), '<br>')}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return (f"<p class='caption'>{html.escape(t.caption)}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{extra}")


def _figure_src(img: Figure | str | Path, run_dir: Path | None) -> str:
    if isinstance(img, Figure):
        buf = io.BytesIO()
        img.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    p = Path(img)
    if p.is_absolute() and run_dir is not None:
        p = Path(os.path.relpath(p, run_dir))
    return html.escape(p.as_posix())


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def render_html(
    sections: Sequence[Section],
    *,
    title: str = "climmig report",
    intro: str = "",
    metadata: Mapping[str, Any] | None = None,
    run_dir: Path | None = None,
) -> str:
    """Render the report to an HTML string (pure; no file access).

    Parameters
    ----------
    sections : sequence of Section
        Content.
    title : str
        Page title.
    intro : str
        Opening paragraphs.
    metadata : mapping, optional
        Shown in a small table at the end (config hash, seed, versions, ...).
    run_dir : Path, optional
        Directory that figure paths are made relative to.

    Returns
    -------
    str
        A complete HTML document.
    """
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style>"
             f"</head><body><h1>{html.escape(title)}</h1>", _paragraphs(intro)]
    if len(sections) > 1:
        items = "".join(f"<li><a href='#s{i}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(sections))
        parts.append(f"<nav><ul>{items}</ul></nav>")
    for i, s in enumerate(sections):
        parts.append(f"<section id='s{i}'><h2>{html.escape(s.title)}</h2>{_paragraphs(s.text)}")
        for f in s.figures:
            alt = html.escape(f.alt or f.caption[:120])
            parts.append(f"<figure><img src='{_figure_src(f.image, run_dir)}' alt='{alt}'>"
                         f"<figcaption>{html.escape(f.caption)}</figcaption></figure>")
        for t in s.tables:
            parts.append(_table_html(t))
        parts.append("</section>")
    meta = {"generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "climmig": __version__}
    meta.update(dict(metadata or {}))
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in meta.items())
    parts.append(f"<h2>About this run</h2><table class='meta'>{rows}</table></body></html>")
    return "\n".join(parts)


def write_html_report(
    run_dir: str | Path,
    sections: Sequence[Section],
    *,
    title: str = "climmig report",
    intro: str = "",
    metadata: Mapping[str, Any] | None = None,
    filename: str = "report.html",
) -> Path:
    """Write the HTML report into the run directory, atomically.

    Parameters
    ----------
    run_dir : str or Path
        Run directory.
    sections : sequence of Section
        Content; matplotlib figures are embedded, PNG paths linked relative to ``run_dir``.
    title, intro : str
        Page title and opening paragraphs.
    metadata : mapping, optional
        Provenance shown at the end.
    filename : str
        File name inside ``run_dir``.

    Returns
    -------
    Path
        The written file.
    """
    run_dir = Path(run_dir)
    text = render_html(sections, title=title, intro=intro, metadata=metadata, run_dir=run_dir.resolve())
    out = write_text(text, run_dir / filename)
    logger.info("wrote report %s", out)
    return out
