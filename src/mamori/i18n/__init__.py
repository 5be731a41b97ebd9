"""Message lookup for every string a person reads.

Until the Babel catalogues exist (the Japanese/English issue), ``gettext`` returns its argument unchanged: code and
templates already wrap new text with ``_()`` / ``{{ _("…") }}`` so extraction finds it, and switching to real
catalogues changes this module only.
"""

from __future__ import annotations

from typing import Any


def gettext(message: str, **variables: Any) -> str:
    """The message in the reader's language (English for now), with ``%(name)s`` variables filled in."""
    return message % variables if variables else message


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    message = singular if n == 1 else plural
    return message % {"num": n, **variables}


_ = gettext


def install(env: Any) -> None:
    """Give a Jinja environment the ``_``/``gettext``/``ngettext`` functions (the i18n extension, new style)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)
