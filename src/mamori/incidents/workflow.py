"""The NIST phase state machine: which phase may follow which, and which timestamps a move sets.

Phases usually move forward one step; going back one step (containment failed, the site was re-defaced) is
allowed, and triage may skip straight to closed (a false positive). Closing needs a resolution and a reason (it
ends the response: responders lose their access); reopening a closed incident returns it to triage and needs a
reason too (it undoes a decision someone recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mamori.incidents.enums import Phase, Resolution
from mamori.incidents.errors import ReasonRequired, TransitionRefused
from mamori.incidents.models import Incident

ORDER = list(Phase)
ACTIVE = tuple(p for p in Phase if p is not Phase.CLOSED)


def forward(phase: Phase) -> Phase:
    """The usual next move: one phase on (post-incident → closed); a closed incident's only move is reopening."""
    if phase is Phase.CLOSED:
        return Phase.TRIAGE
    return ORDER[ORDER.index(phase) + 1]


def allowed_next(phase: Phase) -> frozenset[Phase]:
    if phase is Phase.CLOSED:
        return frozenset({Phase.TRIAGE})
    i = ORDER.index(phase)
    nxt = {ORDER[i + 1], Phase.CLOSED}
    if i > 0:
        nxt.add(ORDER[i - 1])
    return frozenset(nxt)


@dataclass(frozen=True)
class Move:
    source: Phase
    target: Phase
    resolution: Resolution | None
    reason: str = ""

    @property
    def reopens(self) -> bool:
        return self.source is Phase.CLOSED

    @property
    def closes(self) -> bool:
        return self.target is Phase.CLOSED


def check(incident: Incident, target: Phase, resolution: Resolution | None, reason: str = "") -> Move:
    source = Phase(incident.phase)
    if target not in allowed_next(source):
        allowed = ", ".join(sorted(p.value for p in allowed_next(source)))
        raise TransitionRefused(f"{source.value} → {target.value} is not allowed (allowed: {allowed})", where="phase")
    if target is Phase.CLOSED and resolution is None:
        raise TransitionRefused("closing needs a resolution", where="resolution")
    if target is not Phase.CLOSED and resolution is not None:
        raise TransitionRefused("only closing takes a resolution", where="resolution")
    if target is Phase.CLOSED and not reason.strip():
        raise ReasonRequired("closing an incident needs a reason", where="reason")
    if source is Phase.CLOSED and not reason.strip():
        raise ReasonRequired("reopening a closed incident needs a reason", where="reason")
    return Move(source, target, resolution, reason.strip())


def apply(incident: Incident, move: Move, now: datetime) -> None:
    """Set the phase and the metric timestamps (each set once: the first time the milestone is reached)."""
    incident.phase = move.target.value
    incident.acknowledged_at = incident.acknowledged_at or now
    # A false positive closed from triage was never contained or recovered: no milestones for it.
    reached = move.target is not Phase.CLOSED or move.resolution is Resolution.RESOLVED
    rank = ORDER.index(move.target)
    if reached and rank >= ORDER.index(Phase.ERADICATION) and incident.contained_at is None:
        incident.contained_at = now  # containment is done when eradication starts
    if reached and rank >= ORDER.index(Phase.POST_INCIDENT) and incident.recovered_at is None:
        incident.recovered_at = now  # recovery is done when the post-incident review starts
    if move.target is Phase.CLOSED:
        incident.resolution = move.resolution.value if move.resolution else None
        incident.closed_at = now
    elif move.source is Phase.CLOSED:
        incident.resolution, incident.closed_at = None, None
