"""The checker against real servers on 127.0.0.1: up, down, back, defaced, updated, injected, DNS, TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori.websites.checker import Checker
from mamori.websites.enums import FindingKind
from mamori.websites.integrity import Baseline
from mamori.websites.results import CheckLimits, CheckResult, FailureKind
from mamori.websites.schemas import DNSExpectations, SiteExpectations, TLSExpectations
from mamori.websites.ssrf import StaticResolver

from .certs import ThrowawayCA
from .dnsserver import TinyDNS
from .farm import SiteFarm
from .pages import NEWS, ministry_page

DEFACED = (
    "<html><head><title>Hacked by Cyber Ghost</title></head><body style='background:black'>"
    "<h1>Hacked by Cyber Ghost</h1><p>Your security is weak</p></body></html>"
)
NO_DNS = CheckLimits(record_dns=False)


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def site(url: str, **kw: Any) -> SiteExpectations:
    return SiteExpectations(site_id="interior", org="moi", url=url, allow_private=True, timeout_seconds=3, **kw)


def run_check(s: SiteExpectations, baseline: Baseline | None = None, **checker_kw: Any) -> CheckResult:
    async def go() -> CheckResult:
        async with Checker(limits=checker_kw.pop("limits", NO_DNS), **checker_kw) as checker:
            return await checker.check(s, baseline=baseline)

    return asyncio.run(go())


def test_site_lifecycle_up_down_back_defaced_updated_injected(farm: SiteFarm) -> None:
    s = site(farm.url("/moi/"))
    farm.set("/moi/", ministry_page())
    baseline = Baseline.approve(ministry_page(), url=s.url)

    up = run_check(s, baseline)
    assert up.up and up.status == 200 and up.size > 1000 and up.latency_ms is not None
    assert up.verdict is not None and not up.verdict.defaced and up.body_sha256

    farm.set("/moi/", "Service Unavailable", status=503)
    down = run_check(s, baseline)
    assert not down.up and down.failure is FailureKind.STATUS and down.status == 503 and down.verdict is None

    farm.set("/moi/", ministry_page(visitors=99, token="abcdef0123456789abcdef99"))
    back = run_check(s, baseline)
    assert back.up and back.verdict is not None and not back.verdict.defaced

    farm.set("/moi/", DEFACED)
    defaced = run_check(s, baseline)
    assert defaced.up and defaced.verdict is not None and defaced.verdict.defaced

    article = ("Services restored", "In 2025 the website was hacked by a criminal group, the ministry said.")
    farm.set("/moi/", ministry_page(news=[article, *NEWS]))
    updated = run_check(s, baseline)
    assert updated.verdict is not None and not updated.verdict.defaced

    farm.set("/moi/", ministry_page(inject_head='<script src="https://evil-cdn.example/x.js"></script>'))
    injected = run_check(s, baseline)
    assert injected.verdict is not None and FindingKind.FOREIGN_SCRIPT in injected.verdict.kinds()


def test_redirects_are_followed_and_recorded(farm: SiteFarm) -> None:
    farm.set("/old", status=301, headers=(("Location", "/new"),))
    farm.set("/new", status=302, headers=(("Location", farm.url("/final")),))
    farm.set("/final", ministry_page())
    result = run_check(site(farm.url("/old")))
    assert result.up and result.redirects == (farm.url("/new"), farm.url("/final"))
    assert result.final_url == farm.url("/final")


def test_redirect_loop_is_a_failure(farm: SiteFarm) -> None:
    farm.set("/loop", status=302, headers=(("Location", "/loop"),))
    result = run_check(site(farm.url("/loop")))
    assert result.failure is FailureKind.REDIRECTS and len(result.redirects) == 6


def test_body_is_capped(farm: SiteFarm) -> None:
    farm.set("/big", b"x" * 300_000)
    result = run_check(site(farm.url("/big")), limits=CheckLimits(record_dns=False, max_body_bytes=100_000))
    assert result.up and result.truncated and result.size == 100_000


def test_connection_dropped_and_refused_and_slow(farm: SiteFarm) -> None:
    farm.set("/drop", drop=True)
    assert run_check(site(farm.url("/drop"))).failure in (FailureKind.PROTOCOL, FailureKind.CONNECT)
    refused = run_check(site("http://127.0.0.1:9/"))  # discard port: nothing listens
    assert refused.failure is FailureKind.CONNECT and not refused.up
    farm.set("/slow", "late", delay=2.0)
    slow = run_check(site(farm.url("/slow")).model_copy(update={"timeout_seconds": 0.5}))
    assert slow.failure is FailureKind.TIMEOUT


def test_dns_answers_recorded_and_change_detected(farm: SiteFarm) -> None:
    farm.set("/", ministry_page())
    with TinyDNS() as dns_server:
        dns_server.set("www.interior.test", "A", "127.0.0.1")
        expected = DNSExpectations(a=("127.0.0.1",))
        s = site(f"http://www.interior.test:{farm.port}/", dns=expected)
        kw = {"dns_nameservers": ("127.0.0.1",), "dns_port": dns_server.port, "limits": CheckLimits()}
        ok = run_check(s, **kw)
        assert ok.up and ok.dns is not None and ok.dns.a == ("127.0.0.1",) and ok.dns_problems == ()
        # the Host header keeps the name although the connection went to the vetted address
        assert farm.hits[-1][0] == f"www.interior.test:{farm.port}"

        dns_server.set("www.interior.test", "A", "127.0.0.2")  # hijacked to another address
        changed = run_check(s, **kw)
        assert changed.dns is not None and changed.dns.a == ("127.0.0.2",)
        assert changed.dns_problems and "A answers changed" in changed.dns_problems[0]


def test_expiring_certificate_is_reported(tmp_path: Path) -> None:
    ca = ThrowawayCA.create()
    server_tls = ca.server_context(tmp_path, names=["www.interior.test"], days=5)
    with SiteFarm(tls=server_tls) as farm:
        farm.set("/", ministry_page())
        s = site(
            f"https://www.interior.test:{farm.port}/",
            tls=TLSExpectations(expiry_warning_days=21, issuer_contains="Test Root CA"),
        )
        resolver = StaticResolver({"www.interior.test": ["127.0.0.1"]})
        result = run_check(s, ssl_context=ca.client_context(), resolver=resolver)
    assert result.up and result.tls is not None
    assert result.tls.days_left in (4, 5) and "www.interior.test" in result.tls.names
    assert "Test Root CA" in result.tls.issuer and result.tls.version and result.tls.version.startswith("TLS")
    assert result.tls_problems and "expires in" in result.tls_problems[0]


def test_untrusted_certificate_is_a_tls_failure(tmp_path: Path) -> None:
    server_tls = ThrowawayCA.create().server_context(tmp_path, names=["www.interior.test"], days=90)
    with SiteFarm(tls=server_tls) as farm:
        farm.set("/", ministry_page())
        s = site(f"https://www.interior.test:{farm.port}/")
        resolver = StaticResolver({"www.interior.test": ["127.0.0.1"]})
        result = run_check(s, ssl_context=ThrowawayCA.create().client_context(), resolver=resolver)
    assert result.failure is FailureKind.TLS and not result.up


def test_cookies_are_never_kept_between_checks(farm: SiteFarm) -> None:
    farm.set("/", ministry_page(), headers=(("Content-Type", "text/html"), ("Set-Cookie", "session=abc; Path=/")))
    s = site(farm.url("/"))

    async def go() -> None:
        async with Checker(limits=NO_DNS) as checker:
            await checker.check(s)
            await checker.check(s)

    asyncio.run(go())
    assert len(farm.cookies) == 2 and farm.cookies[-1] == ""


def test_http_charset_is_honoured(farm: SiteFarm) -> None:
    plain = "<html><head><title>الوزارة</title></head><body><p>مرحبا بكم في موقع الوزارة الرسمي</p></body></html>"
    defaced = plain.replace("<body>", "<body><h1>تم اختراق الموقع</h1>")
    header = (("Content-Type", "text/html; charset=windows-1256"),)
    farm.set("/ar", defaced.encode("cp1256"), headers=header)
    s = site(farm.url("/ar"))
    result = run_check(s, Baseline.approve(plain, url=s.url))
    assert result.verdict is not None and result.verdict.defaced, result.verdict


def test_large_pages_are_analysed_off_the_event_loop(farm: SiteFarm) -> None:
    big = ministry_page(inject_body="<p>" + "lorem ipsum dolor " * 40_000 + "</p><h1>Hacked by X</h1>")
    farm.set("/big", big)
    s = site(farm.url("/big"))
    result = run_check(s, Baseline.approve(ministry_page(), url=s.url))
    assert result.size > 256 * 1024 and result.verdict is not None and result.verdict.defaced


def test_unusable_redirect_target_is_a_failure_not_a_crash(farm: SiteFarm) -> None:
    farm.set("/odd", status=302, headers=(("Location", "http://bad host\x7f/"),))
    result = run_check(site(farm.url("/odd")))
    assert result.failure is FailureKind.REFUSED and not result.up
