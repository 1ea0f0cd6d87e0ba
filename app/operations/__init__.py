"""Running the service: checks a production makes before it serves anyone."""
