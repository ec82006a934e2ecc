"""`alefctl kyc`: submit an application, and the reviewers' queue."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    emit_list,
    emit_object,
    info,
    requires,
    state,
)
from alefctl.commands.refs import resolved

app = typer.Typer(help="KYC: submit, review queue, approve, reject or revoke.", no_args_is_help=True)
AppArg = Annotated[str, typer.Argument(help="Application id or id prefix.")]
QUEUE_COLUMNS = ("id", "email", "status", "full_name", "nationality", "document_type",
                 "document_number", "submitted_at")


@app.command("submit")
@command_errors
@requires("kyc.submit")
def submit(
    full_name: Annotated[str, typer.Option(help="Legal name as on the document.")],
    nationality: Annotated[str, typer.Option(help="ISO country code, e.g. AE.")],
    document_type: Annotated[str, typer.Option(
        help="passport, emirates_id, national_id or drivers_license.")],
    document_number: Annotated[str, typer.Option(help="Document number (stored encrypted).")],
    date_of_birth: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Submit the acting user's KYC application (use --as EMAIL)."""
    from alefctl.errors import InvalidInput
    from alefctl.pii import load_cipher
    from alefctl.workflows.kyc import KycSubmission, submit_kyc

    try:
        born = date.fromisoformat(date_of_birth) if date_of_birth else None
    except ValueError:
        raise InvalidInput("date_of_birth must be YYYY-MM-DD", field="date_of_birth") from None
    form = KycSubmission(full_name, nationality, document_type, document_number, born)
    with state.transaction() as (conn, actor):
        application = submit_kyc(conn, actor, form, load_cipher(state.settings()))
    emit(application.to_dict(), as_json,
         lambda: info(f"KYC application {application.id} submitted; status pending"))


@app.command("list")
@command_errors
@requires("kyc.review")
def list_(status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
          as_json: JsonOption = False) -> None:
    """The review queue, oldest first (document numbers masked)."""
    from alefctl.workflows.kyc import list_kyc

    with state.transaction() as (conn, actor):
        queue = list_kyc(conn, actor, status)
    emit_list("KYC queue", QUEUE_COLUMNS, queue, as_json)


@app.command("show")
@command_errors
@requires("kyc.review")
def show(application: AppArg, as_json: JsonOption = False) -> None:
    """Full application with personal data; the first view moves it to in_review."""
    from alefctl.pii import load_cipher
    from alefctl.workflows.kyc import open_kyc

    application_id = resolved("kyc application", application)
    with state.transaction() as (conn, actor):
        found = open_kyc(conn, actor, application_id, load_cipher(state.settings()))
    emit_object(f"KYC {found.id}", found, as_json)


@app.command("approve")
@command_errors
@requires("kyc.review")
def approve(application: AppArg,
            level: Annotated[int, typer.Option(help="KYC level 1-3 (3 institutional).")] = 2,
            notes: Annotated[str | None, typer.Option(help="Review notes.")] = None,
            as_json: JsonOption = False) -> None:
    """Approve an application at a KYC level."""
    _review(application, True, level, None, notes, as_json)


@app.command("reject")
@command_errors
@requires("kyc.review")
def reject(application: AppArg,
           reason: Annotated[str, typer.Option(help="Why (shown to the applicant).")],
           notes: Annotated[str | None, typer.Option(help="Internal notes.")] = None,
           as_json: JsonOption = False) -> None:
    """Reject an application with a reason; the user may resubmit."""
    _review(application, False, 2, reason, notes, as_json)


def _review(application: str, approve: bool, level: int, reason: str | None, notes: str | None,
            as_json: bool) -> None:
    from alefctl.workflows.kyc import review_kyc

    application_id = resolved("kyc application", application)
    with state.transaction() as (conn, actor):
        reviewed = review_kyc(conn, actor, application_id, approve=approve, kyc_level=level,
                              reason=reason, notes=notes)
    emit(reviewed.to_dict(), as_json, lambda: info(f"KYC {reviewed.id} {reviewed.status}"))


@app.command("revoke")
@command_errors
@requires("kyc.revoke")
def revoke(user: Annotated[str, typer.Argument(help="User id, id prefix or email.")],
           reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
           as_json: JsonOption = False) -> None:
    """Revoke a user's approved KYC; their open orders are cancelled; they may resubmit."""
    from alefctl.workflows.eligibility import revoke_kyc

    done = revoke_kyc(state.engine(), state.actor(), resolved("user", user), reason)
    message = f"KYC of {done.user.email} {'revoked' if done.changed else 'was not approved'}"
    if done.cancelled_orders:
        message += f"; {len(done.cancelled_orders)} open orders cancelled"
    emit(done.to_dict(), as_json, lambda: info(message))
