//! The statuses of a reissue application, with their API names and the reviewers' labels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Created; the billing prefecture is not chosen yet.
    AwaitingPrefecture,
    /// A code was mailed; waiting for it to be entered (確認コード待ち).
    CodeSent,
    /// The code was right; waiting for 送信.
    Verified,
    /// Sent to the federation (審査待ち).
    Submitted,
    /// A reviewer is looking at it (審査中).
    InReview,
    /// Approved by one reviewer, waiting for a second reviewer of the prefecture to confirm
    /// it (二次承認待ち); no temporary password exists yet.
    AwaitingConfirmation,
    /// 承認.
    Approved,
    /// 却下.
    Rejected,
    /// 取下げ (also: replaced by a newer application of the same office).
    Withdrawn,
    /// 期限切れ: never submitted in time.
    Expired,
}

impl ApplicationStatus {
    /// Every status, in the order of the flow.
    pub const ALL: [Self; 10] = [
        Self::AwaitingPrefecture,
        Self::CodeSent,
        Self::Verified,
        Self::Submitted,
        Self::InReview,
        Self::AwaitingConfirmation,
        Self::Approved,
        Self::Rejected,
        Self::Withdrawn,
        Self::Expired,
    ];

    /// The API name, also stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingPrefecture => "awaiting_prefecture",
            Self::CodeSent => "code_sent",
            Self::Verified => "verified",
            Self::Submitted => "submitted",
            Self::InReview => "in_review",
            Self::AwaitingConfirmation => "awaiting_confirmation",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }

    /// The Japanese label shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            Self::AwaitingPrefecture => "都道府県選択待ち",
            Self::CodeSent => "確認コード待ち",
            Self::Verified => "送信待ち",
            Self::Submitted => "審査待ち",
            Self::InReview => "審査中",
            Self::AwaitingConfirmation => "二次承認待ち",
            Self::Approved => "承認",
            Self::Rejected => "却下",
            Self::Withdrawn => "取下げ",
            Self::Expired => "期限切れ",
        }
    }

    /// The statuses of an application the applicant is still filling in (not yet sent to the
    /// federation).
    pub const UNSUBMITTED: [Self; 3] = [Self::AwaitingPrefecture, Self::CodeSent, Self::Verified];

    /// Still being filled in by the applicant (one of [`Self::UNSUBMITTED`]).
    pub fn is_unsubmitted(self) -> bool {
        Self::UNSUBMITTED.contains(&self)
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status text that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown application status {:?}", self.0)
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for ApplicationStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_name_and_serde() {
        for status in ApplicationStatus::ALL {
            assert_eq!(status.as_str().parse::<ApplicationStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("approve".parse::<ApplicationStatus>().is_err());
    }

    #[test]
    fn labels_follow_the_design() {
        assert_eq!(ApplicationStatus::CodeSent.label(), "確認コード待ち");
        assert_eq!(ApplicationStatus::Submitted.label(), "審査待ち");
        assert_eq!(ApplicationStatus::Expired.label(), "期限切れ");
        assert_eq!(
            ApplicationStatus::AwaitingConfirmation.label(),
            "二次承認待ち"
        );
    }
}
