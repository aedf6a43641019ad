"""Rasa's Redis tracker store, reading the stored conversation once per save instead of twice.

Configured in endpoints.yml (`tracker_store: type: tracker_store.SingleReadRedisTrackerStore`).
Rasa 3.6's `RedisTrackerStore.save` first streams the new events to the event broker, for
which it fetches and rebuilds the stored tracker to count its events (`stream_events` ->
`retrieve`), then fetches and rebuilds it a second time to merge it with the new one. Rebuilding
replays every event, and the Redis client is synchronous, so both copies block Rasa's event
loop once per message. Here the stored tracker is fetched and rebuilt once and serves both:
the events streamed, the merge and the stored result are Rasa's (tests/bot/test_tracker_store.py
compares them with RedisTrackerStore's).
"""

from __future__ import annotations

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    TrackerEventDiffEngine,
    get_trackers_for_conversation_sessions,
)


def latest_session(tracker: DialogueStateTracker | None) -> DialogueStateTracker | None:
    """The tracker's last conversation session, as `RedisTrackerStore.retrieve` returns it."""
    if tracker is None:
        return None
    sessions = get_trackers_for_conversation_sessions(tracker)
    return tracker if len(sessions) <= 1 else sessions[-1]


class SingleReadRedisTrackerStore(RedisTrackerStore):
    """A RedisTrackerStore whose `save` reads and rebuilds the stored tracker once."""

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Stream the new events, merge with the stored tracker and store the result, as Rasa does."""
        key = self.key_prefix + tracker.sender_id
        stored = self.red.get(key)
        prior = self.deserialise_tracker(tracker.sender_id, stored) if stored is not None else None

        if self.event_broker is not None:
            new_events = TrackerEventDiffEngine.event_difference(latest_session(prior), tracker)
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

        if not timeout and self.record_exp:
            timeout = self.record_exp
        if prior is not None:
            tracker = self._merge_trackers(prior, tracker)
        self.red.set(key, self.serialise_tracker(tracker), ex=timeout)
