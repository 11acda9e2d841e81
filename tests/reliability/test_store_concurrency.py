"""The embedded store under the chaos drill's load: reads racing in-place writes on other threads."""
from __future__ import annotations

import threading

from ecom_project.mongo import get_db


def test_reads_never_see_a_document_mid_write():
    collection = get_db()["race_probe"]
    collection.insert_many([{"_id": str(i), "fields": {}} for i in range(50)])
    stop, errors = threading.Event(), []

    def write_forever() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            collection.update_one({"_id": str(n % 50)}, {"$set": {f"fields.f{n}": n}})

    writer = threading.Thread(target=write_forever)
    writer.start()
    try:
        for _ in range(300):
            list(collection.find({}, {"fields": 1}).sort([("_id", 1)]).limit(20))
            collection.find_one({"_id": "3"})
    except RuntimeError as exc:  # "dictionary changed size during iteration"
        errors.append(exc)
    finally:
        stop.set()
        writer.join()
    assert not errors
