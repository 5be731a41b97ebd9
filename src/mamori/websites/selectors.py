"""CSS selectors from content rules, compiled once to lxml XPath objects."""

from __future__ import annotations

from functools import lru_cache

from cssselect import GenericTranslator, SelectorError
from lxml import etree


@lru_cache(maxsize=4096)
def compile_selector(css: str) -> etree.XPath:
    """Compile ``css`` (cached: the same rules are applied on every check); ValueError names the selector."""
    try:
        return etree.XPath(GenericTranslator().css_to_xpath(css))
    except (SelectorError, etree.XPathError) as exc:
        raise ValueError(f"invalid CSS selector {css!r}: {exc}") from exc
