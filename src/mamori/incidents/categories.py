"""Which incident category an alert points to, read from what its rule says about itself.

The most specific evidence wins: the website watch's own rule ids, then ATT&CK techniques, then ATT&CK tactics,
then words of the rule's title or id. An alert that says nothing recognisable is `other`: a wrong guess
preselected in a form is worse than an honest "other" (a brute-force alert once came up as "defacement").
"""

from __future__ import annotations

from collections.abc import Iterable

from mamori.alerts.models import Alert
from mamori.incidents.enums import Category

WEBSITE_PRODUCER = "website"

# The website watch's rules (mamori.websites.detections.RULES). Certificate and DNS changes are left to the
# analyst: an expiring certificate is an upkeep matter, a changed DNS answer may be a migration or a hijack.
_WEBSITE_RULES = {
    "website.defaced": Category.DEFACEMENT,
    "website.foreign_script": Category.DEFACEMENT,  # tampered content, like a visible defacement
    "website.link_spam": Category.DEFACEMENT,
    "website.subresource_changed": Category.DEFACEMENT,
    "website.down": Category.DDOS,  # availability: the incident checks whether it is an attack
}

# ATT&CK technique ids (a tag "attack.t1110.001" matches "t1110"), in order of precedence.
_TECHNIQUES = (
    ("t1491", Category.DEFACEMENT),  # Defacement
    ("t1498", Category.DDOS),  # Network Denial of Service
    ("t1499", Category.DDOS),  # Endpoint Denial of Service
    ("t1566", Category.PHISHING),  # Phishing
    ("t1598", Category.PHISHING),  # Phishing for Information
    ("t1048", Category.DATA_LEAK),  # Exfiltration Over Alternative Protocol
    ("t1041", Category.DATA_LEAK),  # Exfiltration Over C2 Channel
    ("t1567", Category.DATA_LEAK),  # Exfiltration Over Web Service
    ("t1486", Category.MALWARE),  # Data Encrypted for Impact (ransomware)
    ("t1003", Category.MALWARE),  # OS Credential Dumping: a tool on a host, not a guess at a password
    ("t1110", Category.UNAUTHORISED_ACCESS),  # Brute Force (guessing, spraying, stuffing)
    ("t1078", Category.UNAUTHORISED_ACCESS),  # Valid Accounts
    ("t1190", Category.UNAUTHORISED_ACCESS),  # Exploit Public-Facing Application
    ("t1189", Category.UNAUTHORISED_ACCESS),  # Drive-by Compromise (script injected through a request)
)

# ATT&CK tactics, in order of precedence: code running on a host outweighs an attempt on an account.
_TACTICS = (
    ("exfiltration", Category.DATA_LEAK),
    ("execution", Category.MALWARE),
    ("persistence", Category.MALWARE),
    ("privilege-escalation", Category.MALWARE),
    ("defense-evasion", Category.MALWARE),
    ("stealth", Category.MALWARE),  # ATT&CK v17's name for most of defense-evasion (SigmaHQ uses both)
    ("lateral-movement", Category.MALWARE),
    ("command-and-control", Category.MALWARE),
    ("credential-access", Category.UNAUTHORISED_ACCESS),
    ("initial-access", Category.UNAUTHORISED_ACCESS),
)

# Words of a rule's title or id, for rules without ATT&CK tags.
_WORDS = (
    ("deface", Category.DEFACEMENT),
    ("ddos", Category.DDOS),
    ("denial of service", Category.DDOS),
    ("flood", Category.DDOS),
    ("phish", Category.PHISHING),
    ("exfil", Category.DATA_LEAK),
    ("leak", Category.DATA_LEAK),
    ("ransom", Category.MALWARE),
    ("malware", Category.MALWARE),
    ("trojan", Category.MALWARE),
    ("webshell", Category.MALWARE),
    ("hacktool", Category.MALWARE),
    ("brute", Category.UNAUTHORISED_ACCESS),
    ("password spray", Category.UNAUTHORISED_ACCESS),
    ("credential stuffing", Category.UNAUTHORISED_ACCESS),
)


def category_of_rule(*, producer: str, rule_id: str, title: str, tags: Iterable[object]) -> Category:
    """The category a detection of this rule most likely belongs to (`other` when nothing says)."""
    if producer == WEBSITE_PRODUCER and rule_id in _WEBSITE_RULES:
        return _WEBSITE_RULES[rule_id]
    techniques, tactics = _attack_tags(tags)
    for technique, category in _TECHNIQUES:
        if any(t == technique or t.startswith(technique + ".") for t in techniques):
            return category
    for tactic, category in _TACTICS:
        if tactic in tactics:
            return category
    text = f"{rule_id} {title}".lower().replace("-", " ").replace("_", " ")
    for word, category in _WORDS:
        if word in text:
            return category
    return Category.OTHER


def category_for(alert: Alert) -> Category:
    return category_of_rule(producer=alert.producer, rule_id=alert.rule_id, title=alert.rule_title, tags=alert.tags)


def _attack_tags(tags: Iterable[object]) -> tuple[list[str], set[str]]:
    """ATT&CK technique ids and tactic names among Sigma-style tags ("attack.t1110.001", "attack.impact")."""
    techniques: list[str] = []
    tactics: set[str] = set()
    for tag in tags:
        name = str(tag).lower()
        if not name.startswith("attack."):
            continue
        name = name.removeprefix("attack.").replace("_", "-")
        if name.startswith("t") and name[1:5].isdigit():
            techniques.append(name)
        else:
            tactics.add(name)
    return techniques, tactics
