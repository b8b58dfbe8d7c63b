"""Activities: every side effect, each small and idempotent, one JSON dict in and one JSON dict out."""
