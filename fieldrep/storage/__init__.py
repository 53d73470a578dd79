"""Local storage: models, migrations and the services every front end uses."""
