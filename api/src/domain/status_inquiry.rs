//! 申請状況照会: an office asks where its submitted application stands, with the 受付番号 and
//! the 通知先メールアドレス it applied with. Nothing changes but the budgets.
//!
//! A 受付番号 has about 35 bits and the address is known to few, but either may leak (a
//! forwarded mail, a note on a desk), so a pair that does not name a submitted application —
//! an unknown number, another address — is answered alike, after the same work: the budgets
//! spent, one read by number, the addresses compared in constant time. Both budgets count every
//! inquiry, the client's (apart from its applying) and the number's (so that guessing the
//! address of one number from many clients stops too).

use std::time::Duration;

use subtle::ConstantTimeEq;

use reissue_shared::japan_time;
use reissue_shared::status_inquiry::{
    ApplicationStatusAnswer, ReferenceNumber, StatusInquiryInput,
};
use reissue_shared::{ApplicationStatus, EmailAddress};

use super::accounts;
use super::application::ReissueApplication;
use super::caller::Caller;
use super::rate_limit::{self, Budget};
use super::{Context, DomainError};
use crate::db::DbConnection;

/// Inquiries one client may make per [`WINDOW`].
pub const INQUIRIES_PER_CLIENT: u32 = 30;
/// Inquiries about one 受付番号 (from any client) per [`WINDOW`].
pub const INQUIRIES_PER_REFERENCE_NUMBER: u32 = 10;
/// The window of both budgets.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);

/// `POST /reissue-status`: where the application of this 受付番号 stands, if it was made with
/// this address; otherwise [`DomainError::InquiryNotFound`], the same for every mismatch.
pub async fn inquire(
    ctx: &Context,
    input: StatusInquiryInput,
    caller: Caller,
) -> Result<ApplicationStatusAnswer, DomainError> {
    let reference = input.reference_number.clone();
    // The spent budgets must be committed with a mismatch too, so the transaction answers the
    // outcome and the error is made after the commit.
    let answer = ctx
        .transaction(move |tx| {
            rate_limit::spend(tx.conn, &budgets(&caller, &input.reference_number), tx.now)?;
            let found = ReissueApplication::load_by_reference_number(
                tx.conn,
                input.reference_number.as_str(),
            )?;
            // An erased address (past the retention period) matches nothing.
            let stored = found
                .as_ref()
                .and_then(|application| application.email.as_ref());
            let matches = same_address(stored, &input.email);
            match found {
                Some(application) if matches && !application.status.is_unsubmitted() => {
                    answer(tx.conn, &application).map(Some)
                }
                _ => Ok::<_, DomainError>(None),
            }
        })
        .await?;
    // The reference number only: the address is personal data.
    tracing::info!(reference_number = %reference, found = answer.is_some(), "status inquiry");
    answer.ok_or(DomainError::InquiryNotFound)
}

/// The client's budget first, then the number's (the locking order of `rate_limit::check`).
fn budgets(caller: &Caller, reference: &ReferenceNumber) -> [Budget; 2] {
    [
        caller.inquiry_budget(INQUIRIES_PER_CLIENT, WINDOW),
        Budget::new(
            "inquiry:reference",
            reference.as_str(),
            INQUIRIES_PER_REFERENCE_NUMBER,
            WINDOW,
        ),
    ]
}

/// Whether the address given is the stored one, compared in constant time (ASCII case aside:
/// the shared parser has already made both half-width and trimmed). With nothing stored, a
/// comparison of the same cost that fails.
fn same_address(stored: Option<&EmailAddress>, given: &EmailAddress) -> bool {
    let given = given.as_str().to_ascii_lowercase();
    let (stored, exists) = match stored {
        Some(address) => (address.as_str().to_ascii_lowercase(), true),
        None => (given.clone(), false),
    };
    bool::from(stored.as_bytes().ct_eq(given.as_bytes())) && exists
}

fn answer(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<ApplicationStatusAnswer, DomainError> {
    let submission = application.submitted()?;
    let notice = accounts::current_notice(conn, &application.id.to_string())?;
    let status = application.status;
    Ok(ApplicationStatusAnswer {
        status,
        status_label: status.label().to_owned(),
        submitted_at: submission.submitted_at,
        decided_at: application.decided_at,
        // The day the reviewer recorded as 発送日, or for a notice posted before the register
        // existed, the day it was marked.
        notice_mailed_on: notice.and_then(|notice| match notice.posting {
            Some(posting) => Some(posting.mailed_on.to_string()),
            None => notice.mailed_at.map(japan_time::iso_date),
        }),
        rejection_reason: (status == ApplicationStatus::Rejected)
            .then(|| application.decision_reason.clone())
            .flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reissue_shared::email::NOTICE_EMAIL;

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text, NOTICE_EMAIL.field, NOTICE_EMAIL.label)
            .unwrap_or_else(|_| panic!("{text} must parse"))
    }

    #[test]
    fn addresses_match_whatever_their_ascii_case_and_nothing_stored_never_matches() {
        let stored = address("Jimusho@Example.jp");
        assert!(same_address(Some(&stored), &address("jimusho@example.JP")));
        assert!(!same_address(
            Some(&stored),
            &address("jimusho2@example.jp")
        ));
        assert!(!same_address(None, &address("jimusho@example.jp")));
    }
}
