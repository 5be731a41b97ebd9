"""The message lookup that code and templates already use (catalogues come with the Japanese/English issue)."""

from jinja2 import Environment

from mamori.i18n import gettext, install, ngettext
from mamori.web.console import templates


def test_gettext_fills_named_variables() -> None:
    assert gettext("%(count)s alerts", count=3) == "3 alerts"
    assert ngettext("%(num)s alert", "%(num)s alerts", 1) == "1 alert"
    assert ngettext("%(num)s alert", "%(num)s alerts", 2) == "2 alerts"


def test_templates_can_wrap_text_for_extraction() -> None:
    env = Environment(autoescape=True)
    install(env)
    assert env.from_string('{{ _("Hello %(name)s", name=who) }}').render(who="<b>") == "Hello &lt;b&gt;"
    assert templates.env.from_string('{{ _("Alerts") }}').render() == "Alerts"
