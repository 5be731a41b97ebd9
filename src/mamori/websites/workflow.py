"""The rules of a baseline approval: when it needs a confirmation, and who may confirm it.

Approving a page makes it the yardstick every later check is compared with and the copy a responder restores
from. Approving a defaced page by mistake (or on purpose, by someone who controls a ministry account) would
silence the alert, hand the defacement out as "last known-good" and blind the watch to the next defacement of
the same kind. So a page that the current verdict does not call clean needs an explicit confirmation from
the requester, and then a second person of the national centre, unless the deployment allows single approval.
"""

from __future__ import annotations

from mamori.accounts.principal import Principal
from mamori.core.errors import Conflict, PermissionDenied, ValidationFailed
from mamori.i18n import _
from mamori.websites.enums import ApprovalStatus, Integrity
from mamori.websites.models import WebsiteApproval

CONFIRM_RIGHT = "websites.approve"  # held through a national role: the centre's analysts and administrators


def required_reason(reason: str, *, where: str = "reason") -> str:
    """The reason, trimmed; a blank one is refused (every approval and decision says why)."""
    cleaned = reason.strip()
    if not cleaned:
        raise ValidationFailed(_("a reason is required"), where=where)
    return cleaned


def is_clean(integrity: Integrity, *, same_as_baseline: bool) -> bool:
    """The page may take effect at once: it is the baseline's own bytes, or the last verdict found nothing."""
    return same_as_baseline or integrity is Integrity.OK


def require_confirmation(integrity: Integrity, *, confirmed: bool) -> None:
    if not confirmed:
        raise ValidationFailed(
            _(
                "the current verdict is %(verdict)s: approving this page needs an explicit confirmation",
                verdict=str(integrity).upper(),
            ),
            where="confirm_changed",
        )


def require_decider(principal: Principal, approval: WebsiteApproval) -> None:
    """A person with a national role, and never the one who asked."""
    if principal.is_token or not principal.national_can(CONFIRM_RIGHT):
        raise PermissionDenied(_("only an analyst or administrator of the national centre confirms an approval"))
    if principal.name == approval.requested_by:
        raise PermissionDenied(_("the person who asked for an approval cannot confirm it; a second person must"))
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(_("approval %(id)s is %(status)s, not pending", id=approval.id, status=approval.status))
