//! 事業所台帳 (office ledger): the federation's list of offices that may ask for a reissue, and
//! the CSV import that loads it.
//!
//! The ledger is the authority on which offices exist, of which kind (介護, 障害, 代理人), and
//! in which prefecture's federation they bill. Federations hand it over as a CSV file exported
//! from Excel, so the import accepts what Excel writes: UTF-8 with or without a BOM, or
//! Shift_JIS (Windows-31J); full-width digits; trailing empty columns; blank lines.
//!
//! The import is all or nothing. A half-loaded ledger would wrongly refuse real offices, so a
//! file with any bad row loads nothing, and the error lists every bad row with its physical line
//! number so the whole file can be corrected in one pass.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use reissue_shared::normalize::{is_separator, to_half_width};
use reissue_shared::{OfficeNumber, PrefectureCode};

use super::audit::{AuditAction, AuditEvent};
use crate::db::models::{to_db_time, LedgerEntryRow, LedgerEntryVersionRow};
use crate::db::{self, Database, DbConnection, StorageError};

/// The kind of an office in the ledger. Only care offices may use the reissue service; the
/// other kinds are in the ledger so that they can be told where to go instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficeKind {
    /// 介護: a long-term-care office. The only kind the service serves.
    Care,
    /// 障害: a disability-welfare office, which has its own reissue procedure.
    Disability,
    /// 代理人: a billing agent, who must contact the federation directly.
    Agent,
}

impl OfficeKind {
    /// Every kind, in the order the labels are listed in messages.
    pub const ALL: [Self; 3] = [Self::Care, Self::Disability, Self::Agent];

    /// The name stored in the database: `care`, `disability` or `agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Care => "care",
            Self::Disability => "disability",
            Self::Agent => "agent",
        }
    }

    /// The Japanese label used in the ledger file and on screen: 介護, 障害 or 代理人.
    pub fn label(self) -> &'static str {
        match self {
            Self::Care => "介護",
            Self::Disability => "障害",
            Self::Agent => "代理人",
        }
    }

    /// The kind whose Japanese label is `label` (surrounding spaces ignored).
    pub fn from_label(label: &str) -> Option<Self> {
        let label = label.trim();
        Self::ALL.into_iter().find(|kind| kind.label() == label)
    }
}

/// A stored kind name that is not `care`, `disability` or `agent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("事業所種別「{0}」は不明です（care・disability・agent のいずれかです）。")]
pub struct UnknownOfficeKind(pub String);

impl FromStr for OfficeKind {
    type Err = UnknownOfficeKind;

    /// Parses the stored name (`as_str`), not the Japanese label: this reads database rows.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownOfficeKind(s.to_owned()))
    }
}

impl fmt::Display for OfficeKind {
    /// The stored name, so that formatting and `FromStr` round-trip.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One office of the ledger, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// 事業所番号, 10 half-width characters.
    pub office_number: OfficeNumber,
    /// 事業所名, trimmed, 1–200 characters.
    pub office_name: String,
    /// 種別.
    pub kind: OfficeKind,
    /// 都道府県コード: the federation whose ledger lists the office. Not required to equal the
    /// office number's first two digits (a federation may list offices numbered elsewhere).
    pub prefecture_code: PrefectureCode,
    /// 郵便番号, always `NNN-NNNN`.
    pub postal_code: String,
    /// 住所, trimmed.
    pub address: String,
    /// 電話番号, half-width digits and `-`.
    pub phone: String,
}

/// A stored ledger entry as the entity; a row that does not parse is corrupt.
impl TryFrom<LedgerEntryRow> for LedgerEntry {
    type Error = StorageError;

    fn try_from(row: LedgerEntryRow) -> Result<Self, StorageError> {
        let corrupt =
            |what: &str| StorageError::Corrupt(format!("ledger {}: {what}", row.office_number));
        Ok(Self {
            office_number: OfficeNumber::parse(&row.office_number)
                .map_err(|_| corrupt("office_number"))?,
            kind: row
                .kind
                .parse::<OfficeKind>()
                .map_err(|_| corrupt("kind"))?,
            prefecture_code: PrefectureCode::parse(&row.prefecture_code)
                .map_err(|_| corrupt("prefecture_code"))?,
            office_name: row.office_name,
            postal_code: row.postal_code,
            address: row.address,
            phone: row.phone,
        })
    }
}

/// Storage of the ledger, as entities (the SQL is in `db::ledger`).
impl LedgerEntry {
    /// The row of this entry, imported at `imported_at` (the row keeps when; the entry does not).
    pub fn to_row(&self, imported_at: OffsetDateTime) -> LedgerEntryRow {
        LedgerEntryRow {
            prefecture_code: self.prefecture_code.as_str().to_owned(),
            office_number: self.office_number.as_str().to_owned(),
            office_name: self.office_name.clone(),
            kind: self.kind.as_str().to_owned(),
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            imported_at: to_db_time(imported_at),
        }
    }

    /// The entry of `office_number` in `prefecture`'s ledger.
    pub fn find(
        conn: &mut DbConnection,
        prefecture: PrefectureCode,
        office_number: &OfficeNumber,
    ) -> Result<Option<Self>, StorageError> {
        db::ledger::find(conn, prefecture, office_number)?
            .map(Self::try_from)
            .transpose()
    }
}

/// How an import treats the offices of the file's prefectures that the file does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// The file is the prefectures' whole ledger: an office it does not list is removed
    /// (`reissue ledger import`).
    Replace,
    /// The file adds and updates offices; none is removed (the demo ledger, tests).
    Merge,
}

/// What an import does (or, dry, would do), office by office.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerDiff {
    /// Offices new to the ledger.
    pub added: Vec<String>,
    /// Offices whose entry changes, with the names of the changed columns.
    pub changed: Vec<(String, Vec<&'static str>)>,
    /// Offices the ledger no longer lists.
    pub removed: Vec<String>,
    /// Offices listed as they are.
    pub unchanged: usize,
}

impl LedgerDiff {
    /// The report `reissue ledger import` prints: counts, then up to `examples` offices of
    /// each kind (prefecture and office number; for a change, what changed).
    pub fn report(&self, examples: usize) -> String {
        let mut text = format!(
            "追加 {} 件、変更 {} 件、削除 {} 件、変更なし {} 件\n",
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            self.unchanged
        );
        let more = |n: usize| {
            if n > examples {
                format!("  … ほか {} 件\n", n - examples)
            } else {
                String::new()
            }
        };
        for office in self.added.iter().take(examples) {
            text.push_str(&format!("  追加 {office}\n"));
        }
        text.push_str(&more(self.added.len()));
        for (office, columns) in self.changed.iter().take(examples) {
            text.push_str(&format!("  変更 {office}（{}）\n", columns.join("、")));
        }
        text.push_str(&more(self.changed.len()));
        for office in self.removed.iter().take(examples) {
            text.push_str(&format!("  削除 {office}\n"));
        }
        text.push_str(&more(self.removed.len()));
        text
    }
}

/// The ledger's columns that differ between two rows, by their Japanese names.
fn changed_columns(old: &LedgerEntryRow, new: &LedgerEntryRow) -> Vec<&'static str> {
    [
        ("事業所名", old.office_name != new.office_name),
        ("種別", old.kind != new.kind),
        ("郵便番号", old.postal_code != new.postal_code),
        ("住所", old.address != new.address),
        ("電話番号", old.phone != new.phone),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(name, _)| name)
    .collect()
}

/// The entry as it was before an import changed or removed it.
fn version_of(row: &LedgerEntryRow, replaced_at: OffsetDateTime) -> LedgerEntryVersionRow {
    LedgerEntryVersionRow {
        id: uuid::Uuid::now_v7().to_string(),
        prefecture_code: row.prefecture_code.clone(),
        office_number: row.office_number.clone(),
        office_name: row.office_name.clone(),
        kind: row.kind.clone(),
        postal_code: row.postal_code.clone(),
        address: row.address.clone(),
        phone: row.phone.clone(),
        imported_at: row.imported_at,
        replaced_at: to_db_time(replaced_at),
    }
}

/// Compares a parsed file with the stored ledger of its prefectures and, unless `dry_run`,
/// stores the difference in one transaction: new and changed entries written, the previous
/// version of a changed or removed entry kept, removed ones deleted (`ImportMode::Replace`);
/// audited as imported by the operator from `source`. Blocking: for the command line and
/// start-up.
pub fn import(
    db: &Database,
    entries: &[LedgerEntry],
    source: &str,
    now: OffsetDateTime,
    mode: ImportMode,
    dry_run: bool,
) -> Result<LedgerDiff, StorageError> {
    import_with_progress(db, entries, source, now, mode, dry_run, &|_| {})
}

/// Entries written per statement, and between two progress reports.
const WRITE_CHUNK: usize = 1000;

/// [`import`], telling `progress` how many of the file's entries it has gone through (compared,
/// and written where they changed), for a progress bar.
pub fn import_with_progress(
    db: &Database,
    entries: &[LedgerEntry],
    source: &str,
    now: OffsetDateTime,
    mode: ImportMode,
    dry_run: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<LedgerDiff, StorageError> {
    let mut prefectures: Vec<String> = entries
        .iter()
        .map(|e| e.prefecture_code.as_str().to_owned())
        .collect();
    prefectures.sort();
    prefectures.dedup();
    let key = |row: &LedgerEntryRow| format!("{} {}", row.prefecture_code, row.office_number);
    // Two imports at once (two instances started with `--demo`) can both insert an office
    // the other is inserting; the loser's whole file is then tried again.
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome: Result<LedgerDiff, StorageError> = db.transaction_blocking(|conn| {
            let mut stored: HashMap<String, LedgerEntryRow> =
                db::ledger::all_in(conn, &prefectures)?
                    .into_iter()
                    .map(|row| (key(&row), row))
                    .collect();
            let mut diff = LedgerDiff::default();
            let (mut inserts, mut versions, mut replaced) = (Vec::new(), Vec::new(), Vec::new());
            for entry in entries {
                let row = entry.to_row(now);
                match stored.remove(&key(&row)) {
                    None => {
                        diff.added.push(key(&row));
                        inserts.push(row);
                    }
                    Some(old) => {
                        let columns = changed_columns(&old, &row);
                        if columns.is_empty() {
                            diff.unchanged += 1;
                        } else {
                            diff.changed.push((key(&row), columns));
                            versions.push(version_of(&old, now));
                            replaced.push(old);
                            inserts.push(row);
                        }
                    }
                }
            }
            if mode == ImportMode::Replace {
                let mut gone: Vec<LedgerEntryRow> = stored.into_values().collect();
                gone.sort_by_key(|row| key(row));
                for old in gone {
                    diff.removed.push(key(&old));
                    versions.push(version_of(&old, now));
                    replaced.push(old);
                }
            }
            diff.added.sort();
            diff.changed.sort();
            if dry_run {
                return Ok(diff);
            }
            db::ledger::insert_versions(conn, &versions)?;
            db::ledger::delete(conn, &replaced)?;
            // The unchanged entries are gone through already; the new and changed are written
            // a chunk at a time.
            let mut done = diff.unchanged;
            progress(done);
            for chunk in inserts.chunks(WRITE_CHUNK) {
                db::ledger::insert_all(conn, chunk)?;
                done += chunk.len();
                progress(done);
            }
            AuditEvent {
                occurred_at: now,
                actor: "operator".into(),
                action: AuditAction::LedgerImported,
                application_id: None,
                office_number: None,
                prefecture_code: None,
                detail: format!(
                    "{} entries from {source}: {} added, {} changed, {} removed",
                    entries.len(),
                    diff.added.len(),
                    diff.changed.len(),
                    diff.removed.len()
                ),
            }
            .record(conn)?;
            Ok(diff)
        });
        match outcome {
            Err(error) if error.is_unique_violation() && tries < 3 => continue,
            outcome => return outcome,
        }
    }
}

/// An office's entry as it was when the application was submitted (or last acknowledged),
/// and as it is now (none: removed), when it changed since.
pub fn change_since(
    conn: &mut DbConnection,
    prefecture: PrefectureCode,
    office_number: &OfficeNumber,
    since: OffsetDateTime,
) -> Result<Option<(LedgerEntry, Option<LedgerEntry>, OffsetDateTime)>, StorageError> {
    let versions =
        db::ledger::versions_replaced_after(conn, prefecture, office_number, to_db_time(since))?;
    let Some(first) = versions.first() else {
        return Ok(None);
    };
    let changed_at = versions
        .last()
        .map_or(first.replaced_at, |last| last.replaced_at);
    let before = LedgerEntry::try_from(LedgerEntryRow {
        prefecture_code: first.prefecture_code.clone(),
        office_number: first.office_number.clone(),
        office_name: first.office_name.clone(),
        kind: first.kind.clone(),
        postal_code: first.postal_code.clone(),
        address: first.address.clone(),
        phone: first.phone.clone(),
        imported_at: first.imported_at,
    })?;
    let now = LedgerEntry::find(conn, prefecture, office_number)?;
    Ok(Some((
        before,
        now,
        crate::db::models::from_db_time(changed_at),
    )))
}

/// One bad line of a ledger file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line number in the file (the header is line 1, blank lines count).
    pub line: usize,
    /// Japanese, starting with the line (「3行目: 」) and naming every problem of the line.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a ledger file was not imported. Nothing is imported in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerImportError {
    /// The bytes are neither UTF-8 nor Shift_JIS.
    #[error(
        "文字コードを判別できませんでした。UTF-8 または Shift_JIS で保存したCSVファイルを指定してください。"
    )]
    Encoding,
    /// The header row lacks these columns (listed in the file's canonical order).
    #[error(
        "見出し行に次の列がありません: {}。見出し行は「{}」としてください。",
        .0.join("、"),
        COLUMNS.join(",")
    )]
    MissingColumns(Vec<String>),
    /// The file has a header but no office rows (or nothing at all).
    #[error(
        "取り込む事業所がありません。見出し行の次の行から事業所を1行に1件ずつ記入してください。"
    )]
    Empty,
    /// These lines are bad; every bad line is listed, in file order.
    #[error("{}", describe_rows(.0))]
    InvalidRows(Vec<RowError>),
}

fn describe_rows(rows: &[RowError]) -> String {
    let mut text = format!(
        "事業所台帳に誤りのある行が{}行あるため、取り込みませんでした。次の行を修正してから、もう一度取り込んでください。",
        rows.len()
    );
    for row in rows {
        text.push('\n');
        text.push_str(&row.message);
    }
    text
}

const COL_OFFICE_NUMBER: &str = "事業所番号";
const COL_OFFICE_NAME: &str = "事業所名";
const COL_KIND: &str = "種別";
const COL_PREFECTURE: &str = "都道府県コード";
const COL_POSTAL_CODE: &str = "郵便番号";
const COL_ADDRESS: &str = "住所";
const COL_PHONE: &str = "電話番号";

/// The required header names, in the order the file is documented with.
const COLUMNS: [&str; 7] = [
    COL_OFFICE_NUMBER,
    COL_OFFICE_NAME,
    COL_KIND,
    COL_PREFECTURE,
    COL_POSTAL_CODE,
    COL_ADDRESS,
    COL_PHONE,
];

/// Longest accepted 事業所名, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Reads a ledger CSV file (UTF-8 with or without BOM, or Shift_JIS) into validated entries.
///
/// The first non-blank line is the header; columns are found by name, so their order does not
/// matter and unknown extra columns are ignored. Blank lines are skipped. If any row is bad,
/// nothing is returned but [`LedgerImportError::InvalidRows`] listing every bad row.
pub fn parse_ledger_csv(bytes: &[u8]) -> Result<Vec<LedgerEntry>, LedgerImportError> {
    let text = decode(bytes)?;
    let lines = LineIndex::new(&text);

    // Headers are read as an ordinary record so that every record, header included, gets its
    // line number the same way. `flexible` so that a short or long row becomes a row error
    // listed with the others instead of aborting the whole read.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    let mut header = None;
    for result in records.by_ref() {
        let record = result.map_err(|e| unreadable(&lines, &e))?;
        if !is_blank(&record) {
            header = Some(record);
            break;
        }
    }
    let Some(header) = header else {
        return Err(LedgerImportError::Empty);
    };
    let header_line = lines.record_line(&header);
    let columns = Columns::find(&header, header_line)?;

    let mut entries = Vec::new();
    let mut errors = Vec::new();
    // (prefecture, office number) → line of its first occurrence.
    let mut seen: HashMap<(PrefectureCode, OfficeNumber), usize> = HashMap::new();
    for result in records {
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                // The csv reader cannot resume after an error, so report what has been found
                // so far together with this one.
                errors.push(unreadable_row(&lines, &e));
                return Err(LedgerImportError::InvalidRows(errors));
            }
        };
        if is_blank(&record) {
            continue;
        }
        let line = lines.record_line(&record);
        match parse_row(&record, &columns, line, &mut seen) {
            Ok(entry) => entries.push(entry),
            Err(problems) => errors.push(RowError {
                line,
                message: format!("{line}行目: {}", problems.concat()),
            }),
        }
    }

    if !errors.is_empty() {
        return Err(LedgerImportError::InvalidRows(errors));
    }
    if entries.is_empty() {
        return Err(LedgerImportError::Empty);
    }
    Ok(entries)
}

/// Valid UTF-8 is taken as UTF-8 (a leading BOM dropped); anything else must decode as
/// Shift_JIS without a single error. Shift_JIS here is encoding_rs's WHATWG definition, which is
/// Windows-31J: it includes the NEC/IBM extensions (①, ㈱, 髙) that Excel on Windows writes.
fn decode(bytes: &[u8]) -> Result<String, LedgerImportError> {
    // UTF-16 with a BOM is what Excel's "Unicode text" writes. Its NUL-laden bytes can pass as
    // Shift_JIS, which would end in a baffling "missing columns" error; name the real problem.
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(LedgerImportError::Encoding);
    }
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(without_bom) {
        return Ok(text.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or(LedgerImportError::Encoding)
}

/// Physical line numbers of byte offsets in the decoded text.
///
/// The csv reader's own `Position::line` is where it *started reading* a record, which is the
/// line after the previous record even when blank lines come in between; so the number is
/// derived here from the byte offset instead.
struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            // CRLF, LF and a lone CR each end one line, as they do for the csv reader.
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(i + 1);
            }
        }
        Self { text, starts }
    }

    /// 1-based line of the byte at `offset`.
    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(index) => index + 1,
            Err(index) => index,
        }
    }

    /// The line on which a record's first character stands. The reader's offset may point at
    /// the previous record's line end or at skipped blank lines, so those are stepped over.
    fn record_line(&self, record: &csv::StringRecord) -> usize {
        let from = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0)
            .min(self.text.len());
        let skipped = self.text.as_bytes()[from..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        self.line_of(from + skipped)
    }

    /// The line a csv error occurred on.
    fn error_line(&self, error: &csv::Error) -> usize {
        error
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .map(|offset| self.line_of(offset.min(self.text.len())))
            .unwrap_or(1)
    }
}

fn unreadable_row(lines: &LineIndex<'_>, error: &csv::Error) -> RowError {
    let line = lines.error_line(error);
    RowError {
        line,
        message: format!(
            "{line}行目: CSVとして読み取れませんでした（{error}）。引用符「\"」の対応などをご確認ください。"
        ),
    }
}

fn unreadable(lines: &LineIndex<'_>, error: &csv::Error) -> LedgerImportError {
    LedgerImportError::InvalidRows(vec![unreadable_row(lines, error)])
}

/// A line with only separators and spaces, such as the `,,,,,,` rows Excel leaves behind.
/// (Truly empty lines never reach here: the csv reader skips them.)
fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}

/// Where each required column is in the file.
struct Columns {
    /// Index in the record of each of `COLUMNS`, in the same order.
    index: [usize; 7],
    /// Number of columns of the header row.
    width: usize,
}

impl Columns {
    fn find(header: &csv::StringRecord, line: usize) -> Result<Self, LedgerImportError> {
        let names: Vec<&str> = header.iter().map(str::trim).collect();
        let mut index = [0; 7];
        let mut missing = Vec::new();
        let mut repeated = Vec::new();
        for (slot, column) in index.iter_mut().zip(COLUMNS) {
            let mut at = names.iter().enumerate().filter(|(_, n)| **n == column);
            match at.next() {
                Some((i, _)) => *slot = i,
                None => missing.push(column.to_owned()),
            }
            if at.next().is_some() {
                repeated.push(column);
            }
        }
        if !missing.is_empty() {
            return Err(LedgerImportError::MissingColumns(missing));
        }
        // Two columns of the same name would make it a guess which one holds the data.
        if !repeated.is_empty() {
            return Err(LedgerImportError::InvalidRows(vec![RowError {
                line,
                message: format!(
                    "{line}行目: 見出し「{}」が複数の列にあります。どちらの列を使うか決められないため、1列にしてください。",
                    repeated.join("」「")
                ),
            }]));
        }
        Ok(Self {
            index,
            width: header.len(),
        })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.index[column]).unwrap_or("").trim()
    }
}

/// Validates one row. On failure, returns every problem of the row as Japanese sentences.
fn parse_row(
    record: &csv::StringRecord,
    columns: &Columns,
    line: usize,
    seen: &mut HashMap<(PrefectureCode, OfficeNumber), usize>,
) -> Result<LedgerEntry, Vec<String>> {
    // A missing or extra field shifts every value into the wrong column, so checking the values
    // would produce misleading messages. Extra *empty* fields are harmless: Excel adds them.
    let extra_filled = record
        .iter()
        .skip(columns.width)
        .any(|field| !field.trim().is_empty());
    if record.len() < columns.width || extra_filled {
        return Err(vec![format!(
            "列の数が見出し行と違います（見出し行は{}列、この行は{}列）。値の中のカンマ「,」は値全体を「\"」で囲んでください。",
            columns.width,
            record.len()
        )]);
    }

    let mut problems = Vec::new();
    let number_text = columns.get(record, 0);
    let prefecture_text = columns.get(record, 3);

    let office_number = OfficeNumber::parse(number_text)
        .map_err(|e| {
            let mut message = e.message;
            if lost_leading_zero(number_text, prefecture_text) {
                message.push_str(
                    "Excelで先頭の「0」が消えていないかご確認ください（セルの書式を「文字列」にしてください）。",
                );
            }
            problems.push(message);
        })
        .ok();
    let office_name = parse_name(columns.get(record, 1))
        .map_err(|m| problems.push(m))
        .ok();
    let kind = parse_kind(columns.get(record, 2))
        .map_err(|m| problems.push(m))
        .ok();
    let prefecture_code = parse_prefecture(prefecture_text)
        .map_err(|m| problems.push(m))
        .ok();
    let postal_code = parse_postal_code(columns.get(record, 4))
        .map_err(|m| problems.push(m))
        .ok();
    let address = parse_address(columns.get(record, 5))
        .map_err(|m| problems.push(m))
        .ok();
    let phone = parse_phone(columns.get(record, 6))
        .map_err(|m| problems.push(m))
        .ok();

    // Checked even when other fields of the row are bad, so that a duplicate is reported in the
    // same pass rather than only after the other problems are fixed.
    if let (Some(number), Some(prefecture)) = (&office_number, prefecture_code) {
        let key = (prefecture, number.clone());
        match seen.get(&key) {
            Some(first) => problems.push(format!(
                "{COL_OFFICE_NUMBER}「{number}」（{COL_PREFECTURE} {prefecture}）は{first}行目と重複しています。1事業所につき1行にしてください。"
            )),
            None => {
                seen.insert(key, line);
            }
        }
    }

    match (
        office_number,
        office_name,
        kind,
        prefecture_code,
        postal_code,
        address,
        phone,
    ) {
        (
            Some(office_number),
            Some(office_name),
            Some(kind),
            Some(prefecture_code),
            Some(postal_code),
            Some(address),
            Some(phone),
        ) if problems.is_empty() => Ok(LedgerEntry {
            office_number,
            office_name,
            kind,
            prefecture_code,
            postal_code,
            address,
            phone,
        }),
        _ => Err(problems),
    }
}

/// Whether a 9-digit office number looks like Excel dropped its leading zero: Excel turns
/// 0112345678 into the number 112345678 for prefectures 01–09. The cell looks right to the
/// person who typed it, so the message must say so; a 9-digit typo elsewhere gets no such hint.
fn lost_leading_zero(number: &str, prefecture: &str) -> bool {
    let digits: String = number.chars().map(to_half_width).collect();
    digits.len() == 9
        && digits.bytes().all(|b| b.is_ascii_digit())
        && parse_prefecture(prefecture)
            .is_ok_and(|code| format!("0{digits}").starts_with(code.as_str()))
}

fn parse_name(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!(
            "{COL_OFFICE_NAME}が空欄です。事業所名を記入してください。"
        ));
    }
    let count = value.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(format!(
            "{COL_OFFICE_NAME}は{MAX_NAME_CHARS}文字以内で記入してください（{count}文字あります）。"
        ));
    }
    no_control_characters(COL_OFFICE_NAME, value)?;
    Ok(value.to_owned())
}

fn parse_kind(value: &str) -> Result<OfficeKind, String> {
    let labels = OfficeKind::ALL.map(OfficeKind::label).join("」「");
    if value.is_empty() {
        return Err(format!(
            "{COL_KIND}が空欄です。「{labels}」のいずれかを記入してください。"
        ));
    }
    OfficeKind::from_label(value).ok_or_else(|| {
        format!("{COL_KIND}「{value}」は使えません。「{labels}」のいずれかを記入してください。")
    })
}

fn parse_prefecture(value: &str) -> Result<PrefectureCode, String> {
    if value.is_empty() {
        return Err(format!(
            "{COL_PREFECTURE}が空欄です。01～47の2桁で記入してください（例: 東京都は13）。"
        ));
    }
    let half: String = value.chars().map(to_half_width).collect();
    // Excel drops the leading zero of 01–09 when the column is not formatted as text; the
    // meaning is unambiguous, so accept the single digit rather than make people fight Excel.
    let padded = if half.len() == 1 && half.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{half}")
    } else {
        half
    };
    PrefectureCode::parse(&padded).map_err(|_| {
        format!("{COL_PREFECTURE}「{value}」は使えません。01～47の2桁で記入してください（例: 東京都は13）。")
    })
}

/// Hyphen look-alikes that Japanese input methods produce (ー, −, ‐ …) count as `-` in postal
/// codes and phone numbers: on screen they are indistinguishable from it.
fn half_width_with_hyphens(value: &str) -> String {
    value
        .chars()
        .map(to_half_width)
        .map(|c| {
            if c != '-' && !c.is_whitespace() && is_separator(c) {
                '-'
            } else {
                c
            }
        })
        .collect()
}

fn parse_postal_code(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!(
            "{COL_POSTAL_CODE}が空欄です。「123-4567」または7桁の数字で記入してください。"
        ));
    }
    let half = half_width_with_hyphens(value);
    let bytes = half.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let normalised = match bytes.len() {
        8 if bytes[3] == b'-' && digits(0..3) && digits(4..8) => Some(half.clone()),
        7 if digits(0..7) => Some(format!("{}-{}", &half[..3], &half[3..])),
        _ => None,
    };
    normalised.ok_or_else(|| {
        format!(
            "{COL_POSTAL_CODE}「{value}」は使えません。「123-4567」または7桁の数字で記入してください。"
        )
    })
}

fn parse_address(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{COL_ADDRESS}が空欄です。住所を記入してください。"));
    }
    no_control_characters(COL_ADDRESS, value)?;
    Ok(value.to_owned())
}

fn parse_phone(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!(
            "{COL_PHONE}が空欄です。数字とハイフンで記入してください（例: 03-1234-5678）。"
        ));
    }
    let half = half_width_with_hyphens(value);
    let well_formed = half.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && half.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "{COL_PHONE}「{value}」は使えません。数字とハイフンだけで記入してください（例: 03-1234-5678）。"
        ));
    }
    Ok(half)
}

/// Line breaks inside a quoted cell and other control characters would break the mail and
/// screens that show the value.
fn no_control_characters(column: &str, value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{column}に改行などの制御文字が含まれています。1行で記入してください。"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号";

    fn csv(rows: &[&str]) -> Vec<u8> {
        let mut text = String::from(HEADER);
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.push('\n');
        text.into_bytes()
    }

    fn row_errors(result: Result<Vec<LedgerEntry>, LedgerImportError>) -> Vec<RowError> {
        match result {
            Err(LedgerImportError::InvalidRows(rows)) => rows,
            other => panic!("expected InvalidRows, got {other:?}"),
        }
    }

    fn lines_of(rows: &[RowError]) -> Vec<usize> {
        rows.iter().map(|r| r.line).collect()
    }

    const GOOD_ROWS: [&str; 3] = [
        "1311111111,請求事業所 A,介護,13,100-0005,東京都千代田区丸の内9-9-9,03-0000-0001",
        "1312345678,障害福祉サービスひだまり,障害,13,1600023,東京都新宿区西新宿9-9-9,03-0000-0002",
        "3110100011,ケアステーションすなはま,介護,31,680-0011,鳥取県鳥取市東町9-9,0857-00-0001",
    ];

    #[test]
    fn a_good_utf8_file_is_read_and_normalised() {
        let entries = parse_ledger_csv(&csv(&GOOD_ROWS)).unwrap_or_default();
        assert_eq!(entries.len(), 3);
        let first = &entries[0];
        assert_eq!(first.office_number.as_str(), "1311111111");
        assert_eq!(first.office_name, "請求事業所 A");
        assert_eq!(first.kind, OfficeKind::Care);
        assert_eq!(first.prefecture_code, PrefectureCode::TOKYO);
        assert_eq!(first.postal_code, "100-0005");
        assert_eq!(first.address, "東京都千代田区丸の内9-9-9");
        assert_eq!(first.phone, "03-0000-0001");
        // Seven digits become NNN-NNNN.
        assert_eq!(entries[1].postal_code, "160-0023");
        assert_eq!(entries[1].kind, OfficeKind::Disability);
        assert_eq!(entries[2].prefecture_code, PrefectureCode::TOTTORI);
    }

    #[test]
    fn a_bom_and_crlf_line_ends_are_accepted() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(
            String::from_utf8_lossy(&csv(&GOOD_ROWS))
                .replace('\n', "\r\n")
                .bytes(),
        );
        let entries = parse_ledger_csv(&bytes).unwrap_or_default();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].office_number.as_str(), "1311111111");
        assert_eq!(entries[2].phone, "0857-00-0001");
    }

    #[test]
    fn a_shift_jis_file_is_decoded() {
        let text = String::from_utf8_lossy(&csv(&GOOD_ROWS)).replace('\n', "\r\n");
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the test needs non-UTF-8 bytes"
        );
        let entries = parse_ledger_csv(&bytes).unwrap_or_default();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].office_name, "障害福祉サービスひだまり");
        assert_eq!(entries[2].address, "鳥取県鳥取市東町9-9");
    }

    #[test]
    fn bytes_that_are_neither_utf8_nor_shift_jis_are_refused() {
        // 0x85 0x40 is an unassigned Shift_JIS lead/trail pair and invalid UTF-8.
        let mut bytes = csv(&GOOD_ROWS);
        bytes.extend([0x85, 0x40, b'\n']);
        assert_eq!(parse_ledger_csv(&bytes), Err(LedgerImportError::Encoding));
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(HEADER.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(parse_ledger_csv(&utf16), Err(LedgerImportError::Encoding));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_number() {
        let bytes = csv(&[
            GOOD_ROWS[0],
            // line 3: 9-digit number
            "131111111,短い番号,介護,13,100-0005,東京都千代田区,03-0000-0003",
            GOOD_ROWS[1],
            // line 5: unknown kind, bad postal code
            "1310000001,種別違い,居宅,13,100-00055,東京都千代田区,03-0000-0004",
            // line 6: bad prefecture, empty address, letters in phone
            "1310000002,県違い,介護,48,100-0005,,03-ABCD-0005",
            GOOD_ROWS[2],
        ]);
        let rows = row_errors(parse_ledger_csv(&bytes));
        assert_eq!(lines_of(&rows), vec![3, 5, 6]);
        assert!(
            rows[0].message.starts_with("3行目: 事業所番号は10桁"),
            "{}",
            rows[0].message
        );
        for (row, expected) in [
            (1, "種別「居宅」"),
            (1, "郵便番号「100-00055」"),
            (2, "都道府県コード「48」"),
            (2, "住所が空欄"),
            (2, "電話番号「03-ABCD-0005」"),
        ] {
            assert!(
                rows[row].message.contains(expected),
                "{}",
                rows[row].message
            );
        }

        // Display lists every row, one per line, after a summary.
        let shown = LedgerImportError::InvalidRows(rows.clone()).to_string();
        let shown_lines: Vec<&str> = shown.lines().collect();
        assert_eq!(shown_lines.len(), 4);
        assert!(shown_lines[0].contains("3行"));
        for (shown, row) in shown_lines[1..].iter().zip(&rows) {
            assert_eq!(*shown, row.message);
        }
    }

    #[test]
    fn blank_lines_are_skipped_but_still_counted() {
        let text = format!(
            "\n{HEADER}\r\n\r\n{}\n\n,,,,,,\n  \n{}\n",
            GOOD_ROWS[0], "1310000001,,介護,13,100-0005,東京都千代田区,03-0000-0004"
        );
        let rows = row_errors(parse_ledger_csv(text.as_bytes()));
        assert_eq!(lines_of(&rows), vec![8]);
        assert!(rows[0].message.contains("事業所名が空欄"));
    }

    #[test]
    fn a_missing_column_is_named() {
        let text = "事業所番号,事業所名,種別,郵便番号,住所\n1311111111,A,介護,100-0005,東京都\n";
        assert_eq!(
            parse_ledger_csv(text.as_bytes()),
            Err(LedgerImportError::MissingColumns(vec![
                "都道府県コード".to_owned(),
                "電話番号".to_owned()
            ]))
        );
        let shown = LedgerImportError::MissingColumns(vec!["電話番号".to_owned()]).to_string();
        assert!(shown.contains("電話番号"));
    }

    #[test]
    fn a_duplicate_is_reported_on_the_later_line() {
        let bytes = csv(&[
            GOOD_ROWS[0],
            GOOD_ROWS[1],
            // Same number and prefecture, written with full-width digits.
            "１３１１１１１１１１,請求事業所 A（重複）,介護,１３,100-0005,東京都千代田区,03-0000-0009",
            // The same number in another prefecture's list is a different ledger entry.
            "1311111111,請求事業所 A,介護,14,100-0005,東京都千代田区,03-0000-0001",
        ]);
        let rows = row_errors(parse_ledger_csv(&bytes));
        assert_eq!(lines_of(&rows), vec![4]);
        assert!(
            rows[0].message.contains("2行目と重複"),
            "{}",
            rows[0].message
        );
    }

    #[test]
    fn reordered_columns_are_matched_by_name() {
        let text = "電話番号,住所,郵便番号,都道府県コード,種別,事業所名,事業所番号,備考\n\
                    ０３－００００－０００１,東京都千代田区,１００－０００５,13,代理人,請求代行センター,1390000012,\n";
        let entries = parse_ledger_csv(text.as_bytes()).unwrap_or_default();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry.office_number.as_str(), "1390000012");
        assert_eq!(entry.office_name, "請求代行センター");
        assert_eq!(entry.kind, OfficeKind::Agent);
        assert_eq!(entry.postal_code, "100-0005");
        assert_eq!(entry.phone, "03-0000-0001");
    }

    #[test]
    fn a_header_without_offices_is_empty() {
        assert_eq!(parse_ledger_csv(&csv(&[])), Err(LedgerImportError::Empty));
        assert_eq!(parse_ledger_csv(b""), Err(LedgerImportError::Empty));
        assert_eq!(parse_ledger_csv(b"\n\r\n"), Err(LedgerImportError::Empty));
    }

    #[test]
    fn a_row_with_the_wrong_number_of_columns_is_one_error() {
        let bytes = csv(&[
            "1311111111,請求事業所 A,介護,13,100-0005,東京都千代田区,03-0000-0001,,",
            "1311111112,株式会社A,B,介護,13,100-0005,東京都千代田区,03-0000-0001",
            "1311111113,短い行,介護,13",
        ]);
        let rows = row_errors(parse_ledger_csv(&bytes));
        assert_eq!(lines_of(&rows), vec![3, 4]);
        assert!(rows.iter().all(|r| r.message.contains("列の数")));
    }

    #[test]
    fn prefecture_office_number_prefix_need_not_match() {
        let bytes = csv(&["3111111111,隣県の事業所,介護,31,100-0005,東京都,03-0000-0001"]);
        assert!(parse_ledger_csv(&bytes).is_ok());
        let bytes = csv(&["1311111111,隣県の事業所,介護,31,100-0005,東京都,03-0000-0001"]);
        assert!(parse_ledger_csv(&bytes).is_ok());
    }

    #[test]
    fn excel_dropped_leading_zeros_are_explained_or_repaired() {
        let bytes = csv(&["0110100012,札幌の事業所,介護,1,060-0001,北海道札幌市,011-000-0001"]);
        let entries = parse_ledger_csv(&bytes).unwrap_or_default();
        assert_eq!(
            entries.first().map(|e| e.prefecture_code.as_str()),
            Some("01")
        );
        let bytes = csv(&["110100012,札幌の事業所,介護,01,060-0001,北海道札幌市,011-000-0001"]);
        let rows = row_errors(parse_ledger_csv(&bytes));
        assert!(
            rows[0].message.contains("先頭の「0」"),
            "{}",
            rows[0].message
        );
    }

    #[test]
    fn long_names_and_control_characters_are_refused() {
        let long = "あ".repeat(201);
        let exact = "あ".repeat(200);
        let ok = format!("1311111111,{exact},介護,13,100-0005,東京都,03-0000-0001");
        assert!(parse_ledger_csv(&csv(&[&ok])).is_ok());
        let bad = format!("1311111111,{long},介護,13,100-0005,東京都,03-0000-0001");
        let rows = row_errors(parse_ledger_csv(&csv(&[&bad])));
        assert!(rows[0].message.contains("200文字以内"));
        // A quoted cell spanning two lines: reported on the line it starts on.
        let bytes = csv(&[
            GOOD_ROWS[0],
            "1311111112,\"二行の\n名前\",介護,13,100-0005,東京都,03-0000-0001",
            "1311111113,次の事業所,介護,13,100-0005,東京都,03-0000-000X",
        ]);
        let rows = row_errors(parse_ledger_csv(&bytes));
        assert_eq!(lines_of(&rows), vec![3, 5]);
        assert!(rows[0].message.contains("制御文字"));
    }

    #[test]
    fn office_kind_names_round_trip() {
        for kind in OfficeKind::ALL {
            assert_eq!(kind.as_str().parse::<OfficeKind>(), Ok(kind));
            assert_eq!(OfficeKind::from_label(kind.label()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(OfficeKind::from_label("代理人"), Some(OfficeKind::Agent));
        assert_eq!(OfficeKind::from_label("care"), None);
        assert!("介護".parse::<OfficeKind>().is_err());
    }

    #[test]
    fn the_demo_ledger_covers_every_branch() {
        let entries = parse_ledger_csv(include_bytes!("../../demo/ledger.csv"));
        let entries = match entries {
            Ok(entries) => entries,
            Err(e) => panic!("demo ledger does not parse:\n{e}"),
        };
        assert!(entries.len() >= 20, "{} entries", entries.len());
        let prefectures: std::collections::HashSet<_> =
            entries.iter().map(|e| e.prefecture_code).collect();
        assert!(prefectures.len() >= 5, "{} prefectures", prefectures.len());
        let a = entries
            .iter()
            .find(|e| e.office_number.as_str() == "1311111111");
        assert_eq!(a.map(|e| e.office_name.as_str()), Some("請求事業所 A"));
        assert_eq!(a.map(|e| e.kind), Some(OfficeKind::Care));
        assert_eq!(a.map(|e| e.prefecture_code), Some(PrefectureCode::TOKYO));
        assert!(entries.iter().any(|e| e.kind == OfficeKind::Disability));
        assert!(entries.iter().any(|e| e.kind == OfficeKind::Agent));
        // The demo keeps positions 1–2 equal to the prefecture so every walk-through is coherent.
        for entry in &entries {
            assert_eq!(entry.office_number.prefecture(), entry.prefecture_code);
        }
    }
}
