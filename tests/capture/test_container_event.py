"""A container event (old captures) has the container.* fields of the container it announces.

Today's container plugin parses the event's JSON into its cache and answers container.* for that
very event from it (falcosecurity/plugins, plugins/container/src/caps/extract/extract.cpp:
``m_last_container`` for PPME_CONTAINER_JSON_E), whether or not a thread of the container exists.
"""

from __future__ import annotations

from falco_lab.capture import capture_events
from tests.capture._files import capture


def test_the_privileged_nginx_container_event() -> None:
    rows = list(capture_events(capture("falco__psp_privileged.scap")))
    assert [row["evt.type"] for row in rows] == ["container"]
    fields = {key: value for key, value in rows[0].items() if key.startswith("container.")}
    assert fields == {
        "container.id": "9dbcbd0c435f",
        "container.name": "epic_cray",
        "container.image": "nginx:latest",
        "container.image.repository": "nginx",
        "container.image.tag": "latest",
        "container.privileged": True,
    }


def test_other_events_have_their_threads_container() -> None:
    rows = list(capture_events(capture("falco__psp_run_as_user_0_container.scap")))
    ids = {(row["evt.type"], row["container.id"]) for row in rows if row["evt.type"] in ("execve", "read")}
    assert ids == {("execve", "697956520d89"), ("read", "697956520d89"), ("read", "host")}
