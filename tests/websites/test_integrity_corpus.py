"""Integrity analysis over the real corpus in ../shared/data/defacement.

Every real defacement page swapped into every protected page must be called defaced; every legitimate
before/after edit of a real page must not. The rates are printed and written to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from itertools import permutations
from pathlib import Path

import pytest

from mamori.websites.integrity import Baseline, assess

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "defacement"
EDGI = DATA / "protected-sites" / "edgi-web-monitoring-diff-govpages" / "web_monitoring_diff"
URL = "https://www.ministry.example/"

pytestmark = pytest.mark.shared_data


def _need_data() -> None:
    if not DATA.exists():
        pytest.skip(f"third-party test data not present: {DATA}")


def deface_pages() -> list[Path]:
    return sorted(p for p in (DATA / "deface-pages").rglob("*") if p.suffix in (".html", ".htm", ".php"))


def protected_pages() -> list[Path]:
    pages = sorted((DATA / "protected-sites").rglob("*.html"))
    pages += sorted((EDGI / "tests" / "fixtures" / "versions").iterdir())
    pages += sorted(p for p in (EDGI / "example_data").iterdir() if p.suffix in (".before", ".after"))
    return pages


def legitimate_pairs() -> list[tuple[Path, Path]]:
    examples = [(b, b.with_suffix(".after")) for b in sorted((EDGI / "example_data").glob("*.before"))]
    v = EDGI / "tests" / "fixtures" / "versions"
    versions = [
        (
            v / "775a8b04-9bac-4d0d-8db0-a8e133c4a964",
            v / "9d4de183-a186-456c-bffb-55d82989877d",
        ),  # energy.gov
        (v / "f2d5d701-707a-42e0-8881-653346d01e0a", v / "fc74d750-c651-46b7-bf74-434ad8c62e04"),  # fema.gov
    ]
    both_ways = [pair for a, b in examples + versions for pair in ((a, b), (b, a))]
    govuk = list(permutations(sorted((DATA / "protected-sites" / "govuk_template-gh-pages").glob("*.html")), 2))
    return both_ways + govuk


def test_corpus_detection_and_false_alarm_rates() -> None:
    _need_data()
    missed, false_alarms, attacks, edits = [], [], 0, 0
    baselines = {p: Baseline.approve(p.read_bytes(), url=URL) for p in protected_pages()}
    for protected, baseline in baselines.items():
        for deface in deface_pages():
            attacks += 1
            verdict = assess(baseline, deface.read_bytes())
            if not verdict.defaced:
                missed.append((protected.name, deface.relative_to(DATA).as_posix(), verdict.score))
    for before, after in legitimate_pairs():
        edits += 1
        verdict = assess(Baseline.approve(before.read_bytes(), url=URL), after.read_bytes())
        if verdict.defaced:
            false_alarms.append((before.name, after.name, verdict.score, verdict.reasons))
    figures = {
        "defacements": attacks,
        "detected": attacks - len(missed),
        "detection_rate": round((attacks - len(missed)) / attacks, 4),
        "legitimate_edits": edits,
        "false_alarms": len(false_alarms),
        "false_alarm_rate": round(len(false_alarms) / edits, 4),
    }
    print("website integrity corpus:", json.dumps(figures))
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "website-integrity-corpus.json").write_text(json.dumps(figures, indent=2))
    assert attacks >= 100 and edits >= 30
    assert not missed, missed
    assert not false_alarms, false_alarms


def test_every_deface_page_is_defaced_even_with_an_empty_baseline() -> None:
    """A site first registered while already defaced (nothing to compare with) still shows the markers."""
    _need_data()
    baseline = Baseline.approve(b"", url=URL)
    for deface in deface_pages():
        assert assess(baseline, deface.read_bytes()).defaced, deface


def test_a_deface_page_approved_as_baseline_is_not_flagged_against_itself() -> None:
    _need_data()
    for deface in deface_pages():
        data = deface.read_bytes()
        assert not assess(Baseline.approve(data, url=URL), data).defaced


def test_deface_page_injected_into_an_intact_page_is_defaced() -> None:
    """Partial defacement: the attacker's page body appended to the real page, which stays intact."""
    _need_data()
    injected = 0
    for protected in protected_pages():
        html = protected.read_text(errors="replace")
        end = html.lower().rfind("</body>")
        if end < 0:
            continue
        baseline = Baseline.approve(html, url=URL)
        for deface in deface_pages():
            body = re.search(r"<body[^>]*>(.*)</body>", deface.read_text(errors="replace"), re.S | re.I)
            current = html[:end] + (body.group(1) if body else "") + html[end:]
            assert assess(baseline, current).defaced, (protected.name, deface)
            injected += 1
    assert injected >= 100
