"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from alefctl.db.probes import ping
from alefctl.server.problems import problem
from alefctl.server.state import server_state

router = APIRouter(tags=["system"])


@router.get("/healthz")
def health() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def ready(request: Request) -> dict | Response:
    """The database answers and the books are loaded."""
    try:
        with server_state(request).db.connect() as conn:
            ping(conn)
    except Exception as exc:  # any failure means not ready
        return problem(503, "unavailable", f"database unavailable: {type(exc).__name__}")
    return {"status": "ready"}


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of this server's metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    state = server_state(request)
    state.metrics.queue_depth.set(state.writer.depth())
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
