"""The pipe between the app and its projections process: a byte wakes the child's reading, another
hurries it, and the pipe's end (the app stopping, or killed) tells the child to stop."""

from __future__ import annotations

import os
import threading

from incidents.projections.running.child import HURRY, WAKE
from incidents.projections.running.child_process import read_parent


def test_each_write_wakes_the_reader_and_the_pipes_end_says_the_parent_is_gone():
    read_end, write_end = os.pipe()
    woken, hurried = threading.Semaphore(0), threading.Semaphore(0)
    parent_gone = threading.Event()
    reader = threading.Thread(target=read_parent, args=(read_end, woken.release, hurried.release, parent_gone), daemon=True)
    reader.start()
    try:
        os.write(write_end, WAKE)
        assert woken.acquire(timeout=5)
        assert not parent_gone.is_set()
        os.write(write_end, HURRY)
        assert hurried.acquire(timeout=5)
        os.write(write_end, WAKE)
        assert woken.acquire(timeout=5)
        assert not hurried.acquire(timeout=0.1)
    finally:
        os.close(write_end)
    assert parent_gone.wait(5)
    reader.join(5)
    assert not reader.is_alive()
    os.close(read_end)
