"""Which event fields tell one actor from another: the identity a plain Sigma rule's detection carries.

An alert is "the same thing happening again" only while its actors are the same: one rule fired by two client
addresses, two accounts or two machines is two alerts. A Sigma rule names no such fields (its `fields:` list is
for display), so the identity is read from the event by the Sigma taxonomy's naming: a field whose name says it
holds a network address (``c-ip``, ``src_ip``, ``IpAddress``, ``SourceIp``, ``sourceIPAddress`` …), an account
(``User``, ``TargetUserName``, ``SubjectUserName``, ``AccountName``, ``userIdentity.arn`` …) or a machine
(``host``, ``WorkstationName``, ``DestinationHostname`` …). Naming, not a fixed list, so that log sources added
later (cloud audit logs, Zeek) are covered without editing this file. Fields that vary with every repeat of one
attack (the URL requested, the command line, the image) are left out: they would split one attack into
hundreds of alerts; they stay visible in the kept events.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.core.messages import HOST, Event

# The last word(s) of a field name that say "this is an address, an account or a machine".
_LAST_WORDS = frozenset(
    {
        "ip",
        "ipaddress",
        "ipaddr",
        "clientip",
        "srcip",
        "dstip",
        "userid",
        "devicename",
        "address",
        "addr",
        "user",
        "username",
        "account",
        "host",
        "hostname",
        "workstation",
        "computer",
        "caller",
        "actor",
        "arn",
        "principalid",
        "alternateid",
        "principalemail",
        "orig_h",
        "resp_h",
    }
)
_LAST_TWO = frozenset(
    {
        ("user", "name"),
        ("user", "id"),
        ("user", "principal"),
        ("account", "name"),
        ("host", "name"),
        ("workstation", "name"),
        ("computer", "name"),
        ("device", "name"),
        ("principal", "name"),
        ("principal", "id"),
        ("principal", "email"),
        ("alternate", "id"),
        ("client", "ip"),
        ("ip", "address"),
    }
)
# Named explicitly: the envelope's machine and the Sigma network taxonomy's short names.
_NAMED = frozenset({HOST, "src", "dst", "src_ip", "dst_ip", "dest_ip", "c-ip", "s-ip", "cs-username"})
# Looks like an actor by its last word, but is not one: each varies within one actor's activity.
# (``cs-host`` is the virtual host a web client asks for: the client chooses it, so it would let one client
# open an alert per made-up name.)
_NOT_ACTORS = frozenset({"cs-user-agent", "c-useragent", "UserAgent", "userAgent", "http_user_agent", "cs-host"})
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_NO_VALUE = (None, "", "-")


@lru_cache(maxsize=4096)
def is_actor_field(name: str) -> bool:
    """Does this Sigma-taxonomy field name an address, an account or a machine?"""
    if name in _NOT_ACTORS:
        return False
    if name in _NAMED:
        return True
    last = re.split(r"[.\-/ ]", name)[-1]  # a dotted or W3C name: judge its last part
    if last.lower() in _LAST_WORDS:
        return True
    words = [w.lower() for w in _WORD.findall(last)]
    return bool(words) and (words[-1] in _LAST_WORDS or tuple(words[-2:]) in _LAST_TWO)


def identity(event: Event) -> dict[str, str]:
    """The actor fields present in the event with a value, by their Sigma-taxonomy names."""
    return {name: _text(value) for name, value in event.items() if is_actor_field(name) and _has(value)}


def _has(value: Any) -> bool:
    return not isinstance(value, dict | list) and value not in _NO_VALUE


def _text(value: Any) -> str:
    return str(value)
