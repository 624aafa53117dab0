"""LK201-LK203: are the URL, key and secret there, well-formed and safe to use?"""

from __future__ import annotations

import socket

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.config.options import settings_options
from livekit_doctor.checks.plumbing.config.settings import (DEV_DEFAULTS, FIELDS, LiveKitSettings, livekit_settings,
                                                    other_readers)
from livekit_doctor.checks.plumbing.config.target import UrlError, host_kind, parse_url, target
from livekit_doctor.plugin import Context, Result, Severity, check, code, failed, finding, judged, shorten, skipped

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


@check("LK201", "Credentials found", area=Area.CREDENTIALS, timeout=5, codes=(
    code("missing", "LIVEKIT_URL, LIVEKIT_API_KEY or LIVEKIT_API_SECRET is set nowhere the doctor looked",
         explained_by=("LK201.source-unreadable",)),
    code("source-unreadable", "a .env or lk CLI config exists but cannot be read (a pipe, not UTF-8, too large, "
                              "broken YAML)"),
    code("overridden", "a value is set in two places with different values: the higher one wins, and an app that "
                       "reads only the other gets different credentials"),
))
def credentials_found(ctx: Context) -> Result:
    """Where the URL, API key and secret come from; which source wins when two disagree."""
    s = livekit_settings(ctx)
    facts = {"config": config_facts(s), "looked_in": list(s.looked_in)}
    where = ", ".join(f"{name.replace('_', ' ')} from {s.sources[name]}" for name in FIELDS if name in s.sources)
    missing = [var for name, var in FIELDS.items() if not getattr(s, name)]
    found = [finding("source-unreadable", Severity.WARN, problem,
                     fix="Make the file a small UTF-8 text file the doctor and the app can read, or remove it.")
             for problem in s.problems]
    if missing:
        found.insert(0, finding(
            "missing", Severity.FAIL,
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set" + (f" ({where})" if where else ""),
            evidence=["looked in: " + "; ".join(s.looked_in)],
            fix=f"Set {', '.join(missing)} in the environment or in the project's .env, e.g.\n"
                "  LIVEKIT_URL=wss://<project>.livekit.cloud  LIVEKIT_API_KEY=API...  LIVEKIT_API_SECRET=...\n"
                "(for a local server: `livekit-server --dev` gives ws://localhost:7880, devkey, secret)."))
    found += [finding("overridden", Severity.WARN, f"{FIELDS[name]}: {winner} wins over a different value in {loser}",
                      fix="Keep each value in one place: remove the overridden entries (often a stale .env or an "
                          "exported variable left in the shell) so that the app and the doctor read the same "
                          "credentials.")
              for name, winner, loser in s.conflicts]
    return judged(found, where, facts=facts)


@check("LK202", "Server URL", area=Area.CREDENTIALS, timeout=5, codes=(
    code("whitespace", "the URL has surrounding whitespace or a newline"),
    code("bad-scheme", "the URL's scheme is not ws, wss, http or https (or it has none)"),
    code("unparsable", "the URL does not parse (a port that is not a number, no host)"),
    code("livekit-path", "the URL ends in a path the SDKs add themselves (/rtc, /twirp ...)"),
    code("path", "the URL has a path, which only works behind a proxy that strips it"),
    code("query", "the URL has a query or fragment"),
    code("no-such-host", "the URL's host does not resolve"),
    code("plain-to-public", "ws:// or http:// to a public address: tokens travel unencrypted, https pages refuse it"),
))
def server_url(ctx: Context) -> Result:
    """The URL parses, has a LiveKit scheme, no path or query, and its host resolves."""
    s = livekit_settings(ctx)
    if not s.url:
        return skipped("no URL configured (see LK201)", caused_by=("LK201",))
    url = s.url
    if s.raw["url"] != url:
        return failed(f"the URL from {s.sources['url']} has surrounding whitespace or a newline", code="whitespace",
                      fix="Remove the whitespace around LIVEKIT_URL (check for a trailing newline or space).")
    try:
        t = parse_url(url)
    except UrlError as exc:
        scheme_wrong = exc.kind == "scheme"
        return failed(str(exc), code="bad-scheme" if scheme_wrong else "unparsable", fix="Write the URL as wss://host (TLS) or ws://host:7880 (local, plain)." if scheme_wrong
                      else "Use ws[s]://host[:port], e.g. ws://localhost:7880.")
    facts = {"scheme": t.scheme, "host": t.host, "port": t.port if t.explicit_port else None}
    if t.path.rstrip("/") in LIVEKIT_PATHS:
        base = f"{t.scheme}://{t.host}" + (f":{t.port}" if t.explicit_port else "")
        return failed(f"the URL ends in {t.path}, a path the SDKs add themselves: the server SDK posts to "
                      f"{url.rstrip('/')}/twirp/... and gets 404 (an app endpoint using it answers 500), clients open "
                      f"{t.path.rstrip('/')}/rtc", facts=facts, code="livekit-path",
                      fix=f"Set LIVEKIT_URL={base} (no path) in {s.sources['url']}.")
    try:
        infos = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_STREAM)
        facts["addresses"] = sorted({info[4][0] for info in infos})
    except socket.gaierror as exc:
        return failed(f"host {t.host} does not resolve: {exc.strerror}", code="no-such-host",
                      fix="Check the host name for typos; a LiveKit Cloud URL looks like wss://<project>.livekit.cloud.",
                      facts=facts)
    bare = "Use the bare server URL: ws://host:7880 locally, wss://host in production."
    found = []
    if t.path not in ("", "/"):
        found.append(finding("path", Severity.WARN, f"{url}: it has a path ({t.path}): the SDKs append /rtc and /twirp "
                             "themselves, so a path only works behind a proxy that strips it", fix=bare))
    if t.query:
        found.append(finding("query", Severity.WARN, f"{url}: it has a query or fragment, which the SDKs do not expect",
                             fix=bare))
    # plain ws:// is normal on loopback, a LAN, a Docker network (ws://livekit:7880): judge where the host resolves to
    if t.scheme in ("ws", "http") and any(host_kind(a) == "public" for a in facts["addresses"]):
        found.append(finding(
            "plain-to-public", Severity.WARN, f"{url}: {t.scheme}:// to a public address sends tokens unencrypted; "
            "browsers on https pages refuse ws:// (mixed content)",
            fix=f"Serve the server behind TLS (a proxy or load balancer with a certificate for {t.host}) and use "
                f"{'wss' if t.scheme == 'ws' else 'https'}://{t.host}."))
    meaning = SCHEMES[t.scheme]
    return judged(found, f"{url} ({meaning}); {t.host} resolves to {', '.join(facts['addresses'])}", facts=facts,
                  details=meaning if found else "")


def _damage(value: str) -> str | None:
    if value != value.strip():
        edge = value[-1] if value[-1:].isspace() else value[0]
        return {"\n": "a newline", "\r": "a carriage return (CRLF file)", "\t": "a tab"}.get(edge, "whitespace")
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        return "quotes kept as part of the value"
    return None


def looks_like_secret(value: str) -> bool:
    return len(value) >= 32 and not value.startswith("API")


def looks_like_key(value: str) -> bool:
    return value.startswith("API") and len(value) < 24


DAMAGE_FIX = ("Copy the {what} again from the server's `keys:` (or the LiveKit Cloud console) without quotes or "
              "trailing newline (without quotes or whitespace around the value in {source}).")


@check("LK203", "API key and secret", area=Area.CREDENTIALS, timeout=5, codes=(
    code("secret-damaged", "the secret holds whitespace, a newline or quotes around it (an env-file loader kept them)"),
    code("key-damaged", "the key holds whitespace, a newline or quotes around it"),
    code("keys-swapped", "the key looks like a secret and the secret like a key"),
    code("dev-keys-remote", "the public dev keys (devkey/secret) are used with a server that is not on this machine"),
    code("short-secret", "the secret is shorter than the 32 characters the server asks for (hygiene: it works)"),
    code("env-readable", "the .env holding the secret can be read by other users of this machine (hygiene)"),
))
def key_and_secret(ctx: Context) -> Result:
    """Whitespace or quotes inside values, swapped values, dev keys off this machine; short secrets and
    a .env others can read as notes."""
    s = livekit_settings(ctx)
    if not (s.api_key and s.api_secret):
        return skipped("no API key and secret configured (see LK201)", caused_by=("LK201",))
    found = [finding(f"{name.removeprefix('api_')}-damaged", Severity.FAIL,
                     f"{FIELDS[name]} from {s.sources[name]} contains {damage}",
                     fix=DAMAGE_FIX.format(what=name.replace("api_", "API "), source=s.sources[name]))
             for name in ("api_key", "api_secret") if (damage := _damage(s.raw[name]))]
    key, secret = s.api_key, s.api_secret
    if looks_like_secret(key) and looks_like_key(secret):
        found.append(finding("keys-swapped", Severity.FAIL, f"key and secret look swapped: the key is {len(key)} "
                             f"characters, the secret {shorten(secret)}",
                             fix="Swap them: LIVEKIT_API_KEY is the short API... name, LIVEKIT_API_SECRET the long "
                                 "random string (the key and secret from the server's `keys:`)."))
    t = target(ctx)
    dev = key == DEV_DEFAULTS["api_key"] and secret == DEV_DEFAULTS["api_secret"]
    if dev and t is not None and t.host_kind != "loopback":
        found.append(finding("dev-keys-remote", Severity.FAIL, f"the dev keys (devkey/secret) are used with {t.host}: "
                             "anyone who knows them can mint tokens",
                             fix="Never use devkey/secret outside localhost: generate a pair with `livekit-server "
                                 "generate-keys` and configure it on the server and here."))
    elif len(secret) < 32 and not dev and not found:
        found.append(finding("short-secret", Severity.NOTE, f"the secret is {len(secret)} characters; the server "
                             "wants at least 32", fix="Generate a strong pair with `livekit-server generate-keys`."))
    in_file = any(src == ".env" or src.startswith("--env-file") for src, _ in s.candidates.get("api_secret", []))
    readers = other_readers(s.env_file) if s.env_file is not None and in_file else None
    if readers:
        found.append(finding("env-readable", Severity.NOTE, f"{s.env_file} is readable by {readers}",
                             fix=f"`chmod 600 {s.env_file}`"))
    facts = {"api_key": shorten(key), "secret_length": len(secret), "dev_keys": dev}
    return judged(found, f"key {shorten(key)}, secret of {len(secret)} characters, no stray whitespace", facts=facts)


CHECKS = [credentials_found, server_url, key_and_secret]
OPTIONS = settings_options()
