"""The SSRF guard: unit rules, and the real checker refusing private targets, redirects and rebinding."""

from __future__ import annotations

import asyncio
import ipaddress
import typing
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.websites.checker import Checker
from mamori.websites.errors import UnsafeTarget
from mamori.websites.results import CheckLimits, CheckResult, FailureKind
from mamori.websites.schemas import SiteExpectations
from mamori.websites.ssrf import SSRFGuard, StaticResolver, refusal

from .dnsserver import TinyDNS
from .farm import SiteFarm
from .pages import ministry_page

PUBLIC_IP = "93.184.215.14"  # a public address the fake internet below routes to the loopback farm


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
        "0.0.0.0", "224.0.0.251", "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1", "::1", "::",
        "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "2002:7f00:0001::1", "64:ff9b::a00:1", "2001:db8::1",
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_intranet_sites_may_use_private_but_never_link_local_or_multicast() -> None:
    assert refusal(ipaddress.ip_address("10.0.0.5"), allow_private=True) is None
    assert refusal(ipaddress.ip_address("127.0.0.1"), allow_private=True) is None
    assert refusal(ipaddress.ip_address("169.254.169.254"), allow_private=True) is not None
    assert refusal(ipaddress.ip_address("::ffff:169.254.169.254"), allow_private=True) is not None
    assert refusal(ipaddress.ip_address("224.0.0.1"), allow_private=True) is not None


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://x/", "http://user:pw@example.org/", "http:///nohost", "http://[::1"],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        SSRFGuard().vet_url(url)


def test_a_name_with_any_private_answer_is_refused() -> None:
    guard = SSRFGuard(StaticResolver({"mixed.example": ["8.8.8.8", "10.0.0.1"]}))
    with pytest.raises(UnsafeTarget, match="private"):
        asyncio.run(guard.addresses("mixed.example", allow_private=False))


# --- the real checker --------------------------------------------------------------------------------
class LoopbackInternet(httpcore.AsyncNetworkBackend):
    """A fake internet *below* the guard: connections to PUBLIC_IP reach the farm; records every address."""

    def __init__(self, farm_port: int) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.farm_port = farm_port
        self.connected: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        target = "127.0.0.1" if host == PUBLIC_IP else host
        return await self.inner.connect_tcp(target, self.farm_port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class RebindingResolver:
    """Answers a public address first, loopback afterwards: the classic DNS-rebinding attack."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str) -> list[str]:
        self.calls += 1
        return [PUBLIC_IP] if self.calls == 1 else ["127.0.0.1"]


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def check(url: str, *, allow_private: bool = False, **kw: Any) -> CheckResult:
    s = SiteExpectations(site_id="s", org="o", url=url, allow_private=allow_private, timeout_seconds=3)

    async def go() -> CheckResult:
        async with Checker(limits=CheckLimits(record_dns=False), **kw) as checker:
            return await checker.check(s)

    return asyncio.run(go())


def test_loopback_refused_unless_the_site_allows_private(farm: SiteFarm) -> None:
    farm.set("/", ministry_page())
    refused = check(farm.url("/"))
    assert refused.failure is FailureKind.REFUSED and "loopback" in (refused.error or "")
    assert farm.hits == []  # nothing was sent
    assert check(farm.url("/"), allow_private=True).up


def test_ipv4_mapped_ipv6_literal_is_refused(farm: SiteFarm) -> None:
    assert check(f"http://[::ffff:127.0.0.1]:{farm.port}/").failure is FailureKind.REFUSED


def test_redirect_to_loopback_is_refused(farm: SiteFarm) -> None:
    farm.set("/", status=302, headers=(("Location", f"http://127.0.0.1:{farm.port}/admin"),))
    farm.set("/admin", "secret admin console")
    internet = LoopbackInternet(farm.port)
    resolver = StaticResolver({"www.public.example": [PUBLIC_IP]})
    result = check("http://www.public.example/", resolver=resolver, network_backend=internet)
    assert result.failure is FailureKind.REFUSED and "127.0.0.1" in (result.error or "")
    assert result.redirects == (f"http://127.0.0.1:{farm.port}/admin",)
    assert [path for _, path in farm.hits] == ["/"]  # the admin console was never requested
    assert internet.connected == [PUBLIC_IP]


def test_hostname_resolving_to_a_private_address_is_refused() -> None:
    with TinyDNS() as dns_server:
        dns_server.set("intranet.example", "A", "10.0.0.5")
        result = check("http://intranet.example/", dns_nameservers=("127.0.0.1",), dns_port=dns_server.port)
    assert result.failure is FailureKind.REFUSED and "private address 10.0.0.5" in (result.error or "")


def test_connection_is_pinned_to_the_vetted_address(farm: SiteFarm) -> None:
    """Rebinding: the name is resolved once per connection and that very answer is connected to."""
    farm.set("/", ministry_page())
    internet = LoopbackInternet(farm.port)
    resolver = RebindingResolver()
    result = check("http://rebind.example/", resolver=resolver, network_backend=internet)
    assert result.up and internet.connected == [PUBLIC_IP] and resolver.calls == 1
    assert farm.hits[0][0] == "rebind.example"  # Host header carries the name, not the address
    second = check("http://rebind.example/", resolver=resolver, network_backend=internet)
    assert second.failure is FailureKind.REFUSED  # the rebound (loopback) answer is caught, not connected to
    assert internet.connected == [PUBLIC_IP]


def test_unresolvable_name_is_a_dns_failure() -> None:
    result = check("http://nowhere.example/", resolver=StaticResolver({}))
    assert result.failure is FailureKind.DNS


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_and_6to4_forms_are_judged_like_the_ipv4_inside(ip: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80))
    inner = refusal(ip) is None
    assert (refusal(mapped) is None) == inner and (refusal(sixtofour) is None) == inner
