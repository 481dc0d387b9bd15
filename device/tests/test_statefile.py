"""The state file (statefile.py) on its own: sections, group commit, faults and retries.

test_storage_faults.py shows the same on a real full or read-only disk through the
server; these drive a StateFile directly, with a disk that fails when told to.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from daybreak_device import statefile
from daybreak_device.statefile import (
    BEFORE_WRITE_LIMIT,
    RETRY_INTERVAL,
    STATE_FILE_VERSION,
    StateFile,
    StorageError,
)


class Disk:
    """Stands in for atomic_write_json: records each write; fails with ``error`` if set."""

    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self.delay = 0.0
        self.real = statefile.atomic_write_json

    def __call__(self, path: Path, data: dict[str, Any]) -> None:
        if self.delay:
            import time  # noqa: PLC0415 - in the writer's thread

            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        self.writes.append(json.loads(json.dumps(data)))
        self.real(path, data)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    fake = Disk()
    monkeypatch.setattr(statefile, "atomic_write_json", fake)
    return fake


class Section:
    """A section owning ``keys``: its value is what it dumps; records what it loaded."""

    def __init__(self, store: StateFile, keys: frozenset[str], value: dict[str, Any]) -> None:
        self.value = value
        self.loaded: list[dict[str, Any]] = []
        store.add_section(keys, load=self.loaded.append, dump=lambda: dict(self.value))


FULL = OSError(errno.ENOSPC, "No space left on device")
NOT_SAVED = "the change is made but not saved: cannot write state.json: No space left on device"


def log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == statefile.__name__]


async def test_sections_are_loaded_and_written_together(tmp_path: Path, disk: Disk) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "a": 1, "b": 2, "other": 3}))
    store = StateFile(path)
    first = Section(store, frozenset({"a"}), {"a": 10})
    second = Section(store, frozenset({"b", "c"}), {"b": 20, "c": 30})
    assert not store.is_open
    await store.open()
    assert store.is_open
    # Each section sees the whole file and takes its part.
    assert first.loaded == second.loaded == [{"version": 1, "a": 1, "b": 2, "other": 3}]
    await store.save()
    assert disk.writes == [{"version": STATE_FILE_VERSION, "a": 10, "b": 20, "c": 30}]
    assert json.loads(path.read_text()) == disk.writes[0]
    assert store.fault is None
    await store.close()
    assert not store.is_open


def test_a_section_cannot_take_anothers_keys(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"on", "level"}), {})
    with pytest.raises(ValueError) as info:
        Section(store, frozenset({"level", "alarms"}), {})
    assert str(info.value) == "keys ['level'] belong to another section"
    with pytest.raises(ValueError) as info:
        Section(store, frozenset({"version"}), {})
    assert str(info.value) == "keys ['version'] belong to another section"
    Section(store, frozenset({"alarms"}), {})  # other keys are fine


@pytest.mark.parametrize("content", [None, b"{torn", b"[1]"], ids=["missing", "corrupt", "list"])
async def test_no_usable_file_gives_every_section_nothing(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "state.json"
    if content is not None:
        path.write_bytes(content)
    store = StateFile(path)
    section = Section(store, frozenset({"a"}), {"a": 1})
    await store.open()
    assert section.loaded == [{}]
    await store.close()


async def test_open_cleans_what_an_interrupted_save_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    for name in (".state.json.a1.tmp", ".state.json.b2.tmp"):
        (tmp_path / name).write_text("x")
    store = StateFile(path)
    with caplog.at_level(logging.INFO, logger=statefile.__name__):
        await store.open()
    assert log_lines(caplog) == [
        (logging.INFO, "Removed 2 temporary file(s) left by an interrupted save")
    ]
    assert list(tmp_path.iterdir()) == []
    caplog.clear()
    await store.close()
    second = StateFile(path)
    with caplog.at_level(logging.INFO, logger=statefile.__name__):
        await second.open()  # nothing to clean: nothing said
    assert log_lines(caplog) == []
    await second.close()


async def test_open_goes_on_when_the_directory_cannot_be_cleaned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(statefile, "remove_stale_temp_files", refuse)
    store = StateFile(tmp_path / "state.json")
    section = Section(store, frozenset({"a"}), {"a": 1})
    await store.open()
    assert section.loaded == [{}]
    assert store.is_open
    assert log_lines(caplog) == [
        (logging.WARNING, f"Cannot clean up {tmp_path}: [Errno 13] Permission denied")
    ]
    await store.close()


async def test_a_save_before_open_fails(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")
    with pytest.raises(StorageError) as info:
        await store.save()
    assert (info.value.code, info.value.message) == (
        "storage_error",
        "the state file is not open",
    )


async def test_saves_asked_for_during_a_write_share_the_next_one(
    tmp_path: Path, disk: Disk
) -> None:
    """Group commit: a slow disk delays the acks, and one write carries every change."""
    store = StateFile(tmp_path / "state.json")
    section = Section(store, frozenset({"n"}), {"n": 0})
    await store.open()
    disk.delay = 0.2
    section.value = {"n": 1}
    first = store.request_save()
    await asyncio.sleep(0.05)  # the first write is under way
    later = []
    for n in (2, 3, 4):
        section.value = {"n": n}
        later.append(store.request_save())
    await asyncio.gather(first, *later)
    assert [w["n"] for w in disk.writes] == [1, 4]
    await store.close()


async def test_a_write_waits_for_before_write_but_not_forever(tmp_path: Path, disk: Disk) -> None:
    order: list[str] = []
    stuck = asyncio.Event()

    async def before_write() -> None:
        order.append("before")
        await stuck.wait()  # a push stream that never says "sent"

    store = StateFile(tmp_path / "state.json", before_write=before_write)
    Section(store, frozenset({"a"}), {"a": 1})
    await store.open()
    loop = asyncio.get_running_loop()
    began = loop.time()
    await store.save()
    took = loop.time() - began
    assert order == ["before"]
    assert len(disk.writes) == 1
    assert BEFORE_WRITE_LIMIT <= took < BEFORE_WRITE_LIMIT + 0.5
    await store.close()


async def test_a_failed_write_is_a_fault_retried_until_the_disk_takes_it(
    tmp_path: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    wall = [1_000.0]
    store = StateFile(tmp_path / "state.json", retry_interval=0.2, clock=lambda: wall[0])
    section = Section(store, frozenset({"n"}), {"n": 1})
    faults: list[Any] = []
    store.add_listener(lambda: faults.append(store.fault))
    await store.open()
    disk.error = FULL
    with pytest.raises(StorageError) as info:
        await store.save()
    assert (info.value.code, info.value.message) == ("storage_error", NOT_SAVED)
    fault = store.fault
    assert fault is not None
    assert (fault.message, fault.since) == (
        "cannot write state.json: No space left on device",
        1000.0,
    )
    assert faults == [fault]
    # Another change while the disk is full fails at once, from its own attempt; the fault
    # is not reported again.
    wall[0] = 1_001.0
    section.value = {"n": 2}
    with pytest.raises(StorageError):
        await asyncio.wait_for(store.save(), 0.15)
    assert store.fault == fault
    assert faults == [fault]
    # The disk is freed: the writer saves the newest state by itself and clears the fault.
    disk.error = None
    async with asyncio.timeout(2):
        while store.fault is not None:
            await asyncio.sleep(0.01)
    assert disk.writes[-1] == {"version": 1, "n": 2}
    assert faults == [fault, None]
    assert log_lines(caplog) == [
        (
            logging.ERROR,
            (
                "Cannot save the state (cannot write state.json: No space left on device); "
                "serving from memory and retrying every 0.2 s"
            ),
        ),
        (logging.WARNING, f"The state is saved again in {tmp_path / 'state.json'}"),
    ]
    await store.save()  # and saves go on as usual
    await store.close()


async def test_the_default_retry_interval(tmp_path: Path, disk: Disk, caplog) -> None:
    assert RETRY_INTERVAL == 2.0
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"a"}), {"a": 1})
    await store.open()
    disk.error = FULL
    with pytest.raises(StorageError):
        await store.save()
    assert "retrying every 2 s" in log_lines(caplog)[0][1]
    loop = asyncio.get_running_loop()
    disk.error = None
    began = loop.time()
    async with asyncio.timeout(10):
        while store.fault is not None:
            await asyncio.sleep(0.02)
    # Not retried at once (the 2 s interval), nor never; a loaded machine may be late.
    assert 1.5 < loop.time() - began < 8.0
    await store.close()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
        (OSError("no strerror"), "no strerror"),
        (ValueError("bad data"), "bad data"),
        (RuntimeError(), "RuntimeError"),
    ],
)
async def test_any_failure_to_write_is_a_storage_fault_that_says_why(
    tmp_path: Path, disk: Disk, error: Exception, reason: str
) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"a"}), {"a": 1})
    await store.open()
    disk.error = error
    with pytest.raises(StorageError) as info:
        await store.save()
    assert (
        info.value.message == f"the change is made but not saved: cannot write state.json: {reason}"
    )
    assert store.fault is not None
    assert store.fault.message == f"cannot write state.json: {reason}"
    await store.close()


async def test_close_writes_what_is_not_saved_yet(tmp_path: Path, disk: Disk) -> None:
    store = StateFile(tmp_path / "state.json")
    section = Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    section.value = {"n": 7}
    store.request_save()
    await store.close()
    assert disk.writes == [{"version": 1, "n": 7}]
    await store.close()  # twice is fine


async def test_close_with_nothing_to_save_writes_nothing(tmp_path: Path, disk: Disk) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    await store.save()
    await store.close()
    assert len(disk.writes) == 1


async def test_close_on_a_broken_disk_gives_up_and_says_so(
    tmp_path: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    store = StateFile(path, retry_interval=10.0)
    Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    disk.error = FULL
    pending = store.request_save()
    await asyncio.sleep(0.1)
    assert pending.done()
    waiting = store.request_save()
    caplog.clear()
    await store.close(limit=0.3)
    assert log_lines(caplog) == [
        (logging.ERROR, f"Stopping without saving the newest state to {path}: {NOT_SAVED}")
    ]
    assert waiting.done()
    assert isinstance(waiting.exception(), StorageError)
    assert not store.is_open


async def test_close_on_a_hung_disk_gives_up_in_time(
    tmp_path: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    store = StateFile(path)
    Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    disk.delay = 1.0
    store.request_save()
    await asyncio.sleep(0.05)
    late = store.request_save()  # waits for a second write that never comes
    loop = asyncio.get_running_loop()
    began = loop.time()
    await store.close(limit=0.2)
    assert loop.time() - began < 0.9
    assert log_lines(caplog) == [
        (
            logging.ERROR,
            f"Stopping without saving the newest state to {path}: the disk did not answer in time",
        )
    ]
    with pytest.raises(StorageError) as info:
        await late
    assert info.value.message == "the device stopped before saving"


async def test_open_then_close_writes_nothing_and_the_writer_is_named(
    tmp_path: Path, disk: Disk
) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    assert "daybreak state file" in {t.get_name() for t in asyncio.all_tasks()}
    await store.close()
    assert disk.writes == []
    assert "daybreak state file" not in {t.get_name() for t in asyncio.all_tasks()}


async def test_a_removed_fault_listener_hears_nothing(tmp_path: Path, disk: Disk) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"n"}), {"n": 1})
    heard: list[Any] = []
    remove = store.add_listener(lambda: heard.append(store.fault))
    remove()
    await store.open()
    disk.error = FULL
    with pytest.raises(StorageError):
        await store.save()
    assert heard == []
    await store.close(limit=0.1)


async def test_a_failed_save_nobody_waits_for_is_not_an_unhandled_error(
    tmp_path: Path, disk: Disk
) -> None:
    """The light saves in the background after a ramp; a disk error there is the store's
    to report (its fault), not a "Future exception was never retrieved" in the log."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, context: unhandled.append(context))
    try:
        store = StateFile(tmp_path / "state.json", retry_interval=10.0)
        Section(store, frozenset({"n"}), {"n": 1})
        await store.open()
        disk.error = FULL
        store.request_save()  # not awaited
        async with asyncio.timeout(2):
            while store.fault is None:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        gc.collect()
        await store.close(limit=0.1)
        gc.collect()
        await asyncio.sleep(0)
        assert unhandled == []
    finally:
        loop.set_exception_handler(None)


async def test_close_waits_a_second_by_default(tmp_path: Path, disk: Disk) -> None:
    store = StateFile(tmp_path / "state.json")
    Section(store, frozenset({"n"}), {"n": 1})
    await store.open()
    disk.delay = 1.6
    store.request_save()
    loop = asyncio.get_running_loop()
    began = loop.time()
    await store.close()
    assert 0.9 < loop.time() - began < 1.4
