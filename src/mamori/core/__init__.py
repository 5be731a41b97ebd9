"""Pure types shared by every layer: messages, severities, errors. No I/O lives here."""
