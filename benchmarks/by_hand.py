"""Benchmark 5: the doctor against what a user would do by hand with the SDK.

The script below creates a room, lists it, mints and validates a join token and deletes the
room, as its own process. The doctor answers those questions (and more) with LK2xx/LK4xx.
"""

from __future__ import annotations

import sys

from common import ROOT, doctor_env, median_ms, run_json, table, timed
from livekit_server import LiveKitServer

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5

SCRIPT = r'''
import asyncio, os, uuid
import aiohttp
from livekit import api

async def main():
    async with api.LiveKitAPI() as lk:
        name = "byhand-" + uuid.uuid4().hex[:8]
        await lk.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=10))
        rooms = await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))
        assert [r.name for r in rooms.rooms] == [name]
        token = api.AccessToken().with_identity("by-hand").with_grants(api.VideoGrants(room_join=True, room=name)).to_jwt()
        http = os.environ["LIVEKIT_URL"].replace("ws", "http", 1)
        async with aiohttp.ClientSession() as s:
            async with s.get(http + "/rtc/validate", headers={"Authorization": "Bearer " + token}) as resp:
                assert resp.status == 200, resp.status
        await lk.room.delete_room(api.DeleteRoomRequest(room=name))

asyncio.run(main())
'''


def main() -> None:
    args = ["--project", str(ROOT / "examples" / "voice_backend"), "--no-snapshot"]
    with LiveKitServer() as server:
        env = doctor_env(**server.env())
        script = [timed([sys.executable, "-c", SCRIPT], env=env)[0] for _ in range(RUNS)]
        creds = [run_json([*args, "--select", "LK2,LK4"], env)[0] for _ in range(RUNS)]
        full = [run_json(args, env)[0] for _ in range(RUNS)]
    base = sorted(script)[len(script) // 2]
    rows = [
        ("by-hand SDK script (create, list, token, validate, delete)", median_ms(script), "1.00"),
        ("doctor --select LK2,LK4 (credentials, tokens, reachability)", median_ms(creds),
         f"{sorted(creds)[len(creds) // 2] / base:.2f}"),
        ("doctor, every check incl. media", median_ms(full), f"{sorted(full)[len(full) // 2] / base:.2f}"),
    ]
    print(f"Doctor vs the same questions by hand, {RUNS} runs each, medians\n")
    print(table(["what", "wall clock", "ratio to script"], rows))


if __name__ == "__main__":
    main()
