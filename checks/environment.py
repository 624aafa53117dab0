"""LK0xx: what support asks first: platform, resources, LiveKit packages, local servers."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import TYPE_CHECKING

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.config.target import Target, target
from livekit_doctor.plugin import Context, Result, Severity, check, code, finding, judged, passed, warned

if TYPE_CHECKING:
    from livekit_doctor.checks.plumbing.processes.local_servers import Welcome

LIVEKIT_DISTRIBUTIONS = ("livekit", "livekit-api", "livekit-protocol", "livekit-agents", "aiohttp", "protobuf", "PyJWT")
LOW_MEMORY_BYTES = 512 * 1024 * 1024
HIGH_LOAD_PER_CPU = 4.0  # a busy build is normal; LK501 measures its own starvation (media_health.LagMeter)


def in_virtualenv() -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


@check("LK001", "Platform and Python", area=Area.ENVIRONMENT, timeout=5)
def platform_info(ctx: Context) -> Result:
    """OS, kernel, Python and whether the doctor runs in a virtualenv."""
    facts = {
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "virtualenv": in_virtualenv(),
    }
    where = "virtualenv" if facts["virtualenv"] else "no virtualenv"
    return passed(
        f"{facts['os']} {facts['os_release']} ({facts['machine']}), Python {facts['python_version']}, {where}",
        facts=facts,
    )


def assess_resources(cpus: int, load1: float, available: int, total: int) -> tuple[str, list[tuple[str, str]]]:
    """Pure judgement of resource figures, kept apart from psutil so it is testable: the summary and the
    problems as (finding code, what was seen)."""
    problems = []
    if available < LOW_MEMORY_BYTES:
        problems.append(("low-memory", f"only {available / 2**20:.0f} MiB memory available"))
    if cpus and load1 / cpus > HIGH_LOAD_PER_CPU:
        problems.append(("cpu-starved", f"load {load1:.1f} on {cpus} CPUs (over {HIGH_LOAD_PER_CPU:g} per CPU)"))
    summary = f"{cpus} CPUs, load {load1:.2f}, {available / 2**30:.1f} of {total / 2**30:.1f} GiB memory available"
    return summary, problems


RESOURCE_FIXES = {
    "cpu-starved": "Wait for the load to drop, or run the doctor elsewhere: audio frames arrive late or not at all "
                   "on a starved host, and timeouts follow.",
    "low-memory": "Free memory (stop other work, or give the container more) before testing media: a host that "
                  "swaps misses real-time deadlines.",
}


@check("LK002", "CPU and memory", area=Area.ENVIRONMENT, timeout=5, codes=(
    code("cpu-starved", f"the load average is above {HIGH_LOAD_PER_CPU:g} per CPU: what runs here waits for a CPU "
                        "(a consequence is reported only where a failure it explains names it)"),
    code("low-memory", f"less than {LOW_MEMORY_BYTES // 2**20} MiB of memory is available"),
))
def resources(ctx: Context) -> Result:
    """CPU count, load and free memory: media stutters or times out on a starved machine.

    A warning here is context, not a root cause: the checks whose failures starvation explains
    (timeouts, late media) name LK002.cpu-starved among their causes, and only then does it lead.
    """
    import psutil

    cpus = psutil.cpu_count() or 0
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    mem = psutil.virtual_memory()
    summary, problems = assess_resources(cpus, load1, mem.available, mem.total)
    facts = {"cpus": cpus, "load1": round(load1, 2), "memory_available": mem.available, "memory_total": mem.total}
    findings = [finding(kind, Severity.WARN, seen, fix=RESOURCE_FIXES[kind]) for kind, seen in problems]
    result = judged(findings, summary=summary, facts=facts)
    return result.replace(summary=f"{summary}: {'; '.join(seen for _, seen in problems)}") if problems else result


def installed_versions(names: tuple[str, ...] = LIVEKIT_DISTRIBUTIONS) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@check("LK003", "LiveKit packages (doctor's interpreter)", area=Area.ENVIRONMENT, timeout=5)
def packages(ctx: Context) -> Result:
    """Versions of the LiveKit-related distributions installed beside the doctor."""
    versions = installed_versions()
    present = [f"{name} {v}" for name, v in versions.items() if v]
    missing = [name for name, v in versions.items() if not v]
    summary = ", ".join(present) if present else "no LiveKit-related package installed"
    details = f"not installed: {', '.join(missing)}" if missing else ""
    return passed(summary, details=details, facts={"versions": versions, "python": sys.executable})


def _listing(procs: list[dict[str, object]]) -> str:
    return "; ".join(f"pid {p['pid']} listening on {', '.join(map(str, p['tcp_listen_ports'])) or 'no TCP port'}"
                     for p in procs)


def _client_url(t: Target, port: int) -> str:
    """The URL for a signalling port found by a plain-HTTP probe (so ws/http, whatever the URL said)."""
    host = f"[{t.host}]" if ":" in t.host else t.host
    return f"{'http' if t.scheme in ('http', 'https') else 'ws'}://{host}:{port}"


def _checked(welcome: Welcome) -> str:
    return f"checked with /rtc/validate: {welcome.said}"


@check("LK004", "Local LiveKit server processes", area=Area.ENVIRONMENT, timeout=5, codes=(
    code("not-signalling-port", "the URL's port belongs to a LiveKit server on this machine but is not its signalling "
                                "(HTTP/WebSocket) port: it is its ICE/TCP, TURN or another service port"),
    code("no-server-on-port", "nothing listens on the URL's (loopback) port while LiveKit servers run here on "
                              "other ports"),
    code("other-server-refuses", "a lead, not a fix: a LiveKit server on another port here refuses the configured "
                                 "credentials, so it is not this setup's server"),
    code("other-server-unchecked", "a lead: a LiveKit server on another port here, not known to accept the "
                                   "configured credentials (none configured, or it gave no verdict)"),
    code("stopped-server", "a lead: a LiveKit server process here is stopped (SIGSTOP, Ctrl-Z) and answers nothing"),
))
async def servers(ctx: Context) -> Result:
    """LiveKit server processes on this machine and the TCP ports they listen on; when the URL misses them,
    the other servers' signalling ports, offered only once they are seen to accept the configured credentials."""
    from livekit_doctor.checks.plumbing.processes import local_servers as here  # asyncio, psutil: not for `--help`

    t = target(ctx)  # the resolved URL (flags, env, .env, lk config, dev defaults): the port the app uses
    local = t is not None and t.host_kind == "loopback"
    procs = await here.local_servers(t.host if local else "127.0.0.1")
    port = t.port if t is not None else None
    facts: dict[str, object] = {"processes": procs, "expected_port": port}
    if not procs:
        return passed("no LiveKit server process on this machine", facts=facts)
    described = _listing(procs)
    fine = passed(f"{len(procs)} running: {described}", facts=facts)
    if t is None or not local:
        return fine
    owner = next((p for p in procs if port in p["tcp_listen_ports"]), None)
    if owner is not None and (owner["status"] == "stopped" or owner["signalling_port"] in (port, None)):
        return fine  # its own port (LK404 names a paused server), or a server with no signalling port to offer
    if owner is None and await here.accepts_tcp(t.host, port):  # something else answers there: LK404 says what
        return fine
    if owner is not None:
        return await _not_signalling_port(ctx, t, owner, facts)
    return await _no_server_on_port(ctx, t, procs, described, facts)


async def _not_signalling_port(ctx: Context, t: Target, owner: dict, facts: dict[str, object]) -> Result:
    http = owner["signalling_port"]
    from livekit_doctor.checks.plumbing.processes.local_servers import welcomes

    welcome = (await welcomes(ctx, t.host, [http]))[http]
    facts["signalling_port"] = http
    facts["credentials_checked"] = {str(http): welcome.accepted}
    url = _client_url(t, http)
    summary = (f"port {t.port} belongs to the LiveKit server (pid {owner['pid']}) but is not its signalling port: that "
               f"is {http} ({t.port} is its ICE/TCP, TURN or another service port)")
    if welcome.accepted:
        fix = (f"Its signalling port {http} accepts these credentials ({_checked(welcome)}): set LIVEKIT_URL={url}; "
               "clients and the server SDK talk HTTP and WebSocket to the signalling port only.")
    elif welcome.accepted is False:
        fix = (f"Its signalling port is {http}, but it refuses these credentials ({welcome.cause}; {_checked(welcome)}): "
               f"LIVEKIT_URL={url} alone will not work; use the key and secret this server is started with too "
               "(its --keys, LIVEKIT_KEYS or key_file).")
    else:
        fix = (f"Its signalling (HTTP/WebSocket) port is {http}; whether it accepts these credentials is not known "
               f"({welcome.said}): point LIVEKIT_URL at port {http} and run the doctor again.")
    return warned(summary, code="not-signalling-port", evidence=(f"port {http}: {welcome.said}",), fix=fix, facts=facts)


async def _no_server_on_port(ctx: Context, t: Target, procs: list[dict], described: str,
                             facts: dict[str, object]) -> Result:
    """Nothing on the URL's port: the other servers' signalling ports, each asked whether it takes these credentials;
    only one that does is offered as the fix, the others are leads with what is known about them."""
    from livekit_doctor.checks.plumbing.processes.local_servers import welcomes

    running = [p for p in procs if p["signalling_port"] is not None and p["status"] != "stopped"]
    heard = await welcomes(ctx, t.host, [p["signalling_port"] for p in running])
    facts["signalling_ports"] = [{"pid": p["pid"], "port": p["signalling_port"],
                                  "accepts_credentials": heard[p["signalling_port"]].accepted} for p in running]
    accepting = [p for p in running if heard[p["signalling_port"]].accepted]
    stopped = [p for p in procs if p["status"] == "stopped"]
    if accepting:
        http = accepting[0]["signalling_port"]
        facts["signalling_port"] = http
        fix = (f"The LiveKit server on port {http} (pid {accepting[0]['pid']}) accepts these credentials "
               f"({_checked(heard[http])}): set LIVEKIT_URL={_client_url(t, http)}, its signalling (HTTP/WebSocket) "
               "port (the other ports it listens on are ICE/TCP, TURN or metrics, not for clients' URLs).")
    else:
        fix = (f"Start this setup's server with port {t.port} (`port:` in its config, 7880 by default), or point "
               "LIVEKIT_URL at the port of the server that holds these credentials"
               + (" (none of the servers running here accepts them)." if running else "."))
    found = [finding("no-server-on-port", Severity.WARN, f"{len(procs)} running, none listening on port {t.port}: "
                                                         f"{described}", fix=fix,
                     evidence=[f"port {p['signalling_port']}: {heard[p['signalling_port']].said}" for p in accepting])]
    for p in running:
        http, welcome = p["signalling_port"], heard[p["signalling_port"]]
        if welcome.accepted is False:
            found.append(finding("other-server-refuses", Severity.NOTE,
                                 f"a LiveKit server on port {http} (pid {p['pid']}) refuses these credentials "
                                 f"({welcome.cause}): not this setup's server", evidence=[welcome.said]))
        elif welcome.accepted is None:
            found.append(finding("other-server-unchecked", Severity.NOTE,
                                 f"a LiveKit server listens on port {http} (pid {p['pid']}); whether it accepts "
                                 f"these credentials is unknown: {welcome.said}"))
    for p in stopped:
        found.append(finding("stopped-server", Severity.NOTE,
                             f"the LiveKit server pid {p['pid']} is stopped (SIGSTOP or Ctrl-Z): it answers nothing, "
                             "and whether it is this setup's server is unknown",
                             fix=f"`kill -CONT {p['pid']}` if it is this setup's server."))
    details = "stopped (SIGSTOP) processes: " + ", ".join(str(p["pid"]) for p in stopped) if stopped else ""
    return judged(found, details=details, facts=facts)


CHECKS = [platform_info, resources, packages, servers]
