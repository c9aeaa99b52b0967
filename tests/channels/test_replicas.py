"""Which Rasa replica takes a turn (channels/replicas.py): the conversation's own replica,
failed replicas last."""

from __future__ import annotations

from channels.replicas import Replicas

A, B = "http://127.0.0.1:5006", "http://127.0.0.1:5007"


def test_a_conversation_keeps_its_replica_and_conversations_spread() -> None:
    replicas = Replicas(f"{A},{B}")
    homes = [replicas.order(f"c{i}")[0] for i in range(100)]
    assert homes == [replicas.order(f"c{i}")[0] for i in range(100)]  # turn after turn
    assert 30 <= homes.count(A) <= 70  # both replicas get conversations


def test_a_failed_replica_is_tried_last_until_it_is_back() -> None:
    replicas = Replicas([A, B])
    home = replicas.order("c")[0]
    other = B if home == A else A
    replicas.mark_down(home)
    assert replicas.order("c") == [other, home]
    replicas.mark_up(home)
    assert replicas.order("c") == [home, other]
