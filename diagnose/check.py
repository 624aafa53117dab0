"""The check API: a check is a plain function plus the metadata the runner needs."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Union

if TYPE_CHECKING:
    from livekit_doctor.context import Context
    from livekit_doctor.result import Result

CheckFunc = Callable[["Context"], Union["Result", Awaitable["Result"]]]


@dataclass(frozen=True)
class Code:
    """A finding code a check declares: its name ("wrong-secret"), what it means, and the codes of other
    findings that can explain it ("LK203.secret-damaged"): when one of those occurs in the same run, a
    finding of this code is reported as its consequence. The registry checks that every named code exists."""

    name: str
    meaning: str = ""
    explained_by: tuple[str, ...] = ()


def code(name: str, meaning: str = "", *, explained_by: tuple[str, ...] | list[str] = ()) -> Code:
    return Code(name, meaning, tuple(explained_by))


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    area: str
    func: CheckFunc
    needs: tuple[str, ...] = ()
    timeout: float = 10.0
    after: tuple[str, ...] = ()  # run after these when selected, whatever their result; "area:NAME" = that area
    codes: tuple[Code, ...] = ()  # the finding codes it may report, with what can explain each
    speculative: bool = False  # starts with the run, not after its needs; cancelled if one does not pass
    layer: int = 0  # place on the plugin's causal chain (from Plugin.chain at registration)
    plugin: str = ""
    docs_dir: Path | None = None  # filled in at registration from the plugin's declaration
    docs_url: str = ""

    @property
    def docs_ref(self) -> str:
        """How reports link to the page: under the plugin's docs_url, else the page itself, else nothing."""
        if self.docs_url:
            return f"{self.docs_url.rstrip('/')}/{self.id}.md"
        page = self.docs_page
        return str(page) if page is not None and page.is_file() else ""

    @property
    def code_names(self) -> dict[str, Code]:
        """Declared codes by their full name ("LK205.wrong-secret"), with the reserved generic ones."""
        from livekit_doctor.result import RESERVED_CODES

        names = {f"{self.id}.{c.name}": c for c in self.codes}
        return {f"{self.id}.{r}": Code(r, f"a {r} without a code of its own") for r in RESERVED_CODES} | names

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def docs_page(self) -> Path | None:
        return self.docs_dir / f"{self.id}.md" if self.docs_dir else None

    def explain(self) -> str:
        """The check's docs page, or its docstring when the plugin ships no page."""
        page = self.docs_page
        if page is not None and page.is_file():
            return page.read_text(encoding="utf-8")
        doc = inspect.getdoc(self.func) or "No documentation."
        return f"# {self.id}: {self.title}\n\n{doc}\n"

    def why(self) -> str:
        """The "Why it matters" section of the docs page (for reports), else the docstring."""
        page = self.docs_page
        if page is not None and page.is_file():
            section = markdown_section(page.read_text(encoding="utf-8"), "Why it matters")
            if section:
                return section
        return inspect.getdoc(self.func) or ""


def markdown_section(text: str, heading: str) -> str:
    """The body of the first `## heading` section of a Markdown page, stripped."""
    lines, body, inside = text.splitlines(), [], False
    for line in lines:
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip().lower() == heading.lower()
            continue
        if inside:
            body.append(line)
    return "\n".join(body).strip()


def check(
    id: str,
    title: str,
    *,
    area: str,
    needs: tuple[str, ...] | list[str] = (),
    timeout: float = 10.0,
    after: tuple[str, ...] | list[str] = (),
    codes: tuple[Code, ...] | list[Code] = (),
    speculative: bool = False,
) -> Callable[[CheckFunc], Check]:
    """Decorator turning a function `(ctx) -> Result` (sync or async) into a Check.

    `needs`: run after these and skip when one did not pass; `after`: only run after them
    (check IDs, or "area:NAME" for every selected check of that area). `codes`: the finding codes
    the check reports, each with the codes of other checks' findings that can explain it (so a
    consequence is never reported as a headline, and nothing else is linked to it). The registry
    rejects unknown IDs and codes, and cycles, when it loads. `speculative`: a long check whose needs
    usually pass starts with the run instead of after them; its result is held until they are
    done, and if one does not pass the check is cancelled (it must clean up in `finally`) and
    skipped as usual, so the outcome is the same, only sooner. It reads other checks' results only
    after `await ctx.settled(...)`.
    """

    def wrap(func: CheckFunc) -> Check:
        return Check(id=id, title=title, area=area, func=func, needs=tuple(needs), timeout=timeout, after=tuple(after),
                     codes=tuple(codes), speculative=speculative)

    return wrap


AREA_PREFIX = "area:"


@dataclass(frozen=True)
class Plugin:
    """What one entry point provides: its checks, the command-line options they read, and where
    their pages are (`docs_dir` for `explain`; `docs_url`, optional, for links in reports)."""

    name: str
    checks: tuple[Check, ...] = ()
    options: tuple[Any, ...] = ()  # click.Option objects
    docs_dir: Path | None = None
    docs_url: str = ""
    chain: tuple[str, ...] = ()  # check-ID prefixes from the most fundamental layer up (the diagnosis ranks by it)
    builtin: bool = field(default=False)
