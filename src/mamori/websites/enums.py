"""Vocabularies of the website watch."""

from __future__ import annotations

from enum import StrEnum


class FindingKind(StrEnum):
    """One kind of evidence integrity analysis can find; detections are chosen by kind."""

    MARKER = "marker"  # defacement wording ("hacked by", team signatures) that the baseline lacks
    REPLACED = "replaced"  # text and DOM shape both largely replaced
    EMPTIED = "emptied"  # the page lost all its text
    TITLE = "title"  # the title changed
    STYLING = "styling"  # black page, marquee, autoplaying audio, right-click blocking
    FOREIGN_SCRIPT = "foreign_script"  # script, frame, form or refresh pointing at an unknown domain
    LINK_SPAM = "link_spam"  # hidden links to external domains
    CRITICAL = "critical"  # an element the site marked as must-not-change changed
    SUBRESOURCE = "subresource"  # a same-site script or stylesheet changed content under the same URL


class SnapshotStatus(StrEnum):
    KNOWN_GOOD = "known_good"
    SUSPICIOUS = "suspicious"
    UNREVIEWED = "unreviewed"


class Availability(StrEnum):
    UNKNOWN = "unknown"  # never checked yet
    UP = "up"
    FAILING = "failing"  # failing, but fewer than the site's threshold of consecutive failures
    DOWN = "down"  # alerting


class SnapshotKind(StrEnum):
    """Why a stored page was kept (its row in ``website_snapshots``)."""

    KNOWN_GOOD = "known_good"  # approved as a baseline (by a person, or the first fetch of a new site)
    PROPOSED = "proposed"  # a changed page someone asked to approve, waiting for a second person's confirmation
    SUSPICIOUS = "suspicious"  # kept for review: changed, not (yet) judged
    EVIDENCE = "evidence"  # the page a content detection fired on


class Integrity(StrEnum):
    """The integrity half of a site's status on the wall."""

    UNKNOWN = "unknown"  # no page compared yet
    OK = "ok"
    CHANGED = "changed"  # differs from the baseline with some findings, below the defacement line
    DEFACED = "defaced"  # a content detection is active


class ApprovalStatus(StrEnum):
    """Where a baseline approval stands. Only a confirmed approval ever becomes the baseline in force."""

    PENDING = "pending"  # the page differed from the baseline: waits for a second person of the national centre
    CONFIRMED = "confirmed"  # in force (or was): the baseline and the restore copy come from it
    REJECTED = "rejected"
