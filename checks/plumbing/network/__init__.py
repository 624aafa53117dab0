"""The network and its probes: DNS, TCP, TLS, HTTP client, ICE and TURN reachability."""
