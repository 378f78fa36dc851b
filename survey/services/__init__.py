"""Write operations: they add and flush, never commit; the caller commits once."""
