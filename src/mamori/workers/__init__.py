"""Bus consumers and background loops: thin adapters that call the domain services."""
