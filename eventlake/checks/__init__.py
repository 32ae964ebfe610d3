"""Reading a lake back (data rows, error records, backups) and the invariant every run must hold."""
