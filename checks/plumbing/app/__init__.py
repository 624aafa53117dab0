"""The app's own session endpoint."""
