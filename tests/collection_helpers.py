"""Helpers for collection tests: read the simulator's streams independently."""

import requests

from alienapps.models import CollectionRun, LogCollectionJob


def served_ids(sim, stream: str) -> set[str]:
    """Page through ``stream`` straight from the simulator and return every item id."""
    headers = {"x-api-key": sim.api_key, "Authorization": sim.authorization}
    url = f"{sim.url}/gateway/siem/v1/{stream}"
    params = {"limit": 1000}
    ids: set[str] = set()
    for _ in range(1000):
        body = requests.get(url, params=params, headers=headers, timeout=10).json()
        ids.update(item["id"] for item in body["items"])
        if not body["has_more"]:
            return ids
        params = {"limit": 1000, "cursor": body["next_cursor"]}
    raise AssertionError("the simulator never reached has_more false")


def api_requests(sim, stream: str) -> list[dict]:
    return [r for r in sim.requests if r["path"].endswith(f"/siem/v1/{stream}")]


def job_of(connection, stream: str) -> LogCollectionJob:
    return LogCollectionJob.objects.get(connection=connection, stream=stream)


def latest_run(job) -> CollectionRun:
    return job.runs.order_by("-id").first()
