"""Errors of the detection engine (all :class:`mamori.core.errors.ConfigurationError`: content is wrong).

RuleRefused            a rule that loads but cannot be run as written; ``reason`` says why
├── RuleCompileError   a value or modifier the compiler cannot turn into an exact matcher
└── UnmappedLogsource  no pipeline maps the rule's log source: refused, never run unconstrained
"""

from __future__ import annotations

from mamori.core.errors import ConfigurationError


class RuleRefused(ConfigurationError):
    """A rule that cannot be run; ``message`` is the reason shown by ``mamori rules check``."""


class RuleCompileError(RuleRefused):
    pass


class UnmappedLogsource(RuleRefused):
    pass
