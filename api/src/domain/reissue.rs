//! The applicant's use cases (manual steps 6–11): create, choose prefecture (ledger check and
//! code mail), re-send, verify, submit, and read. Each runs in one transaction; mail is queued
//! in the outbox inside it, so a code is mailed if and only if it was stored.

use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::dto::{
    ApplicationView, CodeSent, CreatedApplication, NewApplicationInput, Submitted, Verified,
};
use reissue_shared::{PrefectureCode, VerificationCode};

use super::application::{ReissueApplication, VerificationOutcome};
use super::audit::{AuditAction, AuditEvent};
use super::caller::Caller;
use super::error::DomainError;
use super::ledger::{LedgerEntry, OfficeKind};
use super::pseudonyms::{pseudonym, Personal};
use super::rate_limit::{self, Budget};
use super::secrets::{generate_code, generate_reference_number, generate_token};
use super::templates;
use super::{Context, Tx};
use crate::db::{self, StorageError};

const TOKEN_PURPOSE: &str = "application-token";
const CODE_PURPOSE: &str = "application-code";
const CODE_DIGITS: u32 = reissue_shared::code::APPLICATION_CODE_DIGITS as u32;

/// Step 6: a new application. Any unsubmitted application of the same office is superseded
/// (one open application per office).
pub async fn create(
    ctx: &Context,
    input: NewApplicationInput,
    caller: Caller,
) -> Result<CreatedApplication, DomainError> {
    let token = generate_token();
    // Two simultaneous applications of one office: the unique index lets one in; the other
    // runs again and supersedes it.
    let created = retry_on_unique_violation(|| {
        create_once(ctx, input.clone(), caller.clone(), token.clone())
    })
    .await?;
    Ok(CreatedApplication {
        id: created.id,
        token: token.into(),
        status: created.status,
    })
}

async fn create_once(
    ctx: &Context,
    input: NewApplicationInput,
    caller: Caller,
    token: String,
) -> Result<ReissueApplication, DomainError> {
    ctx.transaction(move |tx| {
        let now = tx.now;
        caller.spend_request(tx, &[])?;
        db::applications::lock_office(tx.conn, &input.office_number)?;
        let mut application = ReissueApplication::new(
            input.office_number,
            input.email,
            String::new(),
            caller.address.clone(),
            now,
            &tx.ctx.limits,
        );
        application.token_hash = tx
            .ctx
            .hasher
            .digest(TOKEN_PURPOSE, &[&application.id.to_string(), &token]);
        for mut previous in
            ReissueApplication::unsubmitted_of_office(tx.conn, &application.office_number)?
        {
            previous.supersede(now);
            previous.save(tx.conn)?;
            audit(
                tx,
                &previous,
                "system",
                AuditAction::ApplicationSuperseded,
                format!("replaced by {}", application.id),
            )?;
        }
        application.insert(tx.conn)?;
        audit(
            tx,
            &application,
            caller.actor(&tx.ctx.hasher),
            AuditAction::ApplicationCreated,
            "",
        )?;
        Ok(application)
    })
    .await
}

/// Step 7: the billing prefecture. Checks the office against that prefecture's ledger and
/// mails a code.
pub async fn choose_prefecture(
    ctx: &Context,
    id: Uuid,
    token: String,
    prefecture: PrefectureCode,
    caller: Caller,
) -> Result<CodeSent, DomainError> {
    with_application(ctx, id, token, move |tx, mut application| {
        let (ctx, now) = (tx.ctx, tx.now);
        application.ensure_open(now)?;
        caller.spend_request(tx, &[])?;
        let entry = LedgerEntry::find(tx.conn, prefecture, &application.office_number)?
            .ok_or_else(|| DomainError::OfficeNotInLedger {
                office_number: application.office_number.clone(),
                prefecture,
            })?;
        match entry.kind {
            OfficeKind::Care => {}
            OfficeKind::Disability => {
                return Err(DomainError::OfficeNotCare {
                    office_number: application.office_number.clone(),
                    prefecture,
                })
            }
            OfficeKind::Agent => {
                return Err(DomainError::AgentNotAllowed {
                    office_number: application.office_number.clone(),
                })
            }
        }
        application.choose_prefecture(prefecture, entry.office_name, now)?;
        let chosen = AuditEvent::for_application(
            &application,
            caller.actor(&ctx.hasher),
            AuditAction::PrefectureChosen,
            "",
            now,
        );
        send_code(tx, &mut application, &caller, Some(chosen))
    })
    .await
}

/// 確認コードを再送信: a new code; the old one dies.
pub async fn resend_code(
    ctx: &Context,
    id: Uuid,
    token: String,
    caller: Caller,
) -> Result<CodeSent, DomainError> {
    with_application(ctx, id, token, move |tx, mut application| {
        application.check_can_issue_code(tx.now, &tx.ctx.limits)?;
        caller.spend_request(tx, &[])?;
        send_code(tx, &mut application, &caller, None)
    })
    .await
}

/// Step 9: the code from the mail.
pub async fn verify(
    ctx: &Context,
    id: Uuid,
    token: String,
    code: VerificationCode,
    caller: Caller,
) -> Result<Verified, DomainError> {
    // The wrong-try count must be committed even though the answer is an error, so the
    // transaction returns the outcome and the error is made after the commit.
    let (application, outcome) = with_application(ctx, id, token, move |tx, mut application| {
        let (ctx, now) = (tx.ctx, tx.now);
        let stored_hash = application.check_can_verify(now, &ctx.limits)?.hash.clone();
        let wrong_budgets = wrong_code_budgets(ctx, &application)?;
        // The client's budget first, then the wrong tries' (the locking order); a refusal by
        // the latter rolls the client's count back with the rest.
        caller.spend_request(tx, &[])?;
        rate_limit::check(tx.conn, &wrong_budgets, now)?;
        let matches = ctx.hasher.verify(
            &stored_hash,
            CODE_PURPOSE,
            &[&application.id.to_string(), code.as_str()],
        );
        let outcome = application.record_code_entry(matches, now, &ctx.limits)?;
        let action = match outcome {
            VerificationOutcome::Verified => AuditAction::CodeVerified,
            VerificationOutcome::Wrong { .. } => AuditAction::CodeWrong,
            VerificationOutcome::Locked => AuditAction::CodeLocked,
        };
        if outcome != VerificationOutcome::Verified {
            rate_limit::record(tx.conn, &wrong_budgets, now)?;
        }
        application.save(tx.conn)?;
        audit(tx, &application, caller.actor(&ctx.hasher), action, "")?;
        Ok((application, outcome))
    })
    .await?;
    match outcome {
        VerificationOutcome::Verified => verified_view(&application),
        VerificationOutcome::Wrong { attempts_left } => {
            Err(DomainError::WrongCode { attempts_left })
        }
        VerificationOutcome::Locked => Err(DomainError::CodeLocked {
            max_attempts: ctx.limits.code_max_attempts,
        }),
    }
}

/// Steps 10–11: 送信. Gives the reference number.
pub async fn submit(
    ctx: &Context,
    id: Uuid,
    token: String,
    caller: Caller,
) -> Result<Submitted, DomainError> {
    // A reference number collision is astronomically rare, but the unique index would refuse
    // it; try again with a new number rather than fail the applicant.
    let (status, submission) = retry_on_unique_violation(|| {
        let caller = caller.clone();
        with_application(
            ctx,
            id,
            token.clone(),
            move |tx, mut application| {
                let now = tx.now;
                let submission = application.submit(generate_reference_number(), now)?.clone();
                application.save(tx.conn)?;
                // A fraudulent application is noticed before the letter arrives.
                if let Some(prefecture) = application.prefecture {
                    let what = format!(
                        "ログイン情報の再発行申請が送信されました（受付番号 {}、通知先メールアドレス {}）。",
                        submission.reference_number,
                        application.notification_address()?
                    );
                    super::accounts::notify_office(
                        tx,
                        prefecture.as_str(),
                        application.office_number.as_str(),
                        &what,
                    )?;
                }
                audit(
                    tx,
                    &application,
                    caller.actor(&tx.ctx.hasher),
                    AuditAction::ApplicationSubmitted,
                    submission.reference_number.clone(),
                )?;
                Ok((application.status, submission))
            },
        )
    })
    .await?;
    Ok(Submitted {
        status,
        reference_number: submission.reference_number,
        submitted_at: submission.submitted_at,
    })
}

/// `GET /reissue-applications/{id}`.
pub async fn view(
    ctx: &Context,
    id: Uuid,
    token: String,
    caller: Caller,
) -> Result<ApplicationView, DomainError> {
    // A read by key: no transaction and no row lock. The client's budget is read in the same
    // unit of work for the answer's `RateLimit` field (the page is not counted against it).
    ctx.lookup(move |conn, ctx, now| {
        let found = ReissueApplication::load(conn, id)?;
        let application = authorize(ctx, found, id, &token)?;
        caller.note_standing(conn, ctx, now)?;
        Ok(application_view(&application, ctx, now))
    })
    .await
}

fn application_view(a: &ReissueApplication, ctx: &Context, now: OffsetDateTime) -> ApplicationView {
    let status = a.effective_status(now);
    let verified_or_later = a.verified_at.is_some();
    ApplicationView {
        id: a.id,
        status,
        status_label: status.label().to_owned(),
        office_number: a.office_number.as_str().to_owned(),
        // The applicant's token opens no erased application; an empty address is never shown.
        email: a
            .email
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        prefecture_code: a.prefecture.map(|p| p.as_str().to_owned()),
        prefecture_name: a.prefecture.map(|p| p.name().to_owned()),
        office_name: a.office_name.clone().filter(|_| verified_or_later),
        code_expires_at: a.code.as_ref().map(|c| c.expires_at),
        attempts_left: a.attempts_left(&ctx.limits),
        codes_remaining: a.codes_remaining(&ctx.limits),
        reference_number: a.reference_number().map(str::to_owned),
        submitted_at: a.submission.as_ref().map(|s| s.submitted_at),
        created_at: a.created_at,
        expires_at: a.expires_at,
    }
}

fn verified_view(a: &ReissueApplication) -> Result<Verified, DomainError> {
    let prefecture = a.prefecture.ok_or(DomainError::NoActiveCode)?;
    Ok(Verified {
        status: a.status,
        office_number: a.office_number.as_str().to_owned(),
        office_name: a.office_name.clone().unwrap_or_default(),
        email: a.notification_address()?.to_string(),
        prefecture_code: prefecture.as_str().to_owned(),
        prefecture_name: prefecture.name().to_owned(),
    })
}

/// Issues a code, stores its hash, queues the mail (same transaction), records budgets. The
/// audit log gets `step`, the event of the step that leads to the code (the prefecture's
/// choice), if any, and the code's, in one statement.
fn send_code(
    tx: &mut Tx<'_>,
    application: &mut ReissueApplication,
    caller: &Caller,
    step: Option<AuditEvent>,
) -> Result<CodeSent, DomainError> {
    let (ctx, now) = (tx.ctx, tx.now);
    let email = application.notification_address()?.clone();
    let budgets = [
        Budget::new(
            "code:office",
            application.office_number.as_str(),
            ctx.limits.codes_per_office,
            ctx.limits.budget_window,
        ),
        Budget::new(
            "code:email",
            email.as_str(),
            ctx.limits.codes_per_email,
            ctx.limits.budget_window,
        ),
    ];
    // Counted before the code exists: a failure after this rolls the count back with it.
    rate_limit::spend(tx.conn, &budgets, now)?;
    let code = generate_code(CODE_DIGITS);
    let hash = ctx
        .hasher
        .digest(CODE_PURPOSE, &[&application.id.to_string(), &code]);
    application.issue_code(hash, now, &ctx.limits)?;
    application.save(tx.conn)?;
    let contact = super::federation::contact(tx.conn, application.prefecture)?;
    tx.queue_mail(
        email.as_str(),
        templates::code_notice(&code, ctx.limits.code_ttl, &contact),
        Some(application.id),
    )?;
    let detail = format!(
        "code #{} to {}",
        application.codes_issued,
        pseudonym(&ctx.hasher, Personal::Email(email.as_str()))
    );
    let code_sent = AuditEvent::for_application(
        application,
        caller.actor(&ctx.hasher),
        AuditAction::CodeSent,
        detail,
        now,
    );
    match step {
        Some(step) => AuditEvent::record_pair(tx.conn, &step, &code_sent)?,
        None => code_sent.record(tx.conn)?,
    }
    let expires_at = application.code.as_ref().map_or(now, |c| c.expires_at);
    Ok(CodeSent {
        status: application.status,
        email: email.to_string(),
        code_expires_at: expires_at,
        codes_remaining: application.codes_remaining(&ctx.limits),
    })
}

fn wrong_code_budgets(
    ctx: &Context,
    application: &ReissueApplication,
) -> Result<Vec<Budget>, DomainError> {
    let email = application.notification_address()?;
    Ok(vec![
        Budget::new(
            "wrong:office",
            application.office_number.as_str(),
            ctx.limits.wrong_codes_per_office,
            ctx.limits.budget_window,
        ),
        Budget::new(
            "wrong:email",
            email.as_str(),
            ctx.limits.wrong_codes_per_email,
            ctx.limits.budget_window,
        ),
    ])
}

/// Runs `work` in one transaction on the application that `token` opens (locked).
async fn with_application<T, F>(
    ctx: &Context,
    id: Uuid,
    token: String,
    work: F,
) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&mut Tx<'_>, ReissueApplication) -> Result<T, DomainError> + Send + 'static,
{
    ctx.transaction(move |tx| {
        let found = ReissueApplication::load_for_update(tx.conn, id)?;
        let application = authorize(tx.ctx, found, id, &token)?;
        work(tx, application)
    })
    .await
}

/// Runs `attempt` again, up to five times in all, when a unique index refused its write
/// (a racing writer got there first; the next attempt sees its row).
async fn retry_on_unique_violation<T, F, Fut>(mut attempt: F) -> Result<T, DomainError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DomainError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(DomainError::Storage(error)) if error.is_unique_violation() && tries < 5 => {}
            other => return other,
        }
    }
}

/// The application if `token` opens it. A token for another application, or an unknown id, is
/// "not found": the answer never tells whether the id exists.
fn authorize(
    ctx: &Context,
    found: Option<ReissueApplication>,
    id: Uuid,
    token: &str,
) -> Result<ReissueApplication, DomainError> {
    let application = found.ok_or(DomainError::NotFound)?;
    if ctx.hasher.verify(
        &application.token_hash,
        TOKEN_PURPOSE,
        &[&id.to_string(), token],
    ) {
        Ok(application)
    } else {
        Err(DomainError::NotFound)
    }
}

fn audit(
    tx: &mut Tx<'_>,
    application: &ReissueApplication,
    actor: impl Into<String>,
    action: AuditAction,
    detail: impl Into<String>,
) -> Result<(), StorageError> {
    AuditEvent::for_application(application, actor, action, detail, tx.now).record(tx.conn)
}
