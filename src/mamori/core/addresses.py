"""Which IP addresses mamori may connect to on behalf of untrusted input (the SSRF rule, in one place).

The website watch (fetching registered sites and the redirects they choose) and outgoing webhooks both ask
:func:`refusal`. Loopback, private, link-local, multicast, reserved, unspecified, shared (100.64/10) and
documentation addresses are refused; IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo) are judged by the IPv4 address inside.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refusal(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why ``ip`` must not be connected to, or None when it may be.

    ``allow_private`` (intranet sites) admits private, loopback, shared and reserved addresses, never
    link-local (cloud metadata services live at 169.254.169.254), multicast or unspecified ones.
    """
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        why = refusal(embedded, allow_private=allow_private)
        return f"{why} (embedded in {ip})" if why else None
    for test, why in (
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
    ):
        if test:
            return f"{why} address {ip}"
    if allow_private:
        return None
    for test, why in ((ip.is_loopback, "loopback"), (ip.is_private, "private"), (ip.is_reserved, "reserved")):
        if test:
            return f"{why} address {ip}"
    return None if ip.is_global else f"non-public address {ip}"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
