"""Running instances: what a completion needs in memory, built once and shared read-only."""
