"""Incident report rendering: the domain builds `IncidentReport`; this turns it into HTML (Jinja, autoescaped)
and PDF (WeasyPrint). WeasyPrint gets a URL fetcher that refuses everything, so a report can never make the
server fetch a URL named in incident text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mamori.cases.report import IncidentReport
from mamori.i18n import install as install_i18n
from mamori.incidents.enums import Phase

HERE = Path(__file__).parent
_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

install_i18n(_env)


def hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h"


_env.filters["hours"] = hours


def render_html(report: IncidentReport, *, for_pdf: bool = False) -> str:
    return _env.get_template("report.html").render(r=report, phases=[p.value for p in Phase], for_pdf=for_pdf)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"report rendering fetches nothing ({url[:80]})")


def render_pdf(report: IncidentReport) -> bytes:
    import weasyprint  # imported late: it loads Pango, which only report rendering needs

    css = weasyprint.CSS(filename=str(HERE / "static" / "report.css"))
    document = weasyprint.HTML(string=render_html(report, for_pdf=True), url_fetcher=_no_fetch)
    return bytes(document.write_pdf(stylesheets=[css]))
