"""Two real processes triaging the same store at once: no lost note, no lost update, stale refused."""

from __future__ import annotations

from collections import Counter

from store_workers import Child, make_record, note_text

N_NOTES = 200  # per process


def test_two_processes_triaging_at_once(store, db_path):
    store.upsert_alerts(
        [make_record(j, prefix="R") for j in range(20)]
        + [make_record(0, prefix="N"), make_record(0, prefix="C")],
        scored_at="2026-03-02T06:00:00Z",
    )
    children = {name: Child("race", str(db_path), name, str(N_NOTES)) for name in ("alice", "bob")}
    for child in children.values():
        child.wait_for(lambda line: line == "ready")  # both have read versions 1 of R000000..R000019
    for child in children.values():
        child.send("go")
    lines = {name: child.finish() for name, child in children.items()}

    # 1. each racing acknowledgement succeeded in exactly one process; the other was told "stale"
    results = {
        name: {ln.split()[1]: ln.split()[2] for ln in ls if ln.startswith("ack ")}
        for name, ls in lines.items()
    }
    for j in range(20):
        alert_id = f"R{j:06d}"
        outcome = sorted((results["alice"][alert_id], results["bob"][alert_id]))
        assert outcome == ["ok", "stale"], (alert_id, outcome)
        winner = "alice" if results["alice"][alert_id] == "ok" else "bob"
        d = store.get(alert_id)
        assert (d.alert.status, d.alert.version) == ("acknowledged", 2)
        acks = [(e.actor, e.old, e.new) for e in d.audit if e.action == "acknowledged"]
        assert acks == [(winner, "new", "acknowledged")]

    # 2. every note either process reported committed is there, verbatim, once
    notes = store.get("N000000").notes
    assert len(notes) == 2 * N_NOTES
    by_id = {n.id: n for n in notes}
    for name, ls in lines.items():
        for ln in ls:
            if ln.startswith("note "):
                _, note_id, k = ln.split()
                assert by_id[int(note_id)].author == name
                assert by_id[int(note_id)].text == note_text(name, int(k))
    assert Counter(n.author for n in notes) == {"alice": N_NOTES, "bob": N_NOTES}

    # 3. read-modify-write with retry on stale: all 50 assignments landed, none overwritten unseen
    c = store.get("C000000")
    assigned = [e.new for e in c.audit if e.action == "assigned"]
    assert len(assigned) == 50 and c.alert.version == 51
    assert sorted(assigned) == sorted(f"{name}-{k}" for name in ("alice", "bob") for k in range(25))
    for name in ("alice", "bob"):  # each process's own assignments are in its own order
        mine = [a for a in assigned if a.startswith(name)]
        assert mine == [f"{name}-{k}" for k in range(25)]
    assert store.integrity_check() == ["ok"]
