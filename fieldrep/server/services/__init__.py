"""Server logic independent of HTTP: scope, row store, merge, pull, auth, admin."""
