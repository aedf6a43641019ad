"""bench-handoff's accounting: latencies, lost, duplicated and out-of-order messages, the store check."""

from __future__ import annotations

import math

import pytest

from bench.handoff_metrics import PathRecorder, StoreCheck, check_store, combine
from bench.handoff_paths import Arrivals, path_of


def _recorder_with(sent: list[tuple[str, str, int, float]]) -> PathRecorder:
    recorder = PathRecorder("agent")
    for key, conversation, sequence, at in sent:
        recorder.sent(key, conversation=conversation, sequence=sequence, at=at)
    return recorder


def test_latency_is_first_arrival_minus_send_time_in_milliseconds():
    recorder = _recorder_with([("a0", "c1", 0, 10.0), ("a1", "c1", 1, 10.5)])
    recorder.arrived("a0", 10.1)
    recorder.arrived("a1", 10.75)

    result = recorder.result()

    assert result.latencies_ms == pytest.approx((100.0, 250.0))
    assert (result.sent, result.received, result.lost, result.duplicated, result.out_of_order) == (
        2,
        2,
        0,
        0,
        0,
    )
    assert result.percentile(50) == pytest.approx(175.0)
    assert result.max_ms == pytest.approx(250.0)
    assert result.clean


def test_a_message_that_never_arrives_is_lost_and_has_no_latency():
    recorder = _recorder_with([("a0", "c1", 0, 1.0), ("a1", "c1", 1, 2.0)])
    recorder.arrived("a1", 2.2)

    result = recorder.result()

    assert (result.received, result.lost) == (1, 1)
    assert recorder.outstanding() == 1
    assert len(result.latencies_ms) == 1
    assert not result.clean


def test_a_second_arrival_is_a_duplicate_and_keeps_the_first_latency():
    recorder = _recorder_with([("a0", "c1", 0, 1.0)])
    recorder.arrived("a0", 1.1)
    recorder.arrived("a0", 1.9)

    result = recorder.result()

    assert (result.received, result.duplicated, result.lost) == (1, 1, 0)
    assert result.latencies_ms == pytest.approx((100.0,))


def test_an_earlier_message_arriving_after_a_later_one_of_its_conversation_is_out_of_order():
    recorder = _recorder_with(
        [("a0", "c1", 0, 1.0), ("a1", "c1", 1, 1.1), ("a2", "c1", 2, 1.2), ("b0", "c2", 0, 1.0)]
    )
    for key, at in (("a1", 1.3), ("b0", 1.3), ("a0", 1.4), ("a2", 1.5)):
        recorder.arrived(key, at)

    result = recorder.result()

    # Only a0 came after a later message of c1; c2's own order is separate.
    assert result.out_of_order == 1
    assert (result.lost, result.duplicated) == (0, 0)


def test_refused_sends_are_counted_apart_from_messages_lost_in_transit():
    recorder = _recorder_with([("a0", "c1", 0, 1.0), ("a1", "c1", 1, 2.0)])
    recorder.send_failed()
    recorder.arrived("a0", 1.2)

    result = recorder.result()

    assert (result.send_errors, result.lost) == (1, 0)
    assert recorder.outstanding() == 0
    assert not result.clean


def test_unknown_arrivals_are_ignored_and_a_key_cannot_be_sent_twice():
    recorder = _recorder_with([("a0", "c1", 0, 1.0)])
    recorder.arrived("someone else's line", 1.1)
    assert recorder.result().received == 0
    assert math.isnan(recorder.result().percentile(95))
    with pytest.raises(ValueError, match="sent twice"):
        recorder.sent("a0", conversation="c1", sequence=1, at=2.0)


def test_arrivals_reach_only_the_recorders_of_paths_that_can_arrive_on_that_socket():
    arrivals = Arrivals({"agent": PathRecorder("agent"), "customer": PathRecorder("customer")})
    arrivals.recorders["agent"].sent("bench-agent c00 n0000", conversation="c00", sequence=0, at=1.0)
    arrivals.recorders["customer"].sent("bench-customer c00 n0000", conversation="c00", sequence=0, at=1.0)
    on_widget = arrivals.on(("rasa", "agent"))

    on_widget("bench-agent c00 n0000", 1.1)
    on_widget("bench-customer c00 n0000", 1.1)  # echoed where it cannot belong: ignored
    on_widget("Hi, I'm the assistant", 1.1)

    assert arrivals.recorders["agent"].result().received == 1
    assert arrivals.recorders["customer"].result().received == 0
    assert path_of("bench-pubsub c01 n0003") == "pubsub"
    assert path_of("hello") is None


def test_store_check_ignores_other_lines_and_finds_missing_duplicated_and_reordered_messages():
    sent = ["m0", "m1", "m2"]

    assert check_store(sent, ["hi", "m0", "notice", "m1", "m2"]) == StoreCheck(3, 0, 0, True)
    assert check_store(sent, ["m0", "m2"]) == StoreCheck(3, 1, 0, True)
    assert check_store(sent, ["m0", "m1", "m1", "m2"]) == StoreCheck(3, 0, 1, True)
    assert check_store(sent, ["m1", "m0", "m2"]) == StoreCheck(3, 0, 0, False)
    assert not check_store(sent, ["m1", "m0", "m2"]).clean


def test_combined_store_checks_add_up_and_any_disorder_breaks_the_order():
    combined = combine([StoreCheck(3, 1, 0, True), StoreCheck(2, 0, 2, False)])

    assert combined == StoreCheck(5, 1, 2, False)
    assert combine([StoreCheck(3, 0, 0, True)]).clean
