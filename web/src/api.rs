//! A typed client of `/api/v1`, in the style of Leptos' `login_with_token_csr_only` example.
//!
//! [`UnauthorizedApi`] calls the open endpoints. The calls that hand out a bearer token return
//! an [`AuthorizedApi`] holding it, and only that value can call the endpoints the token opens:
//! [`ApplicantApi`] (the wizard's application), [`OfficeApi`] (after `/auth/login`),
//! [`ReviewerApi`] (after `/admin/sessions`) and [`ResetApi`] (one password reset). A screen
//! that finds one in `sessionStorage` restores it by deserialising what was saved there; there
//! is no other way to make one.
//!
//! Every call returns the decoded answer or an [`ApiFailure`]: the server's problem+json, or a
//! network failure the screens turn into a polite retry message.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use reissue_shared::account::{
    ChangePasswordRequest, NewPasswordRequest, OfficeLoginRequest, OfficeSession,
    PasswordResetRequest, PasswordResetStarted, SecurityCodeRequest, SecurityCodeSent,
    SecurityEmailRegistered, SecurityEmailRequest,
};
use reissue_shared::admin::{
    AdminSession, ApplicationDetail, ApplicationList, ConfirmationRequest, DecisionRequest,
    LoginRequest, ReprintRequest, TextRequest,
};
use reissue_shared::dto::{
    ApplicationView, ChoosePrefectureRequest, CodeSent, CreateApplicationRequest,
    CreatedApplication, Problem, Submitted, Verified, VerifyCodeRequest,
};
use reissue_shared::federation::{
    CallbackRequest, DispatchRegister, NoticeMailedRequest, PrefectureSettings,
    PrefectureSettingsView,
};
use reissue_shared::mfa::{MfaConfirmationRequest, MfaEnrolled, MfaEnrolment};
use reissue_shared::status_inquiry::{ApplicationStatusAnswer, StatusInquiryRequest};
use reissue_shared::{ApplicationStatus, ErrorCode, FieldError};

const BASE: &str = "/api/v1";

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// The server answered with a problem.
    Problem(Problem),
    /// No answer (offline, server down) or an answer we could not read.
    Network,
}

impl ApiFailure {
    /// The problem's code, if the server answered.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Problem(problem) => Some(problem.code),
            Self::Network => None,
        }
    }

    /// What to tell the person: the server's Japanese detail, or the retry message.
    pub fn message(&self) -> String {
        match self {
            Self::Problem(problem) if problem.status >= 500 => {
                let mut message = "ただいまシステムに接続しにくくなっています。少し時間をおいて、もう一度お試しください。".to_owned();
                if let Some(id) = &problem.request_id {
                    message.push_str(&format!("（受付ID: {id}）"));
                }
                message
            }
            Self::Problem(problem) => problem.detail.clone(),
            Self::Network => "通信できませんでした。インターネットへの接続を確認して、もう一度お試しください。入力した内容は消えていません。".to_owned(),
        }
    }

    /// Whether the application no longer exists for this applicant (expired, replaced by a
    /// newer one, or unknown): the wizard must start again.
    pub fn application_is_gone(&self) -> bool {
        matches!(
            self.code(),
            Some(
                ErrorCode::ApplicationNotFound
                    | ErrorCode::ApplicationExpired
                    | ErrorCode::ApplicationSuperseded
            )
        )
    }

    /// Field errors of a validation answer (or of a ledger or code answer that names a field).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Problem(problem) => problem.errors.clone(),
            Self::Network => Vec::new(),
        }
    }
}

/// Sends a request; an answer outside 2xx becomes its problem.
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiFailure> {
    let request = request.map_err(|_| ApiFailure::Network)?;
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        Ok(response)
    } else {
        let text = response.text().await.map_err(|_| ApiFailure::Network)?;
        match serde_json::from_str::<Problem>(&text) {
            Ok(problem) => Err(ApiFailure::Problem(problem)),
            Err(_) => Err(ApiFailure::Network),
        }
    }
}

/// Sends a request and decodes its JSON answer. Only the decoding is generic: the waiting is
/// `fetch_text`'s, compiled once rather than once per answer type (a smaller bundle).
async fn fetch_json<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiFailure> {
    let text = fetch_text(request).await?;
    serde_json::from_str(&text).map_err(|_| ApiFailure::Network)
}

/// Sends a request and returns its text answer (JSON, or printable HTML).
async fn fetch_text(request: Result<Request, gloo_net::Error>) -> Result<String, ApiFailure> {
    let response = send(request).await?;
    response.text().await.map_err(|_| ApiFailure::Network)
}

/// A PDF answer as an object URL (`blob:`) the browser opens in a tab: the reviewers' token
/// is a header, so a plain link to the endpoint would not be let in.
async fn fetch_pdf(request: Result<Request, gloo_net::Error>) -> Result<String, ApiFailure> {
    let response = send(request).await?;
    let bytes = response.binary().await.map_err(|_| ApiFailure::Network)?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/pdf");
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .and_then(|blob| web_sys::Url::create_object_url_with_blob(&blob))
        .map_err(|_| ApiFailure::Network)
}

/// The client of the endpoints that need no token.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnauthorizedApi;

impl UnauthorizedApi {
    /// `POST /reissue-applications`: the new application's client.
    pub async fn create_application(
        &self,
        body: &CreateApplicationRequest,
    ) -> Result<ApplicantApi, ApiFailure> {
        let request = Request::post(&format!("{BASE}/reissue-applications")).json(body);
        let created: CreatedApplication = fetch_json(request).await?;
        Ok(AuthorizedApi::new(ApplicationToken {
            application_id: created.id.to_string(),
            token: created.token.expose().to_owned(),
        }))
    }

    /// `POST /auth/login`.
    pub async fn office_login(&self, body: &OfficeLoginRequest) -> Result<OfficeApi, ApiFailure> {
        let request = Request::post(&format!("{BASE}/auth/login")).json(body);
        fetch_json(request).await.map(AuthorizedApi::new)
    }

    /// `POST /admin/sessions`.
    pub async fn admin_login(&self, body: &LoginRequest) -> Result<ReviewerApi, ApiFailure> {
        let request = Request::post(&format!("{BASE}/admin/sessions")).json(body);
        fetch_json(request).await.map(AuthorizedApi::new)
    }

    /// `POST /password-resets`: the reset's client (the same answer whether or not the pair
    /// matched).
    pub async fn start_reset(&self, body: &PasswordResetRequest) -> Result<ResetApi, ApiFailure> {
        let request = Request::post(&format!("{BASE}/password-resets")).json(body);
        fetch_json(request).await.map(AuthorizedApi::new)
    }

    /// `POST /reissue-status` (申請状況照会): 404 `not_found` for any pair that names no
    /// submitted application.
    pub async fn application_status(
        &self,
        body: &StatusInquiryRequest,
    ) -> Result<ApplicationStatusAnswer, ApiFailure> {
        let request = Request::post(&format!("{BASE}/reissue-status")).json(body);
        fetch_json(request).await
    }
}

/// What a login or creation call answered: it carries the bearer token of an [`AuthorizedApi`].
pub trait Credential {
    /// The bearer token.
    fn token(&self) -> &str;
}

/// A client holding a bearer token, and what came with it (the session, or the ids the URLs
/// name). Saved and restored as that credential alone, so `sessionStorage` holds what it held
/// before there was a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthorizedApi<C> {
    credential: C,
}

impl<C: Credential> AuthorizedApi<C> {
    fn new(credential: C) -> Self {
        Self { credential }
    }

    /// What the login or creation call answered (who is logged in, which application).
    pub fn session(&self) -> &C {
        &self.credential
    }

    /// The request with this client's `Authorization` header: the only place it is built.
    fn authorize(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.header(
            "Authorization",
            &format!("Bearer {}", self.credential.token()),
        )
    }
}

/// The wizard's application: its id and its bearer token, saved with the wizard's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationToken {
    application_id: String,
    token: String,
}

impl Credential for ApplicationToken {
    fn token(&self) -> &str {
        &self.token
    }
}

impl Credential for OfficeSession {
    fn token(&self) -> &str {
        self.access_token.expose()
    }
}

impl Credential for AdminSession {
    fn token(&self) -> &str {
        self.access_token.expose()
    }
}

impl Credential for PasswordResetStarted {
    fn token(&self) -> &str {
        self.token.expose()
    }
}

/// The applicant's client, made by [`UnauthorizedApi::create_application`].
pub type ApplicantApi = AuthorizedApi<ApplicationToken>;
/// The office's client, made by a login, a password change or a finished reset.
pub type OfficeApi = AuthorizedApi<OfficeSession>;
/// The reviewer's client, made by [`UnauthorizedApi::admin_login`].
pub type ReviewerApi = AuthorizedApi<AdminSession>;
/// One password reset's client, made by [`UnauthorizedApi::start_reset`].
pub type ResetApi = AuthorizedApi<PasswordResetStarted>;

impl ApplicantApi {
    fn url(&self, rest: &str) -> String {
        format!(
            "{BASE}/reissue-applications/{}{rest}",
            self.credential.application_id
        )
    }

    /// `GET /reissue-applications/{id}`.
    pub async fn application(&self) -> Result<ApplicationView, ApiFailure> {
        fetch_json(self.authorize(Request::get(&self.url(""))).build()).await
    }

    /// `PUT /reissue-applications/{id}/prefecture`.
    pub async fn choose_prefecture(&self, prefecture_code: &str) -> Result<CodeSent, ApiFailure> {
        let body = ChoosePrefectureRequest {
            prefecture_code: prefecture_code.to_owned(),
        };
        let builder = self.authorize(Request::put(&self.url("/prefecture")));
        fetch_json(builder.json(&body)).await
    }

    /// `POST /reissue-applications/{id}/code`.
    pub async fn resend_code(&self) -> Result<CodeSent, ApiFailure> {
        fetch_json(self.authorize(Request::post(&self.url("/code"))).build()).await
    }

    /// `POST /reissue-applications/{id}/verification`.
    pub async fn verify(&self, code: &str) -> Result<Verified, ApiFailure> {
        let body = VerifyCodeRequest { code: code.into() };
        let builder = self.authorize(Request::post(&self.url("/verification")));
        fetch_json(builder.json(&body)).await
    }

    /// `POST /reissue-applications/{id}/submission`.
    pub async fn submit(&self) -> Result<Submitted, ApiFailure> {
        fetch_json(
            self.authorize(Request::post(&self.url("/submission")))
                .build(),
        )
        .await
    }
}

impl OfficeApi {
    /// `DELETE /auth/session`: ends this session on the server (its token stops working).
    pub async fn logout(&self) -> Result<(), ApiFailure> {
        let builder = self.authorize(Request::delete(&format!("{BASE}/auth/session")));
        send(builder.build()).await.map(|_| ())
    }

    /// `POST /auth/password`: the full session that replaces this one.
    pub async fn change_password(
        &self,
        body: &ChangePasswordRequest,
    ) -> Result<OfficeApi, ApiFailure> {
        let builder = self.authorize(Request::post(&format!("{BASE}/auth/password")));
        fetch_json(builder.json(body)).await.map(AuthorizedApi::new)
    }

    /// `PUT /account/security-email`.
    pub async fn register_security_email(
        &self,
        body: &SecurityEmailRequest,
    ) -> Result<SecurityCodeSent, ApiFailure> {
        let builder = self.authorize(Request::put(&format!("{BASE}/account/security-email")));
        fetch_json(builder.json(body)).await
    }

    /// `POST /account/security-email/verification`.
    pub async fn confirm_security_email(
        &self,
        code: &str,
    ) -> Result<SecurityEmailRegistered, ApiFailure> {
        let body = SecurityCodeRequest { code: code.into() };
        let url = format!("{BASE}/account/security-email/verification");
        fetch_json(self.authorize(Request::post(&url)).json(&body)).await
    }
}

impl ResetApi {
    fn url(&self, rest: &str) -> String {
        format!("{BASE}/password-resets/{}{rest}", self.credential.id)
    }

    /// `POST /password-resets/{id}/verification` (204 on success).
    pub async fn verify(&self, code: &str) -> Result<(), ApiFailure> {
        let body = SecurityCodeRequest { code: code.into() };
        let builder = self.authorize(Request::post(&self.url("/verification")));
        send(builder.json(&body)).await.map(drop)
    }

    /// `POST /password-resets/{id}/password`: the office's session.
    pub async fn set_password(&self, new_password: &str) -> Result<OfficeApi, ApiFailure> {
        let body = NewPasswordRequest {
            new_password: new_password.into(),
        };
        let builder = self.authorize(Request::post(&self.url("/password")));
        fetch_json(builder.json(&body))
            .await
            .map(AuthorizedApi::new)
    }
}

/// The body of the reviewer's actions that take none: the server reads no body, and the
/// console has always sent `{}` as JSON.
#[derive(Serialize)]
struct NoFields {}

impl ReviewerApi {
    /// `GET /admin/applications?status=&q=&page=`.
    pub async fn applications(
        &self,
        status: Option<ApplicationStatus>,
        q: &str,
        page: u32,
    ) -> Result<ApplicationList, ApiFailure> {
        let mut params = vec![("page", page.to_string())];
        if let Some(status) = status {
            params.push(("status", status.as_str().to_owned()));
        }
        if !q.trim().is_empty() {
            params.push(("q", q.trim().to_owned()));
        }
        let builder = self
            .authorize(Request::get(&format!("{BASE}/admin/applications")))
            .query(params.iter().map(|(k, v)| (*k, v.as_str())));
        fetch_json(builder.build()).await
    }

    /// `GET /admin/applications/{id}`.
    pub async fn application(&self, id: &str) -> Result<ApplicationDetail, ApiFailure> {
        let url = format!("{BASE}/admin/applications/{id}");
        fetch_json(self.authorize(Request::get(&url)).build()).await
    }

    /// `POST /admin/applications/{id}/review`: 審査開始.
    pub async fn start_review(&self, id: &str) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "review", &NoFields {}).await
    }

    /// `POST /admin/applications/{id}/decision`: 承認 or 却下.
    pub async fn decide(
        &self,
        id: &str,
        body: &DecisionRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "decision", body).await
    }

    /// `POST /admin/applications/{id}/confirmation`: 二次承認 (confirm) or 差し戻し (send back,
    /// with a reason), by a reviewer other than the approver.
    pub async fn confirm(
        &self,
        id: &str,
        body: &ConfirmationRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "confirmation", body).await
    }

    /// `POST /admin/applications/{id}/reprint-request`: asks to print a posted notice again.
    pub async fn request_reprint(
        &self,
        id: &str,
        body: &ReprintRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "reprint-request", body).await
    }

    /// `POST /admin/applications/{id}/reprint-confirmation`: another reviewer's answer to a
    /// reprint request.
    pub async fn confirm_reprint(
        &self,
        id: &str,
        body: &ConfirmationRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "reprint-confirmation", body).await
    }

    /// `POST /admin/applications/{id}/notice-mailed`: 郵送済, with the registered post's
    /// number and day when given.
    pub async fn mark_notice_mailed(
        &self,
        id: &str,
        body: &NoticeMailedRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "notice-mailed", body).await
    }

    /// `POST /admin/applications/{id}/envelope-request`: mails the prefecture's return
    /// envelope instructions.
    pub async fn request_envelope(&self, id: &str) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "envelope-request", &NoFields {}).await
    }

    /// `POST /admin/applications/{id}/ledger-change-acknowledgement`.
    pub async fn acknowledge_ledger_change(
        &self,
        id: &str,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "ledger-change-acknowledgement", &NoFields {})
            .await
    }

    /// `POST /admin/applications/{id}/envelope-received`: the return envelope arrived.
    pub async fn envelope_received(&self, id: &str) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "envelope-received", &NoFields {}).await
    }

    /// `POST /admin/applications/{id}/callbacks`: a call to the ledger's number.
    pub async fn record_callback(
        &self,
        id: &str,
        body: &CallbackRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "callbacks", body).await
    }

    /// `GET /admin/prefecture-settings`.
    pub async fn prefecture_settings(&self) -> Result<PrefectureSettingsView, ApiFailure> {
        let url = format!("{BASE}/admin/prefecture-settings");
        fetch_json(self.authorize(Request::get(&url)).build()).await
    }

    /// `PUT /admin/prefecture-settings` (supervisors).
    pub async fn save_prefecture_settings(
        &self,
        body: &PrefectureSettings,
    ) -> Result<PrefectureSettingsView, ApiFailure> {
        let url = format!("{BASE}/admin/prefecture-settings");
        fetch_json(self.authorize(Request::put(&url)).json(body)).await
    }

    /// `GET /admin/dispatch-register?from=&to=`: the 発送簿 as JSON, or (`csv`) its CSV text
    /// in UTF-8 with BOM.
    pub async fn dispatch_register(
        &self,
        from: &str,
        to: &str,
    ) -> Result<DispatchRegister, ApiFailure> {
        let builder = self
            .authorize(Request::get(&format!("{BASE}/admin/dispatch-register")))
            .query([("from", from.trim()), ("to", to.trim())]);
        fetch_json(builder.build()).await
    }
    /// The 発送簿 as the CSV file's bytes (`encoding`: `utf-8` with BOM or `shift_jis`).
    pub async fn dispatch_csv(
        &self,
        from: &str,
        to: &str,
        encoding: &str,
    ) -> Result<Vec<u8>, ApiFailure> {
        let builder = self
            .authorize(Request::get(&format!("{BASE}/admin/dispatch-register")))
            .header("Accept", "text/csv")
            .query([
                ("from", from.trim()),
                ("to", to.trim()),
                ("encoding", encoding),
            ]);
        let response = send(builder.build()).await?;
        response.binary().await.map_err(|_| ApiFailure::Network)
    }

    /// `POST /admin/applications/{id}/withdrawal`: 取下げ, with the reason.
    pub async fn withdraw(
        &self,
        id: &str,
        body: &TextRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "withdrawal", body).await
    }

    /// `POST /admin/applications/{id}/notes`: a call note.
    pub async fn add_note(
        &self,
        id: &str,
        body: &TextRequest,
    ) -> Result<ApplicationDetail, ApiFailure> {
        self.act(id, "notes", body).await
    }

    async fn act<B: Serialize>(
        &self,
        id: &str,
        action: &str,
        body: &B,
    ) -> Result<ApplicationDetail, ApiFailure> {
        let url = format!("{BASE}/admin/applications/{id}/{action}");
        fetch_json(self.authorize(Request::post(&url)).json(body)).await
    }

    /// `GET /admin/applications/{id}/notice`: the printable HTML.
    pub async fn notice(&self, id: &str) -> Result<String, ApiFailure> {
        let url = format!("{BASE}/admin/applications/{id}/notice");
        fetch_text(self.authorize(Request::get(&url)).build()).await
    }

    /// `GET /admin/applications/{id}/notice.pdf`: the notice as an A4 PDF (an object URL).
    pub async fn notice_pdf(&self, id: &str) -> Result<String, ApiFailure> {
        let url = format!("{BASE}/admin/applications/{id}/notice.pdf");
        fetch_pdf(self.authorize(Request::get(&url)).build()).await
    }

    /// `POST /admin/mfa/enrolment` (a session that may only enrol): a new secret and its QR
    /// code.
    pub async fn start_mfa_enrolment(&self) -> Result<MfaEnrolment, ApiFailure> {
        let url = format!("{BASE}/admin/mfa/enrolment");
        fetch_json(self.authorize(Request::post(&url)).json(&NoFields {})).await
    }

    /// `POST /admin/mfa/enrolment/confirmation`: the console's client, and the recovery codes
    /// (shown once).
    pub async fn confirm_mfa_enrolment(
        &self,
        totp_code: &str,
    ) -> Result<(ReviewerApi, Vec<String>), ApiFailure> {
        let url = format!("{BASE}/admin/mfa/enrolment/confirmation");
        let body = MfaConfirmationRequest {
            totp_code: totp_code.to_owned(),
        };
        let enrolled: MfaEnrolled =
            fetch_json(self.authorize(Request::post(&url)).json(&body)).await?;
        let codes = enrolled
            .recovery_codes
            .iter()
            .map(|code| code.expose().to_owned())
            .collect();
        let session = AdminSession {
            access_token: enrolled.access_token,
            expires_at: enrolled.expires_at,
            reviewer: enrolled.reviewer,
            mfa_enrolment_required: false,
        };
        Ok((AuthorizedApi::new(session), codes))
    }

    /// `DELETE /admin/sessions/current`: ends this session on the server.
    pub async fn logout(&self) -> Result<(), ApiFailure> {
        let url = format!("{BASE}/admin/sessions/current");
        send(self.authorize(Request::delete(&url)).build())
            .await
            .map(|_| ())
    }

    /// `GET /admin/notices`: every notice waiting to be posted, as printable HTML.
    pub async fn unposted_notices(&self) -> Result<String, ApiFailure> {
        let url = format!("{BASE}/admin/notices");
        fetch_text(self.authorize(Request::get(&url)).build()).await
    }

    /// `GET /admin/notices.pdf`: every notice waiting to be posted, one PDF page each (an
    /// object URL).
    pub async fn unposted_notices_pdf(&self) -> Result<String, ApiFailure> {
        let url = format!("{BASE}/admin/notices.pdf");
        fetch_pdf(self.authorize(Request::get(&url)).build()).await
    }
}
