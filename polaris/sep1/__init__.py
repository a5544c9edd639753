"""SEP-1: the anchor's stellar.toml."""
