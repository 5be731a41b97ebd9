"""mamori: a defence platform for a national cyber-defence centre."""
