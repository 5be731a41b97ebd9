"""An SSRF guard for outgoing webhooks: every address the target resolves to must pass the platform's rule
(:func:`mamori.core.addresses.refusal`: public addresses only, embedded IPv4 forms judged by the address inside)
unless its network is explicitly allowed by the administrator.

The address is resolved once, checked, and the request is sent to that very address (with the original Host
header and TLS server name), so a DNS answer that changes between check and use (rebinding) cannot slip past.
Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from mamori.core.addresses import IPAddress, refusal
from mamori.incidents.errors import UnsafeTarget


def check_address(ip: IPAddress, allow: Sequence[str]) -> None:
    why = refusal(ip)
    if why is None or any(ip in ipaddress.ip_network(net, strict=False) for net in allow):
        return
    raise UnsafeTarget(f"webhook target is a {why}", where="webhook_url")


def resolve(url: str, allow: Sequence[str]) -> tuple[str, IPAddress, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("webhook URL must be http(s) with a host", where="webhook_url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}: {exc}", where="webhook_url") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for ip in addresses:  # every answer must be acceptable, not just the first
        check_address(ip, allow)
    return parts.hostname, addresses[0], port


def guarded_post(url: str, payload: dict[str, Any], *, allow: Sequence[str], timeout: float) -> httpx.Response:
    host, ip, port = resolve(url, allow)
    parts = urlsplit(url)
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        response = client.post(pinned, json=payload, headers={"Host": parts.netloc}, extensions=extensions)
    response.raise_for_status()
    return response
