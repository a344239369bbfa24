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
/// Reviewer login of the flood, with an unknown ID: its transport errors and wrong answers.
pub const FLOOD_LOGIN: &str = "POST /admin/sessions (flood)";
/// A flood login checked and refused: argon2 ran against the dummy hash.
pub const FLOOD_REFUSED: &str = "401 invalid_credentials";
/// A flood login the login throttle refused before any password work.
pub const FLOOD_THROTTLED: &str = "429 rate_limited";
/// A flood login refused at once because the argon2 queue was full.
pub const FLOOD_BUSY: &str = "503 service_unavailable";
