"""The live-kernel budget's bookkeeping: seats, one kernel per visitor, the queue and its order."""

from __future__ import annotations

import pytest

from readingroom.server.live_kernels import FORGET_AFTER, KERNEL_BYTES, KernelBudget, default_cap


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def seated(budget: KernelBudget, visitor: str, kernel: str, running: set[str]) -> None:
    assert budget.admit(visitor, running).admitted
    assert budget.started(visitor, kernel) is None
    running.add(kernel)


class TestKernelBudget:
    def test_a_second_visit_replaces_the_visitors_kernel(self, clock):
        budget, running = KernelBudget(2, clock), set()
        seated(budget, "ann", "k1", running)
        again = budget.admit("ann", running)
        assert again.admitted and again.replaces == "k1"
        running.discard("k1")
        budget.started("ann", "k2")
        assert budget.held == 1

    def test_beyond_the_cap_visitors_queue_in_arrival_order(self, clock):
        budget, running = KernelBudget(1, clock), set()
        seated(budget, "ann", "k1", running)
        assert budget.admit("bob", running).position == 1
        assert budget.admit("cy", running).position == 2
        assert budget.admit("bob", running).position == 1  # asking again keeps the place

    def test_a_seat_freed_goes_to_the_first_in_line_not_to_a_newcomer(self, clock):
        budget, running = KernelBudget(1, clock), set()
        seated(budget, "ann", "k1", running)
        budget.admit("bob", running)
        running.discard("k1")  # ann closed her page (or her kernel was culled)
        assert budget.admit("dee", running).position == 2
        assert budget.wait("bob", running) == 0
        assert budget.admit("bob", running).admitted

    def test_a_queuer_who_stops_asking_loses_their_place(self, clock):
        budget, running = KernelBudget(1, clock), set()
        seated(budget, "ann", "k1", running)
        budget.admit("bob", running)
        clock.now += 5
        budget.admit("cy", running)
        clock.now += FORGET_AFTER - 10
        assert budget.wait("cy", running) == 2
        clock.now += 15  # bob last asked more than FORGET_AFTER seconds ago, cy 15 seconds ago
        assert budget.wait("cy", running) == 1

    def test_two_pages_opened_at_once_leave_one_kernel(self, clock):
        budget, running = KernelBudget(3, clock), set()
        assert budget.admit("ann", running).admitted
        assert budget.admit("ann", running).admitted  # a double click: the first page is still being made
        assert budget.started("ann", "k1") is None
        assert budget.started("ann", "k2") == "k1"  # shut down: the visitor holds one
        assert budget.held == 1

    def test_a_page_that_failed_before_its_kernel_frees_the_seat(self, clock):
        budget, running = KernelBudget(1, clock), set()
        assert budget.admit("ann", running).admitted
        assert not budget.admit("bob", running).admitted
        budget.started("ann", None)
        assert budget.admit("bob", running).admitted

    def test_the_default_cap_is_what_fits_in_three_quarters_of_the_memory(self):
        assert default_cap(16 * KERNEL_BYTES) == 12
        assert default_cap(KERNEL_BYTES // 2) == 1
        assert default_cap() >= 1

    def test_a_cap_below_one_is_refused(self):
        with pytest.raises(ValueError, match="at least 1, got 0"):
            KernelBudget(0)
