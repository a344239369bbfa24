//! The names of the measured endpoints: the stages record latencies under them and the report
//! lays its tables out by them.

/// The flow's steps, as named in the report.
pub const CREATE: &str = "POST /reissue-applications";
/// Step 2.
pub const PREFECTURE: &str = "PUT …/{id}/prefecture";
/// Step 3.
pub const VERIFICATION: &str = "POST …/{id}/verification";
/// Step 4.
pub const SUBMISSION: &str = "POST …/{id}/submission";
/// The whole flow, mail wait included.
pub const FLOW: &str = "complete flow";
/// Read endpoint.
pub const PREFECTURES: &str = "GET /prefectures";
/// Read endpoint.
pub const APPLICATION: &str = "GET /reissue-applications/{id}";
/// The baseline's endpoint.
pub const BARE: &str = "GET /ping (bare actix-web)";
/// Reviewer login.
pub const LOGIN: &str = "POST /admin/sessions";
