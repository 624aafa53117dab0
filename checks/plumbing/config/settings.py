"""Where the LiveKit URL, API key and secret come from, resolved once per run.

Every check and subcommand reads them through `livekit_settings(ctx)` so that all agree on the
values and on where each came from. Values come stripped of surrounding whitespace, as the
SDKs would need them; the raw values are kept for LK202/LK203, which name the damage. Precedence, highest first, like the LiveKit tools:
command-line flags; the environment (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET);
`--env-file` or the project's `.env`; the `lk` CLI's default project
(~/.livekit/cli-config.yaml); the local dev defaults, only when nothing else set any of the
three and a server listens on localhost:7880.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.plugin import Context

FIELDS = {"url": "LIVEKIT_URL", "api_key": "LIVEKIT_API_KEY", "api_secret": "LIVEKIT_API_SECRET"}
DEV_DEFAULTS = {"url": "ws://localhost:7880", "api_key": "devkey", "api_secret": "secret"}
DEV_SOURCE = "dev defaults (a server listens on localhost:7880)"


@dataclass(frozen=True)
class LiveKitSettings:
    url: str | None = None  # stripped
    api_key: str | None = None
    api_secret: str | None = None
    raw: dict[str, str] = field(default_factory=dict)  # field -> the value exactly as its source holds it
    sources: dict[str, str] = field(default_factory=dict)  # field -> "--url", "env LIVEKIT_URL", ".env", ...
    candidates: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # field -> every (source, value)
    looked_in: tuple[str, ...] = ()  # every source consulted, in precedence order
    problems: tuple[str, ...] = ()  # sources that exist but could not be read
    env_file: Path | None = None  # the .env file consulted, if any

    @property
    def complete(self) -> bool:
        return bool(self.url and self.api_key and self.api_secret)

    @property
    def conflicts(self) -> list[tuple[str, str, str]]:
        """(field, winning source, overridden source) for each lower source with a different value (two URLs
        that reach the same server are one value)."""
        from livekit_doctor.checks.plumbing.config.target import same_server

        out = []
        for name, found in self.candidates.items():
            winner_source, winner = found[0]
            out += [(name, winner_source, source) for source, value in found[1:] if value != winner
                    and not (name == "url" and same_server(value, winner))]  # localhost and 127.0.0.1: one server
        return out


def _env_file(ctx: Context) -> tuple[Path | None, str]:
    chosen = wing_options(ctx).env_file
    if chosen:
        return Path(chosen), f"--env-file {chosen}"
    default = ctx.project_dir / ".env"
    return (default, ".env") if default.is_file() else (None, ".env")


MAX_SETTINGS_BYTES = 256_000  # a .env or lk config larger than this is not one (parsing it would stall the run)


class SettingsFileError(OSError):
    """A settings file that exists but cannot be used; the message says why, in words."""


def read_settings_file(path: Path, limit: int = MAX_SETTINGS_BYTES) -> str:
    """The text of a small regular UTF-8 file. Opened without blocking and checked before reading: a named
    pipe or a device would block the run for ever, a huge file would stall it."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SettingsFileError(f"{path} could not be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a named pipe" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode) \
                or stat.S_ISBLK(info.st_mode) else "not a regular file"
            raise SettingsFileError(f"{path} is {kind}, not a settings file: not read")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SettingsFileError(f"{path} is larger than {limit // 1000} KB: not a settings file, not read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsFileError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None


def _dotenv_values(path: Path) -> dict[str, str | None]:
    import io

    from dotenv import dotenv_values

    return dict(dotenv_values(stream=io.StringIO(read_settings_file(path))))


def _lk_project(ctx: Context) -> tuple[dict[str, str], str, str | None]:
    """(values, source label, problem) from the `lk` CLI's default project."""
    home = Path(ctx.env.get("HOME") or Path.home())
    path = home / ".livekit" / "cli-config.yaml"
    label = f"lk CLI config {path}"
    if not path.is_file():
        return {}, label, None
    import yaml

    try:
        data = yaml.safe_load(read_settings_file(path)) or {}
        default = data.get("default_project")
        project = next((p for p in data.get("projects") or [] if isinstance(p, dict) and p.get("name") == default),
                       None)
    except SettingsFileError as exc:
        return {}, label, str(exc)
    except (OSError, yaml.YAMLError, AttributeError, TypeError, RecursionError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return {}, label, f"{path} could not be read: {type(exc).__name__}: {first}"
    if project is None:
        return {}, label, (f"{path} names default project {default!r}, which it does not define" if default else None)
    values = {name: str(project[name]) for name in FIELDS if project.get(name)}
    return values, f"lk CLI project {default!r}", None


def local_dev_server_listening(timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection(("localhost", 7880), timeout=timeout):
            return True
    except OSError:
        return False


def resolve(ctx: Context) -> LiveKitSettings:
    layers: list[tuple[str, dict[str, str]]] = []
    problems: list[str] = []
    options = wing_options(ctx)
    layers.append(("flags", {name: getattr(options, name) for name in FIELDS if getattr(options, name)}))
    layers.append(("env", {name: ctx.env[var] for name, var in FIELDS.items() if ctx.env.get(var)}))
    env_path, env_label = _env_file(ctx)
    if env_path is not None:
        try:
            values = _dotenv_values(env_path)
            layers.append((env_label, {name: values[var] for name, var in FIELDS.items() if values.get(var)}))
        except SettingsFileError as exc:
            problems.append(str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{env_path} could not be read: {exc}")
    lk_values, lk_label, lk_problem = _lk_project(ctx)
    layers.append((lk_label, lk_values))
    if lk_problem:
        problems.append(lk_problem)

    candidates: dict[str, list[tuple[str, str]]] = {}
    for layer, values in layers:
        for name, value in values.items():
            label = {"flags": f"--{name.replace('_', '-')}", "env": f"env {FIELDS[name]}"}.get(layer, layer)
            candidates.setdefault(name, []).append((label, value))
    if not candidates and not problems and local_dev_server_listening():  # a source that exists but is unread is
        # the user's configuration: the dev defaults never stand in for it
        candidates = {name: [(DEV_SOURCE, value)] for name, value in DEV_DEFAULTS.items()}
    for _, secret in candidates.get("api_secret", []):  # losing values are secrets too
        if secret != DEV_DEFAULTS["api_secret"]:  # the public dev secret would blank the word everywhere
            ctx.redactor.add(secret)
    looked_in = ("flags", "environment", env_label if env_path else ".env (none)", lk_label, "dev defaults")
    raw = {name: found[0][1] for name, found in candidates.items()}
    return LiveKitSettings(
        sources={name: found[0][0] for name, found in candidates.items()},
        candidates=candidates,
        looked_in=looked_in,
        problems=tuple(problems),
        env_file=env_path,
        raw=raw,
        **{name: value.strip() for name, value in raw.items()},
    )


def other_readers(path: Path) -> str | None:
    """Who besides its owner can really read `path`: the mode bit alone is not enough, every directory
    above it must let them through (a 0644 .env in a 0700 home is private). None when nobody can."""
    import stat

    try:
        info = path.stat()
        dirs = [p.stat() for p in path.resolve().parents]
    except OSError:
        return None
    mode = stat.filemode(info.st_mode)
    if info.st_mode & stat.S_IROTH and all(d.st_mode & stat.S_IXOTH for d in dirs):
        return f"every user of this machine (mode {mode}, and no directory above it closed to them)"
    members = _group_members(info.st_gid, info.st_uid)
    if info.st_mode & stat.S_IRGRP and members and all(
            d.st_mode & stat.S_IXOTH or (d.st_mode & stat.S_IXGRP and d.st_gid == info.st_gid) for d in dirs):
        return f"the members of its group ({', '.join(members[:3])}; mode {mode})"
    return None


def _group_members(gid: int, owner: int) -> list[str]:
    """Users other than the owner in group `gid` (listed members and users whose primary group it is)."""
    import grp
    import pwd

    try:
        owner_name = pwd.getpwuid(owner).pw_name
    except KeyError:
        owner_name = ""
    try:
        listed = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        listed = set()
    primary = {u.pw_name for u in pwd.getpwall() if u.pw_gid == gid}
    return sorted((listed | primary) - {owner_name})


def livekit_settings(ctx: Context) -> LiveKitSettings:
    """The run's settings, resolved on first use and shared by every check."""
    return ctx.memo("livekit.settings", lambda: resolve(ctx))
