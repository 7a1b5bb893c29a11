"""Flood control counts each user's commands a minute and forgets users who went quiet."""

from bot.flood import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_warning_then_silence_then_ok_after_the_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=2, window_s=60, clock=clock)
    assert [guard.check(7) for _ in range(4)] == ["ok", "ok", "warn", "silent"]
    clock.now += 60
    assert guard.check(7) == "ok"


def test_memory_holds_only_the_users_of_the_last_window() -> None:
    clock = Clock()
    guard = FloodGuard(limit=20, window_s=60, clock=clock)
    for user in range(10_000):
        guard.check(user)
        clock.now += 0.01  # 10,000 users over 100 seconds
    # Only those seen in the last minute are remembered: about 6,000, not 10,000.
    assert len(guard) <= 6_001
    clock.now += 61
    guard.check(1)
    assert len(guard) == 1


def test_a_crowd_within_one_window_is_remembered_up_to_a_bound_and_a_flooder_stays_counted() -> (
    None
):
    clock = Clock()
    guard = FloodGuard(limit=3, window_s=60, clock=clock, max_users=100)
    for user in range(1_000):  # a thousand users in one second
        guard.check(user)
        if user % 10 == 0:
            guard.check(-1)  # one user floods among them
        clock.now += 0.001
    assert len(guard) == 100
    assert guard.check(-1) == "silent"  # still counted: never the least recently active
