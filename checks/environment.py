"""LK0xx: what support asks first: platform, resources, LiveKit packages, local servers."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from livekit_doctor.checks.plumbing.probes import accepts_tcp, answers_like_livekit, signalling_port
from livekit_doctor.checks.plumbing.target import target
from livekit_doctor.plugin import Context, Result, Severity, check, code, finding, judged, passed

LIVEKIT_DISTRIBUTIONS = ("livekit", "livekit-api", "livekit-protocol", "livekit-agents", "aiohttp", "protobuf", "PyJWT")
LOW_MEMORY_BYTES = 512 * 1024 * 1024
HIGH_LOAD_PER_CPU = 4.0  # a busy build is normal; LK501 measures its own starvation (media_health.LagMeter)


def in_virtualenv() -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


@check("LK001", "Platform and Python", area="environment", timeout=5)
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


@check("LK002", "CPU and memory", area="environment", timeout=5, codes=(
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


@check("LK003", "LiveKit packages (doctor's interpreter)", area="environment", timeout=5)
def packages(ctx: Context) -> Result:
    """Versions of the LiveKit-related distributions installed beside the doctor."""
    versions = installed_versions()
    present = [f"{name} {v}" for name, v in versions.items() if v]
    missing = [name for name, v in versions.items() if not v]
    summary = ", ".join(present) if present else "no LiveKit-related package installed"
    details = f"not installed: {', '.join(missing)}" if missing else ""
    return passed(summary, details=details, facts={"versions": versions, "python": sys.executable})


def is_livekit_server(name: str, cmdline: list[str]) -> bool:
    """`livekit-server` from releases, or the `server` binary `go install` builds from livekit-server."""
    if name == "livekit-server":
        return True
    first = cmdline[0] if cmdline else ""
    return "livekit-server" in first or (os.path.basename(first) == "server" and "livekit" in first)


def maybe_livekit_server(name: str, cmdline: list[str]) -> bool:
    """A binary named `server` anywhere (`go install` to a GOBIN of the user's choice): judged by what answers."""
    return name == "server" or os.path.basename(cmdline[0] if cmdline else "") == "server"


def local_servers() -> list[dict[str, object]]:
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        info = proc.info
        name, cmdline = info.get("name") or "", info.get("cmdline") or []
        named = is_livekit_server(name, cmdline)
        if not (named or maybe_livekit_server(name, cmdline)):
            continue
        try:
            conns = proc.net_connections(kind="inet")
            ports = sorted({c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN})
            addresses = sorted({f"{c.laddr.ip}:{c.laddr.port}" for c in conns if c.status == psutil.CONN_LISTEN})
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            ports, addresses = [], []
        if not named and info.get("status") != "stopped" and signalling_port("127.0.0.1", ports) is None:
            continue  # some other program called `server`
        found.append({"pid": info["pid"], "status": info.get("status"), "tcp_listen_ports": ports, "listen": addresses})
    return found


@check("LK004", "Local LiveKit server processes", area="environment", timeout=5)
def servers(ctx: Context) -> Result:
    """LiveKit server processes on this machine and the TCP ports they listen on."""
    procs = local_servers()
    t = target(ctx)  # the resolved URL (flags, env, .env, lk config, dev defaults): the port the app uses
    port = t.port if t is not None else None
    facts = {"processes": procs, "expected_port": port}
    if not procs:
        return passed("no LiveKit server process on this machine", facts=facts)
    described = "; ".join(f"pid {p['pid']} listening on {', '.join(map(str, p['tcp_listen_ports'])) or 'no TCP port'}" for p in procs)
    if port is None or t.host_kind != "loopback":
        return passed(f"{len(procs)} running: {described}", facts=facts)
    stopped = [p for p in procs if p["status"] == "stopped"]
    owner = next((p for p in procs if port in p["tcp_listen_ports"]), None)
    if owner is not None and (owner["status"] == "stopped" or answers_like_livekit(t.host, port)):
        return passed(f"{len(procs)} running: {described}", facts=facts)  # LK404 names a paused server
    if owner is None and accepts_tcp(t.host, port):  # something else answers there: LK404 says what
        return passed(f"{len(procs)} running: {described}", facts=facts)
    others = [p for proc in procs for p in proc["tcp_listen_ports"] if p != port]
    http = signalling_port(t.host, others)
    facts["signalling_port"] = http
    if owner is not None and http is not None:
        return warned(f"port {port} belongs to the LiveKit server (pid {owner['pid']}) but is not its signalling "
                      f"port: that is {http} ({port} is its ICE/TCP, TURN or another service port)", facts=facts,
                      fix=f"Set LIVEKIT_URL={t.scheme}://{t.host}:{http}: clients and the server SDK talk HTTP and "
                          f"WebSocket to the signalling port only.")
    if owner is not None:
        return passed(f"{len(procs)} running: {described}", facts=facts)
    if http is not None:
        url = f"{t.scheme}://{t.host}:{http}"
        fix = (f"The server's signalling (HTTP/WebSocket) port is {http}: set LIVEKIT_URL={url} "
               f"(the other ports it listens on are ICE/TCP, TURN or metrics, not for clients' URLs).")
    else:
        fix = (f"Point LIVEKIT_URL at the port the server listens on, or start it with port {port} "
               "(`port:` in its config, 7880 by default).")
    return warned(
        f"{len(procs)} running, none listening on port {port}: {described}",
        facts=facts,
        details="stopped (SIGSTOP) processes: " + ", ".join(str(p["pid"]) for p in stopped) if stopped else "",
        fix=fix,
    )


CHECKS = [platform_info, resources, packages, servers]
