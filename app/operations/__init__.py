"""Operating the service: what the people running it see of it."""
