"""Token deployments started over HTTP, run in the background (one thread per token).

POST /api/v1/admin/tokens/:id/deploy answers at once (202, status deploying) and the spec's five
transactions run here, through the same workflow as `alefctl token deploy`, so a deployment
stopped part-way (a failure, a restart) resumes where it stopped. What GET shows comes from
the database (workflows/onchain/deployment.py); this module adds only that a deployment it
started is under way before the workflow takes the deployment's lock. The chain is opened
per deployment (the server state's chain_opener, if set, replaces open_chain, as in the settlement
loop).
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

from alefctl.errors import AlefError
from alefctl.redact import get_logger
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.deploy import check_deployable, deploy_token, record_deploy_failure
from alefctl.workflows.onchain.deployment import deployment_state
from alefctl.workflows.tokens import get_token

if TYPE_CHECKING:
    from alefctl.server.state import ServerState

log = get_logger("alefctl.deploy")


class Deployments:
    """The deployment threads this server started, by token id."""

    def __init__(self) -> None:
        self._threads: dict[uuid.UUID, threading.Thread] = {}
        self._lock = threading.Lock()

    def state(self, server: ServerState, token_ref: str) -> dict[str, Any]:
        """The token's deployment state; `deploying` while a thread of this server runs it."""
        with server.db.begin() as conn:
            state = deployment_state(conn, token_ref)
        if state["status"] != "deployed" and self.running(state["token_id"]):
            state["status"], state["error"] = "deploying", None
        return state

    def start(self, server: ServerState, actor: Actor, token_ref: str) -> dict[str, Any]:
        """Start deploying (or resuming) a draft token unless it is deployed or under way;
        returns its state. NotFound, PermissionDenied and Conflict are raised at once."""
        policy.require(actor, "token.deploy")
        with server.db.begin() as conn:
            token = get_token(conn, token_ref)
        check_deployable(token)
        with self._lock:
            state = self.state(server, str(token.id))
            if state["status"] in ("deployed", "deploying"):
                return state
            thread = threading.Thread(target=_deploy, args=(server, actor, token.id), daemon=True,
                                      name=f"deploy-{token.symbol}")
            self._threads[token.id] = thread
            thread.start()
        return {**state, "status": "deploying", "error": None}

    def running(self, token_id: uuid.UUID) -> bool:
        """True while a deployment thread of this server works on the token."""
        thread = self._threads.get(token_id)
        return thread is not None and thread.is_alive()


def _deploy(server: ServerState, actor: Actor, token_id: uuid.UUID) -> None:
    """The thread: open the chain, run the workflow; a failure is recorded, never raised."""
    opener = server.chain_opener
    db = server.db
    try:
        client = opener() if opener is not None else _open_chain(server)
    except Exception as error:  # the deployment never began: record why, for GET to show
        log.warning("deploying token %s: the chain could not be opened: %s", token_id, error)
        record_deploy_failure(db, actor, token_id, error)
        return
    try:
        deploy_token(db, actor, str(token_id), client)  # records its own failures
    except AlefError as error:
        log.warning("deploying token %s stopped: %s", token_id, error.message)
    except Exception:
        log.exception("deploying token %s failed", token_id)
    finally:
        if opener is None:
            client.close()


def _open_chain(server: ServerState) -> Any:
    from alefctl.chain_access import open_chain

    return open_chain(server.settings)
