"""The run's configuration: the resolved URL, credentials and options."""
