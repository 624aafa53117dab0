"""Voice agents: their code, workers, dispatches, presence and turns."""
