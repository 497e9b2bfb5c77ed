"""Migration models: cross-border (single-period and all-country gravity), forced and internal migration."""
