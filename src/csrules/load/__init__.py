"""Loading rule files: parsing TOML and locating its contents in the source."""
