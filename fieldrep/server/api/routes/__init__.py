"""One module per resource: health, auth, devices, sync, conflicts, audit."""
