"""The LiveKit plumbing every check and subcommand shares, and that holds no check itself:
settings, the URL target, the HTTP client, the server API, tokens, network probes, the signal
join and the SDK probe. Check modules import this wing and the engine's plugin API, never
each other."""
