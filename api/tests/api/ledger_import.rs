//! `reissue ledger import FILE.csv`, run as the real binary: all or nothing, every bad row
//! reported with its line number, UTF-8 or Shift_JIS.

use std::process::Command;

use reissue_api::config::DatabaseUrl;
use reissue_api::db::{self, Database};
use reissue_shared::{OfficeNumber, PrefectureCode};

const HEADER: &str = "事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号\n";

fn import(data_dir: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reissue"))
        .args(["ledger", "import"])
        .arg(file)
        .env("REISSUE_DATA_DIR", data_dir)
        .env_remove("REISSUE_DATABASE_URL")
        .output()
        .unwrap()
}

fn database(data_dir: &std::path::Path) -> Database {
    let db = Database::new(
        &DatabaseUrl::new(data_dir.join("reissue.sqlite3").to_string_lossy()),
        1,
    );
    db.run_migrations().unwrap();
    db
}

fn lookup(db: &Database, office: &str, prefecture: &str) -> Option<String> {
    let office = OfficeNumber::parse(office).unwrap();
    let prefecture = PrefectureCode::parse(prefecture).unwrap();
    db.transaction_blocking(|conn| db::ledger::find(conn, prefecture, &office))
        .unwrap()
        .map(|entry| entry.office_name)
}

#[test]
fn a_file_with_bad_rows_imports_nothing_and_names_every_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.csv");
    let text = format!(
        "{HEADER}\
         3110100013,ケアステーション すなはま,介護,31,680-0011,鳥取県鳥取市東町9-999,0857-00-1013\n\
         311010001,短い番号の事業所,介護,31,680-0011,鳥取県鳥取市東町9-999,0857-00-1013\n\
         3110200021,デイサービス 因幡の里,介護,31,680-0845,鳥取県鳥取市富安9-99,0857-00-1021\n\
         3110300039,種別が違う事業所,居宅,31,683-0067,鳥取県米子市東町999,0859-00-1039\n"
    );
    std::fs::write(&file, text).unwrap();
    let output = import(dir.path(), &file);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("3行目"), "{stderr}");
    assert!(stderr.contains("5行目"), "{stderr}");
    assert!(!stderr.contains("2行目"), "{stderr}");
    let db = database(dir.path());
    assert_eq!(
        lookup(&db, "3110100013", "31"),
        None,
        "nothing was imported"
    );
}

#[test]
fn a_shift_jis_file_is_detected_and_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger-sjis.csv");
    let text = format!(
        "{HEADER}3110100013,ケアステーション すなはま,介護,31,680-0011,鳥取県鳥取市東町9-999,0857-00-1013\n"
    );
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!had_errors);
    std::fs::write(&file, &bytes).unwrap();
    let output = import(dir.path(), &file);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 件"));
    let db = database(dir.path());
    assert_eq!(
        lookup(&db, "3110100013", "31").as_deref(),
        Some("ケアステーション すなはま")
    );
}

#[test]
fn an_import_reports_what_it_adds_changes_and_removes_and_a_dry_run_only_reports() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    std::fs::write(
        &first,
        format!(
            "{HEADER}\
             3110100013,ケアステーション すなはま,介護,31,680-0011,鳥取県鳥取市東町9-999,0857-00-1013\n\
             3110200021,デイサービス 因幡の里,介護,31,680-0845,鳥取県鳥取市富安9-99,0857-00-1021\n"
        ),
    )
    .unwrap();
    let output = import(dir.path(), &first);
    assert!(output.status.success());
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("追加 2 件、変更 0 件、削除 0 件"),
        "{report}"
    );

    // すなはま moves, 因幡の里 leaves the ledger, 米子がいな joins it.
    let second = dir.path().join("second.csv");
    std::fs::write(
        &second,
        format!(
            "{HEADER}\
             3110100013,ケアステーション すなはま,介護,31,680-0022,鳥取県鳥取市西町1-1,0857-00-1013\n\
             3110300039,訪問介護事業所 米子がいな,介護,31,683-0067,鳥取県米子市東町999,0859-00-1039\n"
        ),
    )
    .unwrap();
    let dry = Command::new(env!("CARGO_BIN_EXE_reissue"))
        .args(["ledger", "import", "--dry-run"])
        .arg(&second)
        .env("REISSUE_DATA_DIR", dir.path())
        .env_remove("REISSUE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(dry.status.success());
    let report = String::from_utf8_lossy(&dry.stdout);
    assert!(report.contains("取り込みはしていません"), "{report}");
    assert!(
        report.contains("追加 1 件、変更 1 件、削除 1 件、変更なし 0 件"),
        "{report}"
    );
    assert!(report.contains("追加 31 3110300039"), "{report}");
    assert!(
        report.contains("変更 31 3110100013（郵便番号、住所）"),
        "{report}"
    );
    assert!(report.contains("削除 31 3110200021"), "{report}");
    let db = database(dir.path());
    assert!(
        lookup(&db, "3110200021", "31").is_some(),
        "a dry run changes nothing"
    );
    assert!(lookup(&db, "3110300039", "31").is_none());

    let output = import(dir.path(), &second);
    assert!(output.status.success());
    assert!(lookup(&db, "3110200021", "31").is_none());
    assert!(lookup(&db, "3110300039", "31").is_some());
    // The versions replaced are kept: the old address of すなはま and the removed entry.
    let kept = db
        .transaction_blocking(|conn| {
            db::ledger::versions_replaced_after(
                conn,
                PrefectureCode::parse("31").unwrap(),
                &OfficeNumber::parse("3110100013").unwrap(),
                time::PrimitiveDateTime::MIN,
            )
        })
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].address, "鳥取県鳥取市東町9-999");
}

/// A national ledger's size (250,000 offices across the 47 prefectures) imports in one go;
/// its time is measured by hand for the README, not asserted here.
#[test]
fn a_national_size_ledger_imports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("national.csv");
    let mut text = String::from(HEADER);
    for n in 0..250_000u32 {
        let prefecture = n % 47 + 1;
        text.push_str(&format!(
            "{prefecture:02}{n:08},介護事業所 {n},介護,{prefecture:02},100-0001,千代田{n}-1,03-0000-0000\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    let output = import(dir.path(), &file);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("追加 250000 件、変更 0 件、削除 0 件"),
        "{report}"
    );
    let db = database(dir.path());
    assert_eq!(
        lookup(&db, "0700249999", "07").as_deref(),
        Some("介護事業所 249999")
    );
}

#[test]
fn the_progress_reaches_every_entry_of_the_file() {
    use reissue_api::domain::ledger::{import_with_progress, parse_ledger_csv, ImportMode};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let mut text = String::from(HEADER);
    for n in 0..2500u32 {
        text.push_str(&format!(
            "31{n:08},介護事業所 {n},介護,31,680-0011,鳥取県鳥取市東町{n},0857-00-1013\n"
        ));
    }
    let entries = parse_ledger_csv(text.as_bytes()).unwrap();
    let reports = AtomicUsize::new(0);
    let last = AtomicUsize::new(0);
    let diff = import_with_progress(
        &db,
        &entries,
        "test",
        time::OffsetDateTime::now_utc(),
        ImportMode::Replace,
        false,
        &|done| {
            reports.fetch_add(1, Ordering::Relaxed);
            last.store(done, Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(diff.added.len(), 2500);
    // Before the writes, then after each chunk of a thousand.
    assert_eq!(reports.load(Ordering::Relaxed), 4);
    assert_eq!(last.load(Ordering::Relaxed), 2500);
}
