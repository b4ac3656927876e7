"""A short soak inside ``make test``; ``make soak`` runs the long one (hardening_soak.py).

A few hundred sequential streams per client and a few rounds of 100
concurrent async streams, ended every way a program ends them (read out,
``break``, ``with`` left early, ``close()``, dropped, cancelled, faults), must
leave sockets, threads, live stream objects and memory where they were.
"""

from __future__ import annotations

import hardening_soak


def test_short_soak_leaves_nothing_behind() -> None:
    report = hardening_soak.soak(streams=300, rounds=4, width=100, seed=20261125)
    assert report.before is not None and report.after is not None
    assert sum(report.outcomes.values()) == 2 * 300 + 4 * 100
    # Every way of ending a stream was exercised.
    hows = {key.split()[1].split("+")[0] for key in report.outcomes}
    assert {"read", "break", "with", "close", "final", "cancel", "drop", "timeout"} <= hows
    assert report.after.sockets <= report.before.sockets + 2
    assert report.after.objects == report.before.objects
