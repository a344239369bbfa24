"""schemathesis hooks of the API fuzzing (`fuzz_api` in ./dev).

The checks judge a response by the OpenAPI document alone. A few answers are right for reasons
the document cannot state; each is recognised here by its exact shape and dropped (schemathesis
counts them as "Filtered"). Every other failure stays and fails the run.
"""

import schemathesis
from schemathesis.openapi.checks import AuthScenario, IgnoredAuth, RejectedPositiveData


def problem(response):
    """The problem+json body of a refusal, or {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def only_field_errors(response, field, code):
    errors = problem(response).get("errors") or []
    return bool(errors) and all(e.get("field") == field and e.get("code") == code for e in errors)


def is_confirmation_mismatch(case, response):
    """`email_confirmation` differs from `email` (manual step 6: the address typed twice must
    match). OpenAPI cannot say "equal to another member", so a generated valid body may differ."""
    body = case.body
    return (
        isinstance(body, dict)
        and body.get("email") != body.get("email_confirmation")
        and only_field_errors(response, "email_confirmation", "mismatch")
    )


def is_rejection_without_reason(case, response):
    """A rejection needs a reason, shown to the office (an approval does not). "reason is
    required when decision is rejected" is a rule between two members, which the document's
    schema generator cannot state."""
    body = case.body
    reason = body.get("reason") if isinstance(body, dict) else None
    return (
        isinstance(body, dict)
        and body.get("decision") == "rejected"
        and (reason is None or (isinstance(reason, str) and not reason.strip()))
        and only_field_errors(response, "reason", "required")
    )


def is_send_back_without_reason(case, response):
    """Sending an approval or a reprint request back (`confirm: false`) needs a reason, kept in
    the history (confirming does not): like a rejection's, a rule between two members."""
    body = case.body
    reason = body.get("reason") if isinstance(body, dict) else None
    return (
        isinstance(body, dict)
        and body.get("confirm") is False
        and (reason is None or (isinstance(reason, str) and not reason.strip()))
        and only_field_errors(response, "reason", "required")
    )


def is_two_second_factors(case, response):
    """A reviewer's login takes the app's code or a recovery code, not both: "at most one of
    two members" is a rule the document's schema generator cannot state."""
    body = case.body
    return (
        isinstance(body, dict)
        and bool(body.get("totp_code"))
        and bool(body.get("recovery_code"))
        and only_field_errors(response, "recovery_code", "invalid_format")
    )


def is_password_rule_refusal(response):
    """The manual's rule for a new password has parts no schema states: not a commonly used
    password, not the user ID, not the current or temporary password. They are checked before
    the current password (so that a request that breaks them is answered with its fields), and
    so is an empty current password (the document does not yet say minLength 1 for it)."""
    return only_field_errors(response, "new_password", "invalid_format") or only_field_errors(
        response, "current_password", "required"
    )


# Refusals that depend on what the server holds, not on the request's shape: the mailed code
# (`wrong_code`, with the attempts left), the ledger (manual step 7: the office must be a care
# office in the chosen prefecture's ledger), and a lock-out (`account_locked`: the fuzzer's own
# wrong passwords for the example user ID lock it, at login and in the password change alike).
# No schema can know any of them.
REFUSALS_BY_STORED_DATA = {
    "wrong_code",
    "office_not_in_ledger",
    "office_not_care",
    "agent_not_allowed",
    "account_locked",
}


def is_refused_by_stored_data(response):
    """Also a wrong current password: only the office knows the right one."""
    return problem(response).get("code") in REFUSALS_BY_STORED_DATA or only_field_errors(
        response, "current_password", "unknown_value"
    )


def is_key_of_another_request(response):
    """The Idempotency-Key's documented example, sent with the bodies of several operations: a
    key already used for another request is refused (422 `idempotency_key_reused`), as the
    header's description says; a client sends a new key with each new request."""
    return problem(response).get("code") == "idempotency_key_reused"


def is_foreign_token_not_found(case, failure):
    """An application's or a password reset's token opens only its own resource; another token
    answers 404 ("Unknown id, or the token is for another application" in the document), so the
    answer never tells whether the id exists. The auth check expects 401 or 403 there."""
    return (
        failure.scenario == AuthScenario.INVALID_AUTH
        and "got `404 " in failure.message
        and case.operation.path.startswith(("/api/v1/reissue-applications/{id}", "/api/v1/password-resets/{id}"))
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if isinstance(failure, RejectedPositiveData) and response.status_code in (422, 423):
        return not (
            is_confirmation_mismatch(case, response)
            or is_rejection_without_reason(case, response)
            or is_send_back_without_reason(case, response)
            or is_two_second_factors(case, response)
            or is_refused_by_stored_data(response)
            or is_password_rule_refusal(response)
            or is_federation_rule_refusal(case, response)
            or is_key_of_another_request(response)
        )
    if isinstance(failure, IgnoredAuth):
        return not is_foreign_token_not_found(case, failure)
    return True


def is_federation_rule_refusal(case, response):
    """The federation's rules between members or on stored settings, which no schema states:
    envelope instructions are required when the prefecture requires an envelope (and for an
    envelope request, the prefecture must have set them); the dispatch register's days must be
    real calendar days, `from` not after `to`, and at most 366 days apart."""
    path = case.operation.path
    if only_field_errors(response, "envelope_instructions", "required"):
        return path in (
            "/api/v1/admin/prefecture-settings",
            "/api/v1/admin/applications/{id}/envelope-request",
        )
    errors = problem(response).get("errors") or []
    if path == "/api/v1/admin/applications/{id}/notice-mailed":
        # The registered post's check digit, a real calendar day, and a day between the
        # notice's issue and today.
        allowed = {("tracking_number", "invalid_format"), ("mailed_on", "invalid_format"), ("mailed_on", "unknown_value")}
        return bool(errors) and all((e.get("field"), e.get("code")) in allowed for e in errors)
    return (
        path == "/api/v1/admin/dispatch-register"
        and bool(errors)
        and all(e.get("field") in ("from", "to") and e.get("code") == "invalid_format" for e in errors)
    )
