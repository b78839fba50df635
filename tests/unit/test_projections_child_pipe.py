"""The pipe between the app and its projections process: a byte wakes the child's reading, and
the pipe's end (the app stopping, or killed) tells the child to stop."""

from __future__ import annotations

import os
import threading

from incidents.projections.child import read_parent


def test_each_write_wakes_the_reader_and_the_pipes_end_says_the_parent_is_gone():
    read_end, write_end = os.pipe()
    woken = threading.Semaphore(0)
    parent_gone = threading.Event()
    reader = threading.Thread(target=read_parent, args=(read_end, woken.release, parent_gone), daemon=True)
    reader.start()
    try:
        os.write(write_end, b"\n")
        assert woken.acquire(timeout=5)
        assert not parent_gone.is_set()
        os.write(write_end, b"\n")
        assert woken.acquire(timeout=5)
    finally:
        os.close(write_end)
    assert parent_gone.wait(5)
    reader.join(5)
    assert not reader.is_alive()
    os.close(read_end)
