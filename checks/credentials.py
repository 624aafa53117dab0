"""LK201-LK203: are the URL, key and secret there, well-formed and safe to use?"""

from __future__ import annotations

import socket
import stat
from pathlib import Path

from livekit_doctor.checks.plumbing.options import settings_options
from livekit_doctor.checks.plumbing.settings import DEV_DEFAULTS, FIELDS, LiveKitSettings, livekit_settings
from livekit_doctor.checks.plumbing.target import UrlError, host_kind, parse_url, target
from livekit_doctor.plugin import Context, Result, check, failed, passed, shorten, skipped, warned

SCHEMES = {
    "ws": "plain WebSocket for clients; the server API uses http:// on the same host",
    "wss": "WebSocket over TLS for clients; the server API uses https:// on the same host",
    "http": "plain HTTP for the server API; clients connect with ws:// on the same host",
    "https": "HTTPS for the server API; clients connect with wss:// on the same host",
}


LIVEKIT_PATHS = ("/rtc", "/rtc/v1", "/rtc/validate", "/twirp")  # what the SDKs append to the URL themselves


def display_value(name: str, value: str | None) -> str:
    """How a setting may be shown anywhere: the secret never, the key shortened."""
    if not value:
        return "(not set)"
    if name == "api_secret":
        return f"[redacted, {len(value)} characters]"
    if name == "api_key":
        return shorten(value)
    return value


def config_facts(s: LiveKitSettings) -> dict[str, dict[str, str]]:
    return {name: {"value": display_value(name, getattr(s, name)), "source": s.sources.get(name, "")}
            for name in FIELDS}


@check("LK201", "Credentials found", area="credentials", timeout=5)
def credentials_found(ctx: Context) -> Result:
    """Where the URL, API key and secret come from; which source wins when two disagree."""
    s = livekit_settings(ctx)
    facts = {"config": config_facts(s), "looked_in": list(s.looked_in)}
    where = ", ".join(f"{name.replace('_', ' ')} from {s.sources[name]}" for name in FIELDS if name in s.sources)
    missing = [var for name, var in FIELDS.items() if not getattr(s, name)]
    if missing:
        unread = f": {'; '.join(s.problems)}" if s.problems else ""  # the likely cause: a source that exists, unread
        return failed(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set" + (f" ({where})" if where else "")
            + unread,
            details="Looked in: " + "; ".join(s.looked_in) + ("\n" + "\n".join(s.problems) if s.problems else ""),
            fix=f"Set {', '.join(missing)} in the environment or in the project's .env, e.g.\n"
                "  LIVEKIT_URL=wss://<project>.livekit.cloud  LIVEKIT_API_KEY=API...  LIVEKIT_API_SECRET=...\n"
                "(for a local server: `livekit-server --dev` gives ws://localhost:7880, devkey, secret).",
            facts=facts,
        )
    conflicts = s.conflicts
    if conflicts or s.problems:
        lines = [f"{FIELDS[name]}: {winner} wins over a different value in {loser}" for name, winner, loser in conflicts]
        return warned(
            "; ".join(lines + list(s.problems)),
            details=where,
            fix="Keep each value in one place: remove the overridden entries (often a stale .env or an exported "
                "variable left in the shell) so that the app and the doctor read the same credentials.",
            facts=facts,
        )
    return passed(where, facts=facts)


@check("LK202", "Server URL", area="credentials", timeout=5)
def server_url(ctx: Context) -> Result:
    """The URL parses, has a LiveKit scheme, no path or query, and its host resolves."""
    s = livekit_settings(ctx)
    if not s.url:
        return skipped("no URL configured (see LK201)", caused_by=("LK201",))
    url = s.url
    if s.raw["url"] != url:
        return failed(f"the URL from {s.sources['url']} has surrounding whitespace or a newline",
                      fix="Remove the whitespace around LIVEKIT_URL (check for a trailing newline or space).")
    try:
        t = parse_url(url)
    except UrlError as exc:
        scheme_wrong = str(exc).startswith("scheme")
        return failed(str(exc), fix="Write the URL as wss://host (TLS) or ws://host:7880 (local, plain)." if scheme_wrong
                      else "Use ws[s]://host[:port], e.g. ws://localhost:7880.")
    facts = {"scheme": t.scheme, "host": t.host, "port": t.port if t.explicit_port else None}
    notes = []
    if t.path.rstrip("/") in LIVEKIT_PATHS:
        base = f"{t.scheme}://{t.host}" + (f":{t.port}" if t.explicit_port else "")
        return failed(f"the URL ends in {t.path}, a path the SDKs add themselves: the server SDK posts to "
                      f"{url.rstrip('/')}/twirp/... and gets 404 (an app endpoint using it answers 500), clients open "
                      f"{t.path.rstrip('/')}/rtc", facts=facts,
                      fix=f"Set LIVEKIT_URL={base} (no path) in {s.sources['url']}.")
    if t.path not in ("", "/"):
        notes.append(f"it has a path ({t.path}): the SDKs append /rtc and /twirp themselves, so a path "
                     "only works behind a proxy that strips it")
    if t.query:
        notes.append("it has a query or fragment, which the SDKs do not expect")
    try:
        infos = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_STREAM)
        facts["addresses"] = sorted({info[4][0] for info in infos})
    except socket.gaierror as exc:
        return failed(f"host {t.host} does not resolve: {exc.strerror}",
                      fix="Check the host name for typos; a LiveKit Cloud URL looks like wss://<project>.livekit.cloud.",
                      facts=facts)
    fixes = ["Use the bare server URL: ws://host:7880 locally, wss://host in production."] if notes else []
    # plain ws:// is normal on loopback, a LAN, a Docker network (ws://livekit:7880): judge where the host resolves to
    if t.scheme in ("ws", "http") and any(host_kind(a) == "public" for a in facts["addresses"]):
        notes.append(f"{t.scheme}:// to a public address sends tokens unencrypted; browsers on https pages "
                     "refuse ws:// (mixed content)")
        fixes.append(f"Serve the server behind TLS (a proxy or load balancer with a certificate for {t.host}) and use "
                     f"{'wss' if t.scheme == 'ws' else 'https'}://{t.host}.")
    meaning = SCHEMES[t.scheme]
    if notes:
        return warned(f"{url}: " + "; ".join(notes), details=meaning, fix=" ".join(fixes), facts=facts)
    return passed(f"{url} ({meaning}); {t.host} resolves to {', '.join(facts['addresses'])}", facts=facts)


def _damage(value: str) -> str | None:
    if value != value.strip():
        edge = value[-1] if value[-1:].isspace() else value[0]
        return {"\n": "a newline", "\r": "a carriage return (CRLF file)", "\t": "a tab"}.get(edge, "whitespace")
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        return "quotes kept as part of the value"
    return None


def _in_home(path: Path, ctx: Context) -> bool:
    """A developer's own checkout: the default 0644 of a .env there is not a finding (a server's is)."""
    home = ctx.env.get("HOME")
    return bool(home) and path.resolve().is_relative_to(Path(home).resolve())


def looks_like_secret(value: str) -> bool:
    return len(value) >= 32 and not value.startswith("API")


def looks_like_key(value: str) -> bool:
    return value.startswith("API") and len(value) < 24


@check("LK203", "API key and secret", area="credentials", timeout=5)
def key_and_secret(ctx: Context) -> Result:
    """Whitespace or quotes inside values, short or dev secrets, swapped values, a .env others can read."""
    s = livekit_settings(ctx)
    if not (s.api_key and s.api_secret):
        return skipped("no API key and secret configured (see LK201)", caused_by=("LK201",))
    problems, warnings = [], []
    for name in ("api_key", "api_secret"):
        damage = _damage(s.raw[name])
        if damage:
            problems.append(f"{FIELDS[name]} from {s.sources[name]} contains {damage}")
    key, secret = s.api_key, s.api_secret
    if looks_like_secret(key) and looks_like_key(secret):
        problems.append(f"key and secret look swapped: the key is {len(key)} characters, the secret {shorten(secret)}")
    t = target(ctx)
    dev = key == DEV_DEFAULTS["api_key"] and secret == DEV_DEFAULTS["api_secret"]
    if dev and t is not None and t.host_kind != "loopback":
        problems.append(f"the dev keys (devkey/secret) are used with {t.host}: anyone who knows them can mint tokens")
    elif len(secret) < 32 and not dev and not problems:
        warnings.append(f"the secret is {len(secret)} characters; the server wants at least 32")
    if s.env_file is not None and s.env_file.is_file() and not _in_home(s.env_file, ctx):
        mode = s.env_file.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.append(f"{s.env_file} is readable by other users (mode {stat.filemode(mode)})")
    facts = {"api_key": shorten(key), "secret_length": len(secret), "dev_keys": dev}
    if problems:
        return failed("; ".join(problems + warnings), facts=facts,
                      fix="Copy the key and secret again from the server's `keys:` (or the LiveKit Cloud console) "
                          "without quotes or trailing newline; never use devkey/secret outside localhost.")
    if warnings:
        return warned("; ".join(warnings), facts=facts,
                      fix="Generate a strong pair with `livekit-server generate-keys`; `chmod 600 .env`.")
    return passed(f"key {shorten(key)}, secret of {len(secret)} characters, no stray whitespace", facts=facts)


CHECKS = [credentials_found, server_url, key_and_secret]
OPTIONS = settings_options()
