"""Server plumbing: configuration, database, security, logging and errors."""
