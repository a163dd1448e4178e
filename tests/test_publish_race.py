"""Two analysts publish the same procedure at the same moment: each gets its own version number,
consecutive, and nobody sees a 500 — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import World

KEY = "budget-transfer"


def _variant(xml: bytes, label: str) -> bytes:
    # A comment is enough to make a different file, hence a different version.
    return xml.replace(b"?>", f"?>\n<!-- {label} -->".encode(), 1)


def test_two_concurrent_publications_get_consecutive_versions(any_world: World) -> None:
    world = any_world
    api = world.api("analyst")
    before = api.get(f"/processes/{KEY}").get_json()["latest_version"]
    xml = api.get(f"/processes/{KEY}/bpmn").data
    for round_ in range(2):  # more than one chance for the race to show
        barrier = threading.Barrier(2)
        results: list[tuple[int, Any]] = []

        def publish(label: str, barrier: threading.Barrier, results: list[tuple[int, Any]]) -> None:
            client = world.api("analyst")
            body = _variant(xml, label)
            barrier.wait()
            response = client.put(f"/processes/{KEY}/bpmn", data=body, content_type="application/xml")
            results.append((response.status_code, response.get_json()))

        threads = [threading.Thread(target=publish, args=(f"r{round_} analyst {n}", barrier, results))
                   for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(results) == 2, results
        assert all(code == 201 for code, _ in results), results
    versions = [v["version"] for v in api.get(f"/processes/{KEY}").get_json()["versions"]]
    assert sorted(versions)[-4:] == [before + 1, before + 2, before + 3, before + 4]
    assert len(versions) == len(set(versions))


def test_publishers_that_both_read_the_same_latest_version_both_succeed(any_world: World) -> None:
    """The narrow window made wide: both publishers hold their write transaction, having read the same
    latest version, before either inserts (PostgreSQL lets them; SQLite's write lock serializes them)."""
    world = any_world
    khanton = world.khanton
    xml = world.api("analyst").get(f"/processes/{KEY}/bpmn").data
    barrier = threading.Barrier(2)

    def hold(_session: Any) -> None:
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass  # SQLite: the other publisher waits for the write lock, never reaches here together

    results: list[Any] = []

    def publish(label: str) -> None:
        try:
            results.append(khanton._publish([(f"{KEY}.bpmn", _variant(xml, label))], {f"{KEY}.bpmn": KEY},
                                            "analyst", before=hold)[0])
        except Exception as err:  # the assertion below shows what went wrong
            results.append(err)

    threads = [threading.Thread(target=publish, args=(f"held {n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not isinstance(r, Exception) for r in results), results
    numbers = sorted(r.version for r in results)
    assert numbers[1] == numbers[0] + 1 and all(r.created for r in results), results
