"""HTTP layer: dependencies and one routes module per resource."""
