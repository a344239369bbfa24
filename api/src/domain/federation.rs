//! The federation's own settings and registers (DESIGN.md "The federation's workflow"): each
//! prefecture's settings, which mails and notices sign with, and the dispatch register (発送簿)
//! of posted notices.

use time::OffsetDateTime;

use reissue_shared::admin::ReviewerRole;
use reissue_shared::federation::{
    DispatchEntry, DispatchQuery, DispatchRegister, PrefectureSettings, PrefectureSettingsView,
    TrackingNumber, ValidSettings,
};
use reissue_shared::PrefectureCode;

use super::audit::{AuditAction, AuditEvent};
use super::sessions::Reviewer;
use super::templates::Contact;
use super::{Context, DomainError};
use crate::db::models::{from_db_time, to_db_time, PrefectureSettingsRow};
use crate::db::{self, DbConnection, StorageError};

/// A prefecture's settings in force, and who saved them last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationSettings {
    /// Whose.
    pub prefecture: PrefectureCode,
    /// The settings (the defaults until a supervisor saves them).
    pub settings: PrefectureSettings,
    /// When and by whom (`reviewers.id`) they were saved, if ever.
    pub saved: Option<(OffsetDateTime, String)>,
}

impl FederationSettings {
    /// The prefecture's settings, or the defaults while it has none of its own.
    pub fn load(conn: &mut DbConnection, prefecture: PrefectureCode) -> Result<Self, StorageError> {
        match db::federation::find_settings(conn, prefecture.as_str())? {
            Some(row) => Self::try_from(row),
            None => Ok(Self {
                prefecture,
                settings: PrefectureSettings::defaults_for(prefecture.name()),
                saved: None,
            }),
        }
    }

    /// How the prefecture's mails end: its help desk, and who to call about a surprise.
    pub fn contact(&self) -> Contact {
        let settings = &self.settings;
        let federation = if settings.federation_phone.is_empty() {
            settings.federation_name.clone()
        } else {
            format!(
                "{}（電話 {}）",
                settings.federation_name, settings.federation_phone
            )
        };
        Contact {
            helpdesk_phone: settings.helpdesk_phone.clone(),
            federation,
        }
    }
}

impl TryFrom<PrefectureSettingsRow> for FederationSettings {
    type Error = StorageError;

    fn try_from(row: PrefectureSettingsRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str| {
            StorageError::Corrupt(format!(
                "prefecture settings {}: {what}",
                row.prefecture_code
            ))
        };
        Ok(Self {
            prefecture: PrefectureCode::parse(&row.prefecture_code)
                .map_err(|_| corrupt("prefecture_code"))?,
            settings: PrefectureSettings {
                review_target_business_days: u32::try_from(row.review_target_business_days)
                    .map_err(|_| corrupt("review_target_business_days"))?,
                federation_name: row.federation_name,
                federation_address: row.federation_address,
                federation_phone: row.federation_phone,
                helpdesk_phone: row.helpdesk_phone,
                return_envelope_required: row.return_envelope_required,
                envelope_instructions: row.envelope_instructions,
                callback_required: row.callback_required,
            },
            saved: Some((from_db_time(row.updated_at), row.updated_by)),
        })
    }
}

impl From<&FederationSettings> for PrefectureSettingsRow {
    fn from(entity: &FederationSettings) -> Self {
        let settings = &entity.settings;
        let (updated_at, updated_by) = entity
            .saved
            .clone()
            .unwrap_or((OffsetDateTime::UNIX_EPOCH, String::new()));
        Self {
            prefecture_code: entity.prefecture.as_str().to_owned(),
            federation_name: settings.federation_name.clone(),
            federation_address: settings.federation_address.clone(),
            federation_phone: settings.federation_phone.clone(),
            helpdesk_phone: settings.helpdesk_phone.clone(),
            return_envelope_required: settings.return_envelope_required,
            envelope_instructions: settings.envelope_instructions.clone(),
            callback_required: settings.callback_required,
            review_target_business_days: i32::try_from(settings.review_target_business_days)
                .unwrap_or(i32::MAX),
            updated_at: to_db_time(updated_at),
            updated_by,
        }
    }
}

/// The mail contact of a prefecture (the manual's help desk for none).
pub fn contact(
    conn: &mut DbConnection,
    prefecture: Option<PrefectureCode>,
) -> Result<Contact, StorageError> {
    match prefecture {
        Some(prefecture) => Ok(FederationSettings::load(conn, prefecture)?.contact()),
        None => Ok(Contact::manual()),
    }
}

fn view_of(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    entity: FederationSettings,
) -> Result<PrefectureSettingsView, DomainError> {
    let (updated_at, updated_by) = match entity.saved {
        Some((at, by)) if by == SEEDED_BY => (Some(at), Some("初期設定".to_owned())),
        Some((at, by)) => (Some(at), Some(reviewer_name(conn, &by)?)),
        None => (None, None),
    };
    Ok(PrefectureSettingsView {
        prefecture_code: entity.prefecture.as_str().to_owned(),
        prefecture_name: entity.prefecture.name().to_owned(),
        settings: entity.settings,
        updated_at,
        updated_by,
        editable: reviewer.role == ReviewerRole::Supervisor,
    })
}

/// A reviewer's name as stored now (an id without an account shows as its audit actor).
pub(crate) fn reviewer_name(conn: &mut DbConnection, id: &str) -> Result<String, DomainError> {
    Ok(db::reviewers::find(conn, id)?
        .map(|row| row.name)
        .unwrap_or_else(|| format!("reviewer:{id}")))
}

/// The reviewer's prefecture's settings (every reviewer reads them; they shape the work).
pub async fn settings(
    ctx: &Context,
    reviewer: Reviewer,
) -> Result<PrefectureSettingsView, DomainError> {
    ctx.read(move |conn, _ctx, _now| {
        let entity = FederationSettings::load(conn, reviewer.prefecture)?;
        view_of(conn, &reviewer, entity)
    })
    .await
}

/// A supervisor saves their own prefecture's settings; the change is audited field by field.
pub async fn save_settings(
    ctx: &Context,
    reviewer: Reviewer,
    input: ValidSettings,
) -> Result<PrefectureSettingsView, DomainError> {
    if reviewer.role != ReviewerRole::Supervisor {
        return Err(DomainError::Forbidden);
    }
    ctx.transaction(move |tx| {
        let (conn, now) = (&mut *tx.conn, tx.now);
        let before = FederationSettings::load(conn, reviewer.prefecture)?;
        let after = FederationSettings {
            prefecture: reviewer.prefecture,
            settings: input.into_inner(),
            saved: Some((now, reviewer.id.clone())),
        };
        let detail = changed_fields(&before.settings, &after.settings);
        store(conn, &after, reviewer.actor(), detail, now)?;
        view_of(conn, &reviewer, after)
    })
    .await
}

/// Who saved settings that came with the installation (`serve --demo`), not a supervisor.
pub const SEEDED_BY: &str = "operator";

/// Stores `settings` for a prefecture that has none yet (a supervisor's own are never
/// overwritten); audited. Returns whether it stored them.
pub async fn seed_if_unset(
    ctx: &Context,
    prefecture: PrefectureCode,
    settings: PrefectureSettings,
) -> Result<bool, DomainError> {
    ctx.transaction(move |tx| {
        let (conn, now) = (&mut *tx.conn, tx.now);
        if db::federation::find_settings(conn, prefecture.as_str())?.is_some() {
            return Ok(false);
        }
        let entity = FederationSettings {
            prefecture,
            settings,
            saved: Some((now, SEEDED_BY.to_owned())),
        };
        store(
            conn,
            &entity,
            SEEDED_BY.to_owned(),
            "initial settings".to_owned(),
            now,
        )?;
        Ok(true)
    })
    .await
}

/// Stores a prefecture's settings and audits the change, in the caller's transaction.
fn store(
    conn: &mut DbConnection,
    entity: &FederationSettings,
    actor: String,
    detail: String,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    db::federation::save_settings(conn, &PrefectureSettingsRow::from(entity))?;
    AuditEvent {
        occurred_at: now,
        actor,
        action: AuditAction::PrefectureSettingsChanged,
        application_id: None,
        office_number: None,
        prefecture_code: Some(entity.prefecture.as_str().to_owned()),
        detail,
    }
    .record(conn)
}

/// Which settings changed, by name, for the audit log ("none" when saved unchanged).
fn changed_fields(before: &PrefectureSettings, after: &PrefectureSettings) -> String {
    let pairs: [(&str, bool); 8] = [
        (
            "federation_name",
            before.federation_name != after.federation_name,
        ),
        (
            "federation_address",
            before.federation_address != after.federation_address,
        ),
        (
            "federation_phone",
            before.federation_phone != after.federation_phone,
        ),
        (
            "helpdesk_phone",
            before.helpdesk_phone != after.helpdesk_phone,
        ),
        (
            "return_envelope_required",
            before.return_envelope_required != after.return_envelope_required,
        ),
        (
            "envelope_instructions",
            before.envelope_instructions != after.envelope_instructions,
        ),
        (
            "callback_required",
            before.callback_required != after.callback_required,
        ),
        (
            "review_target_business_days",
            before.review_target_business_days != after.review_target_business_days,
        ),
    ];
    let changed: Vec<&str> = pairs
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| *name)
        .collect();
    if changed.is_empty() {
        "none".to_owned()
    } else {
        changed.join(" ")
    }
}

/// Most lines in one register answer.
pub const DISPATCH_LIMIT: i64 = 10_000;

/// The dispatch register (発送簿) of the reviewer's prefecture for the asked days.
pub async fn dispatch_register(
    ctx: &Context,
    reviewer: Reviewer,
    query: DispatchQuery,
) -> Result<DispatchRegister, DomainError> {
    ctx.read(move |conn, _ctx, now| {
        let today = reissue_shared::japan_time::in_japan(now).date();
        let (from, to) = query.range(today).map_err(DomainError::Validation)?;
        let (from, to) = (from.to_string(), to.to_string());
        let rows = db::federation::posted_between(
            conn,
            reviewer.prefecture.as_str(),
            &from,
            &to,
            DISPATCH_LIMIT,
        )?;
        let mut names = std::collections::BTreeMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for (notice, reference_number, office_number) in rows {
            let mailed_by = notice.mailed_by.clone().unwrap_or_default();
            if !names.contains_key(&mailed_by) {
                let name = reviewer_name(conn, &mailed_by)?;
                names.insert(mailed_by.clone(), name);
            }
            let tracking_number = notice
                .tracking_number
                .as_deref()
                .map(TrackingNumber::parse)
                .transpose()
                .map_err(|_| {
                    StorageError::Corrupt(format!("notice {}: tracking_number", notice.id))
                })?;
            items.push(DispatchEntry {
                mailed_on: notice.mailed_on.clone().unwrap_or_default(),
                reference_number: reference_number.unwrap_or_default(),
                office_number,
                mailed_to: notice.mailed_to.clone().unwrap_or_default(),
                tracking_number: tracking_number.map(|n| n.display()),
                mailed_by: names.get(&mailed_by).cloned().unwrap_or_default(),
                application_id: notice.application_id,
            });
        }
        Ok(DispatchRegister { from, to, items })
    })
    .await
}

/// The register as CSV for a spreadsheet: UTF-8 with a BOM, or Shift_JIS (older Excel, the
/// federations' accounting tools) when asked; a value that would read as a formula is
/// defused.
pub fn dispatch_csv(register: &DispatchRegister) -> String {
    let mut csv = String::from("発送日,受付番号,事業所番号,宛先,追跡番号,発送者\r\n");
    for item in &register.items {
        let fields = [
            item.mailed_on.as_str(),
            item.reference_number.as_str(),
            item.office_number.as_str(),
            item.mailed_to.as_str(),
            item.tracking_number.as_deref().unwrap_or(""),
            item.mailed_by.as_str(),
        ];
        let line: Vec<String> = fields.iter().map(|f| super::csv::field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_names_what_changed() {
        let before = PrefectureSettings::defaults_for("東京都");
        let mut after = before.clone();
        assert_eq!(changed_fields(&before, &after), "none");
        after.callback_required = true;
        after.helpdesk_phone = "03-1234-5678".into();
        assert_eq!(
            changed_fields(&before, &after),
            "helpdesk_phone callback_required"
        );
    }

    #[test]
    fn the_contact_names_the_federation_and_its_phone_when_set() {
        let mut entity = FederationSettings {
            prefecture: PrefectureCode::TOKYO,
            settings: PrefectureSettings::defaults_for("東京都"),
            saved: None,
        };
        assert_eq!(entity.contact().federation, "東京都国民健康保険団体連合会");
        assert_eq!(entity.contact().helpdesk_phone, "0570-059-402");
        entity.settings.federation_phone = "03-1234-5678".into();
        assert_eq!(
            entity.contact().federation,
            "東京都国民健康保険団体連合会（電話 03-1234-5678）"
        );
    }
}
