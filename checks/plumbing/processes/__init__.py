"""Other processes on this machine (local LiveKit servers)."""
