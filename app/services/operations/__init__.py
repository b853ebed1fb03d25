"""Running the service: readiness, metrics, production configuration checks."""
