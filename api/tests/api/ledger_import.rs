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
