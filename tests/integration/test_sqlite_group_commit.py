"""Group commit in the SQLite event store: saves that arrive while another is being written are
written together in one transaction, and a conflict among them fails only the save that caused it."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from incidents.sqlite_subscription import SQLitePollingApplicationRecorder
from tests.conftest import run_in_own_loop


class HeldRecorder(SQLitePollingApplicationRecorder):
    """Holds its first write until released, so that the saves arriving meanwhile queue up."""

    def __init__(self, datastore: SQLiteDatastore) -> None:
        super().__init__(datastore)
        self.first_write_started = threading.Event()
        self.release = threading.Event()
        self.batches: list[int] = []

    def _write(self, batch) -> None:
        self.batches.append(len(batch))
        if len(self.batches) == 1:
            self.first_write_started.set()
            assert self.release.wait(10)
        super()._write(batch)


@pytest.fixture
def recorder(tmp_path):
    datastore = SQLiteDatastore(str(tmp_path / "events.sqlite"))
    recorder = HeldRecorder(datastore)
    recorder.create_table()
    yield recorder
    recorder.stop_writer()
    datastore.close()


def event(originator_id: uuid.UUID, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=version, topic="tests:Happened", state=b"{}")


def save_in_threads(recorder: SQLitePollingApplicationRecorder, saves: list[list[StoredEvent]]) -> list:
    results: list = [None] * len(saves)

    def save(i: int) -> None:
        try:
            results[i] = recorder.insert_events(saves[i])
        except Exception as error:  # collected for the assertions
            results[i] = error

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(saves))]
    for thread in threads:
        thread.start()
    return threads, results


def test_saves_that_queue_behind_a_write_are_committed_together(recorder: HeldRecorder):
    first = [event(uuid.uuid4())]
    [leader], _ = save_in_threads(recorder, [first])
    assert recorder.first_write_started.wait(10)
    later = [[event(uuid.uuid4()), event(uuid.uuid4())] if i % 2 else [event(uuid.uuid4())] for i in range(8)]
    threads, results = save_in_threads(recorder, later)
    while len(recorder._queued) < len(later):  # all eight are waiting behind the first write
        threading.Event().wait(0.005)
    recorder.release.set()
    for thread in [leader, *threads]:
        thread.join(10)
    assert recorder.batches == [1, 8]
    assert [len(ids) for ids in results] == [len(save) for save in later]
    ids = [i for save_ids in results for i in save_ids]
    assert sorted(ids) == list(range(2, 2 + len(ids)))  # one run of positions, each given once
    for save, save_ids in zip(later, results):
        for stored, notification_id in zip(save, save_ids):
            [notification] = recorder.select_notifications(start=notification_id, limit=1)
            assert notification.originator_id == stored.originator_id


def test_a_conflict_in_a_shared_commit_fails_only_its_own_save(recorder: HeldRecorder):
    taken = uuid.uuid4()
    [leader], _ = save_in_threads(recorder, [[event(taken)]])
    assert recorder.first_write_started.wait(10)
    later = [[event(uuid.uuid4())], [event(uuid.uuid4()), event(taken)], [event(uuid.uuid4())]]
    threads, results = save_in_threads(recorder, later)
    while len(recorder._queued) < len(later):
        threading.Event().wait(0.005)
    recorder.release.set()
    for thread in [leader, *threads]:
        thread.join(10)
    assert isinstance(results[1], IntegrityError)
    assert all(isinstance(ids, list) and len(ids) == 1 for ids in (results[0], results[2]))
    # the conflicting save left nothing behind, not even its first event
    assert recorder.select_events(later[1][0].originator_id) == []
    first, *rest = [n.originator_id for n in recorder.select_notifications(start=1, limit=10)]
    assert first == taken
    assert sorted(rest) == sorted([later[0][0].originator_id, later[2][0].originator_id])


class WithoutWriterThread(HeldRecorder):
    """Leaves the event loop's saves to the saving threads alone."""

    def _write_queued(self) -> None:
        return


@pytest.mark.parametrize("recorder_class", [HeldRecorder, WithoutWriterThread])
def test_saves_queued_by_threads_and_by_an_event_loop_together_are_all_answered(tmp_path, recorder_class):
    """Whoever writes next, the writer thread or a saving thread, writes the loop's saves too,
    and each is answered where it waits."""
    datastore = SQLiteDatastore(str(tmp_path / "events.sqlite"))
    recorder = recorder_class(datastore)
    recorder.create_table()
    [leader], _ = save_in_threads(recorder, [[event(uuid.uuid4())]])
    assert recorder.first_write_started.wait(10)

    async def scenario():
        futures = [recorder.insert_events_from_loop([event(uuid.uuid4()), event(uuid.uuid4())]) for _ in range(5)]
        threads, results = save_in_threads(recorder, [[event(uuid.uuid4())] for _ in range(3)])
        while len(recorder._queued) < 8:
            await asyncio.sleep(0.005)
        recorder.release.set()
        answers = await asyncio.wait_for(asyncio.gather(*futures), 10)
        for thread in threads:
            thread.join(10)
        return answers, results

    try:
        answers, results = run_in_own_loop(scenario)
        leader.join(10)
    finally:
        recorder.stop_writer()
        datastore.close()
    assert [len(ids) for ids in answers] == [2] * 5 and [len(ids) for ids in results] == [1] * 3
    assert sorted(i for ids in [*answers, *results] for i in ids) == list(range(2, 15))


def test_saves_from_an_event_loop_are_committed_together_by_the_writer_thread(tmp_path):
    datastore = SQLiteDatastore(str(tmp_path / "events.sqlite"))
    recorder = SQLitePollingApplicationRecorder(datastore)
    recorder.create_table()
    taken = uuid.uuid4()
    recorder.insert_events([event(taken)])
    saves = [[event(uuid.uuid4()), event(uuid.uuid4())] if i % 3 else [event(uuid.uuid4())] for i in range(30)]
    saves[7] = [event(uuid.uuid4()), event(taken)]  # a conflict: fails alone, and leaves nothing

    async def save_all():
        return await asyncio.gather(*(recorder.insert_events_from_loop(save) for save in saves), return_exceptions=True)

    try:
        results = run_in_own_loop(save_all)
        assert isinstance(results[7], IntegrityError)
        assert recorder.select_events(saves[7][0].originator_id) == []
        ids = [i for n, save_ids in enumerate(results) if n != 7 for i in save_ids]
        assert len(ids) == sum(len(save) for n, save in enumerate(saves) if n != 7)
        assert sorted(ids) == sorted(set(ids)) and min(ids) > 1
        for n, save in enumerate(saves):
            if n != 7:
                for stored, notification_id in zip(save, results[n]):
                    [notification] = recorder.select_notifications(start=notification_id, limit=1)
                    assert notification.originator_id == stored.originator_id
    finally:
        recorder.stop_writer()
        datastore.close()


def test_stopping_the_writer_finishes_what_is_queued(tmp_path):
    datastore = SQLiteDatastore(str(tmp_path / "events.sqlite"))
    recorder = SQLitePollingApplicationRecorder(datastore)
    recorder.create_table()

    async def save_then_stop():
        futures = [recorder.insert_events_from_loop([event(uuid.uuid4())]) for _ in range(50)]
        await asyncio.get_running_loop().run_in_executor(None, recorder.stop_writer)
        return await asyncio.gather(*futures)

    try:
        results = run_in_own_loop(save_then_stop)
        assert sorted(i for ids in results for i in ids) == list(range(1, 51))
        with pytest.raises(RuntimeError, match="closing"):
            run_in_own_loop(save_then_stop)
    finally:
        datastore.close()
