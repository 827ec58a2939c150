"""Plugin hooks (pluggy): hook specifications, the plugin manager, built-in plugins."""
