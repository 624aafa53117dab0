"""Probe run INSIDE the target interpreter: what `livekit` resolves to there, and how its SDK is shaped.

livekit-doctor executes this file by path with the application's Python (`python sdk_probe.py
PROJECT_DIR`), so it must import nothing but the standard library and nothing of the doctor's,
and must stay compatible with old interpreters (3.7+). It never raises: every failure becomes
data. The last stdout line starting with MARKER carries one JSON object; anything the imported
packages print goes to stderr so it cannot corrupt that line.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import platform
import signal
import site
import sys

MARKER = "LIVEKIT_DOCTOR_PROBE "
DISTRIBUTIONS = (
    "livekit", "livekit-api", "livekit-protocol", "livekit-agents", "aiohttp", "protobuf", "PyJWT",
    "livekit-server-sdk-python",
)
NAMES = (
    "LiveKitAPI", "RoomService", "RoomServiceClient", "AccessToken", "VideoGrants", "VideoGrant",
    "TokenVerifier", "ServerError", "TwirpError",
)
# prefix -> (module under livekit.api, class): what `LiveKitAPI().room` etc. are instances of
SERVICES = (
    ("room", "room_service", "RoomService"),
    ("egress", "egress_service", "EgressService"),
    ("ingress", "ingress_service", "IngressService"),
    ("sip", "sip_service", "SipService"),
    ("agent_dispatch", "agent_dispatch_service", "AgentDispatchService"),
)
CHILD_TIMEOUT = 25  # seconds; below the doctor's 30 s wait for the whole probe
CLASSES = (("LiveKitAPI", ("aclose",)), ("AccessToken", ("to_jwt",)), ("TokenVerifier", ("verify",)),
           ("WebhookReceiver", ("receive",)))


def error_text(exc: BaseException) -> str:
    return "%s: %s" % (type(exc).__name__, exc)


def kind(func: object) -> str:
    func = inspect.unwrap(func)  # type: ignore[arg-type]
    return "async" if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func) else "sync"


def public_methods(cls: type) -> dict:
    out = {}
    for name, value in vars(cls).items():
        if not name.startswith("_") and (inspect.isfunction(value) or inspect.ismethoddescriptor(value)):
            out[name] = kind(value)
    return out


def try_import(name: str) -> tuple:
    try:
        return importlib.import_module(name), None
    except BaseException as exc:  # a broken package may raise anything, even SystemExit
        return None, error_text(exc)


def distributions() -> dict:
    """Versions, requirements, and which distributions own files under livekit/."""
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7: the backport, when the app has it
        try:
            import importlib_metadata as metadata  # type: ignore[no-redef]
        except ImportError:
            return {"versions": {}, "requires": {}, "owners": {}, "metadata_error": "importlib.metadata unavailable"}
    versions, requires, owners = {}, {}, {}
    for name in DISTRIBUTIONS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
            continue
        versions[name] = dist.version
        if name.startswith("livekit"):
            requires[name] = list(dist.requires or [])
    for dist in metadata.distributions():
        try:
            files = dist.files or []
        except Exception:
            continue
        parts = sorted({"/".join(f.parts[:2]) for f in files if f.parts and f.parts[0] in ("livekit", "livekit.py")})
        parts = [p for p in parts if not p.endswith(".pyc") and "__pycache__" not in p]
        if parts:
            owners[dist.metadata["Name"]] = parts
    return {"versions": versions, "requires": requires, "owners": owners}


def in_parallel(work):
    """Start work() in a forked child, the parent going on meanwhile; returns a function that
    waits for its (JSON-able dict) result. The rtc import and the distribution metadata take
    ~170 ms together: on two cores they overlap the ~250 ms livekit.api import. A child that
    crashes (a native library failing on import) or hangs is reported, never fatal. Without
    fork (Windows) the work runs inline."""
    if not hasattr(os, "fork"):
        result = work()
        return lambda: result
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        result = work()
        return lambda: result
    if pid == 0:  # the child: only the standard library is imported at this point, one thread
        os.close(read_fd)
        # Off the doctor's pipes: what the imports print must not reach the result line, and a
        # child left running must not keep the doctor waiting for end-of-file.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(CHILD_TIMEOUT)  # never outlive the doctor's wait
        try:
            data = json.dumps(work(), default=str)
        except BaseException as exc:
            data = json.dumps({"child_error": error_text(exc)})
        with os.fdopen(write_fd, "w") as pipe:
            pipe.write(data)
        os._exit(0)
    os.close(write_fd)

    def wait():
        with os.fdopen(read_fd) as pipe:
            text = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            return json.loads(text)
        except ValueError:
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
                return {"child_error": "importing it did not finish within %d s" % CHILD_TIMEOUT}
            how = ("killed by signal %d" % os.WTERMSIG(status)) if os.WIFSIGNALED(status) else "gave no result"
            return {"child_error": "importing it crashed the interpreter (%s)" % how}

    return wait


def rtc_and_distributions() -> dict:
    out = distributions()
    module, error = try_import("livekit.rtc")
    out["rtc_import"] = {"ok": module is not None, "error": error}
    return out


def livekit_candidates() -> list:
    """Every sys.path entry holding a `livekit` package or module, in import order."""
    found = []
    for entry in sys.path:
        base = os.path.abspath(entry or os.getcwd())
        package = os.path.join(base, "livekit")
        if os.path.isfile(os.path.join(package, "__init__.py")):
            found.append({"path": package, "kind": "regular"})
        elif os.path.isfile(package + ".py"):
            found.append({"path": package + ".py", "kind": "module"})
        elif os.path.isdir(package):
            found.append({"path": package, "kind": "namespace",
                          "subpackages": sorted(n for n in os.listdir(package) if not n.startswith(("_", ".")))})
    return found


def probe(project_dir: str) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == here:  # the doctor's own checks/ directory
        del sys.path[0]
    if project_dir:  # the app runs from its directory, so a local livekit.py / livekit/ is seen first
        sys.path.insert(0, os.path.abspath(project_dir))
    env_markers = {
        "implementation_name": sys.implementation.name,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "python_full_version": platform.python_version(),
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    }
    out = {
        "python": {"executable": sys.executable, "version": platform.python_version(), "prefix": sys.prefix,
                   "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix)},
        "markers": env_markers,
        "candidates": livekit_candidates(),
    }
    child = in_parallel(rtc_and_distributions)

    top, top_error = try_import("livekit")
    out["livekit"] = {
        "error": top_error,
        "file": getattr(top, "__file__", None),
        "path": list(getattr(top, "__path__", []) or []),
        "namespace": top is not None and getattr(top, "__file__", None) is None,
    }
    imports = {}
    modules = {}
    for sub in ("api", "protocol"):
        module, error = try_import("livekit." + sub) if top is not None else (None, top_error)
        imports[sub] = {"ok": module is not None, "error": error}
        modules[sub] = module
    parallel = child()
    child_error = parallel.pop("child_error", None)
    if child_error:  # most likely the rtc import took the process down: say so, read the metadata here
        parallel = distributions()
        parallel["rtc_import"] = {"ok": False, "error": child_error}
        out["cacheable"] = False  # a crash or a hang may not happen again: never kept between runs
    rtc_import = parallel.pop("rtc_import")
    imports["rtc"] = rtc_import if top is not None else {"ok": False, "error": top_error}
    out["imports"] = imports
    out.update(parallel)

    api = modules["api"]
    names, sources = {}, {}
    for name in NAMES:
        where = None
        if api is not None and hasattr(api, name):
            where = "livekit.api"
        elif top is not None and name in vars(top):
            where = "livekit"
        names[name], sources[name] = where is not None, where
    out["names"], out["name_sources"] = names, sources

    methods = {}
    if api is not None:
        for prefix, module_name, class_name in SERVICES:
            module, _ = try_import("livekit.api." + module_name)
            cls = getattr(module, class_name, None) or getattr(api, class_name, None)
            if isinstance(cls, type):
                for method, how in public_methods(cls).items():
                    methods[prefix + "." + method] = how
        for class_name, wanted in CLASSES:
            cls = getattr(api, class_name, None)
            for method in wanted:
                if cls is not None and hasattr(cls, method):
                    methods[class_name + "." + method] = kind(getattr(cls, method))
    if top is not None and isinstance(vars(top).get("RoomServiceClient"), type):
        for method, how in public_methods(vars(top)["RoomServiceClient"]).items():
            methods["RoomServiceClient." + method] = how
        token = vars(top).get("AccessToken")
        if isinstance(token, type) and hasattr(token, "to_jwt") and "AccessToken.to_jwt" not in methods:
            methods["AccessToken.to_jwt"] = kind(token.to_jwt)
    out["methods"] = methods
    out["api_timeout_default"] = timeout_default(getattr(api, "LiveKitAPI", None)) if api is not None else None
    out["sys_path"] = list(sys.path)  # what the doctor watches to know when a kept answer is stale
    out["user_site"] = getattr(site, "USER_SITE", None) if getattr(site, "ENABLE_USER_SITE", False) else None
    return out


def timeout_default(cls: object) -> object:
    """The type name of LiveKitAPI's `timeout` default: releases that hand aiohttp a plain number
    break with aiohttp >= 3.9, which refuses anything but a ClientTimeout."""
    try:
        param = inspect.signature(cls.__init__).parameters.get("timeout")  # type: ignore[misc]
    except (TypeError, ValueError):
        return None
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return type(param.default).__name__


def main() -> None:
    project_dir = sys.argv[1] if len(sys.argv) > 1 else ""
    with contextlib.redirect_stdout(sys.stderr):
        try:
            result = probe(project_dir)
        except BaseException as exc:
            result = {"probe_exception": error_text(exc)}
    sys.stdout.write(MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
