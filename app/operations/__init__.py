"""Operating the service: health checks, logs, metrics, and the checks a production makes before it serves anyone."""
