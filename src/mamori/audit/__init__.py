"""The append-only audit log: who changed what, when. Rows are never updated or deleted."""
