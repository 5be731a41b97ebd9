"""Normalisation: make two fetches of an unchanged page look the same.

Pages carry values that change on every request (CSRF tokens, nonces, session ids, timestamps, cache-busting
query strings, visitor counters). They are replaced by placeholders before any comparison, so only real
content changes remain. URL helpers live here too: which host a link points to and whether it is "ours".
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_TOKEN = re.compile(r"\b[a-z0-9_+/=-]{20,}")
_HAS_DIGIT = re.compile(r"\d")
# Order matters: dates and times first, then any remaining digits. (Long opaque tokens are handled before,
# by a callback: lookaheads in one regex would backtrack quadratically on long runs of letters.)
_VOLATILE = (
    (
        re.compile(r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"),
        " ~date ",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"), " ~time "),
    (re.compile(r"\d+"), "0"),
)
_SPACE = re.compile(r"\s+")
_PUNCTUATION = str.maketrans(
    {c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”‘’„…–—·•¡¿、。，．：；！？（）「」【】"}
)
# Second-level labels under which registries hand out names (gov.uk, go.jp, com.br, ac.id ...): a site's
# "own" domain is then three labels long. A heuristic instead of the public suffix list, kept deliberately
# small; sites list anything else they load from in ``allowed_domains``.
_SECOND_LEVEL = frozenset(
    {"co", "com", "gov", "go", "govt", "gob", "gouv", "ac", "edu", "org", "net", "or", "mil", "nic"}
)


def volatile_free(text: str) -> str:
    """Lower-case, collapse blanks and replace volatile tokens with placeholders."""
    text = _TOKEN.sub(_token, text.lower())
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return _SPACE.sub(" ", text).strip()


def _token(match: re.Match[str]) -> str:
    """Session ids, nonces, CSRF and build tokens mix letters and digits; plain long words do not."""
    token = match.group()
    return " ~tok " if _HAS_DIGIT.search(token) and not token.isdigit() else token


def collapse(text: str) -> str:
    return " ".join(text.split())


def comparable_words(text: str) -> list[str]:
    """Lower-case words with every word that holds a digit folded to "0" (dates, counters, tokens).

    The fast path of :func:`volatile_free` for whole pages: ``str.translate`` and ``split`` run in C, where
    the regular expressions cost about 50 ns per character, which for a page is most of a check's CPU time.
    """
    return [w if w.isalpha() else "0" for w in text.lower().translate(_PUNCTUATION).split()]


def shingles(words_: list[str], size: int = 3) -> frozenset[tuple[str, ...]]:
    """Overlapping word n-grams: robust to small edits, sensitive to replaced text."""
    if len(words_) < size:
        return frozenset([tuple(words_)]) if words_ else frozenset()
    return frozenset(zip(*(words_[i:] for i in range(size)), strict=False))  # shorter tails end it


def host_of(url: str, base_host: str) -> str:
    """Host a (possibly relative) URL points to; relative URLs point to ``base_host``."""
    url = url.strip()
    if url.startswith("//") or "://" in url[:12]:
        try:
            return (urlsplit(url if not url.startswith("//") else "http:" + url).hostname or "").lower()
        except ValueError:
            return ""
    return base_host


def without_query(url: str) -> str:
    """Drop cache-busters (``?v=123``, ``?0.26.0``) and fragments: the same script under a new version tag."""
    return url.strip().split("#", 1)[0].split("?", 1)[0]


def site_domain(host: str) -> str:
    """The registrable part of a host: ``www.fema.gov`` -> ``fema.gov``, ``a.b.gov.uk`` -> ``b.gov.uk``."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def matches_domain(host: str, domains: frozenset[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    while host:
        if host in domains:
            return True
        _, _, host = host.partition(".")
    return False
