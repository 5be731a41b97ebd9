"""Every bus subject, in one place. A subject names a fact that has been committed."""

EVENTS_ACCEPTED = "mamori.events.accepted"  # payload: {"batch_id", "org", "files", "count"}
DETECTIONS = "mamori.detections"  # payload: serialised Detection list (producers outside the DB path)
ALERTS_CHANGED = "mamori.alerts.changed"  # payload: {"alert_id", "org", "change"}
WEBSITE_CHECKED = "mamori.websites.checked"
INCIDENTS_CHANGED = "mamori.incidents.changed"  # payload: {"incident_id", "org", "change"}
WEBSITES_CHANGED = "mamori.websites.changed"  # payload: {"site_id", "org", "change"}: created/updated/deleted/check

ALL = (EVENTS_ACCEPTED, DETECTIONS, ALERTS_CHANGED, WEBSITE_CHECKED, INCIDENTS_CHANGED, WEBSITES_CHANGED)
