"""The test harness itself: a port taken between picking and binding must not fail a CI run."""

import socket

from livekit_server import LiveKitServer


def test_server_moves_off_a_port_taken_before_it_binds(livekit_binary):
    server = LiveKitServer(livekit_binary)
    taken = server.rtc_tcp_port
    with socket.socket() as blocker:
        blocker.bind(("", taken))
        blocker.listen()
        with server:
            assert server.rtc_tcp_port != taken
            assert server.config["rtc"]["tcp_port"] == server.rtc_tcp_port
            assert "address already in use" not in server.log()
