"""SQLite: a rebuild fills the summaries' search index once, at the end, from the finished rows
(summaries_sqlite.start_rebuilding). Its searches equal those of the index kept live, the index
holds exactly its content's words, and the projection keeps it up to date after the swap."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from incidents.bootstrap import open_log
from incidents.projections.running.rebuild import rebuild
from incidents.projections.running.runner import open_views, start_projections
from incidents.projections.summaries import SummaryQuery
from incidents.projections.summaries.sqlite import LIVE_HASH_SIZE
from incidents.settings import Settings

from .test_summary_rebuild import PRACTICES, managers, play, step
from .test_summary_search_contract import check_search_index

WORDS = ("more", "wrong", "again", "shah", "waiting", "telephone", "film", "record", "reception", "video", "nothing")


def searches(view):
    return [
        view.search(SummaryQuery(practice=practice, text=words, status=status, page_size=100))
        for practice in PRACTICES
        for words in WORDS
        for status in (None, "open", "closed")
    ]


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40), later=st.lists(step, max_size=10))
def test_a_rebuilt_search_index_equals_the_live_one_and_stays_live(steps, later):
    with tempfile.TemporaryDirectory() as folder:
        opened = open_log(Settings(data_dir=Path(folder)))
        log = opened.log
        actors = managers(log)
        projections = start_projections(opened.store, opened.env)
        try:
            play(log, actors, steps)
            assert projections.wait(log.recorder.max_notification_id(), timeout=20)
            live = searches(projections.summaries)
        finally:
            projections.stop()
        rebuild(opened.store, opened.env, [], lambda position, last: None)
        rebuilt = open_views(opened.store, opened.env).summaries
        check_search_index(rebuilt)
        assert searches(rebuilt) == live
        with rebuilt.datastore.transaction(commit=False) as c:  # built with a large hash, kept live with the default
            c.execute("SELECT v FROM incident_search_config WHERE k = 'hashsize'")
            assert c.fetchone()[0] == LIVE_HASH_SIZE
        rebuilt.datastore.close()

        projections = start_projections(opened.store, opened.env)
        try:
            play(log, actors, steps[:5] + later)
            assert projections.wait(log.recorder.max_notification_id(), timeout=20)
            check_search_index(projections.summaries)
        finally:
            projections.stop()
        log.close()
