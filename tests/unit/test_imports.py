import asyncio
import importlib
import sys
import threading

import pytest

from livekit_doctor.offloop import import_off_loop


def test_module_is_imported_off_the_loop_thread(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    calls = []
    real_import = importlib.import_module

    def recording(name):
        calls.append((name, threading.current_thread() is threading.main_thread()))
        return real_import(name)

    monkeypatch.setattr(importlib, "import_module", recording)
    asyncio.run(import_off_loop("colorsys", "json"))  # json is already imported: nothing to do
    assert calls == [("colorsys", False)]
    assert "colorsys" in sys.modules


def test_missing_module_raises_import_error_like_an_inline_import():
    with pytest.raises(ImportError, match="no_such_module_for_the_doctor"):
        asyncio.run(import_off_loop("no_such_module_for_the_doctor"))
