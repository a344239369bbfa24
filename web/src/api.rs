//! A typed client of `/api/v1`. Every call returns the decoded answer or an [`ApiFailure`]:
//! the server's problem+json, or a network failure the screens turn into a polite retry
//! message.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use reissue_shared::account::{
    ChangePasswordRequest, NewPasswordRequest, OfficeLoginRequest, OfficeSession,
    PasswordResetRequest, PasswordResetStarted, SecurityCodeRequest, SecurityCodeSent,
    SecurityEmailRegistered, SecurityEmailRequest,
};
use reissue_shared::admin::{AdminSession, ApplicationDetail, ApplicationList, LoginRequest};
use reissue_shared::dto::{
    ApplicationView, ChoosePrefectureRequest, CodeSent, CreateApplicationRequest,
    CreatedApplication, Problem, Submitted, Verified, VerifyCodeRequest,
};
use reissue_shared::{ErrorCode, FieldError};

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

/// The application's credentials, kept by the wizard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationAuth {
    /// Application id.
    pub id: String,
    /// Its bearer token.
    pub token: String,
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiFailure> {
    let request = request.map_err(|_| ApiFailure::Network)?;
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    if response.ok() {
        response.json::<T>().await.map_err(|_| ApiFailure::Network)
    } else {
        match response.json::<Problem>().await {
            Ok(problem) => Err(ApiFailure::Problem(problem)),
            Err(_) => Err(ApiFailure::Network),
        }
    }
}

fn authorized(builder: RequestBuilder, auth: &ApplicationAuth) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {}", auth.token))
}

fn json_body<B: Serialize>(builder: RequestBuilder, body: &B) -> Result<Request, gloo_net::Error> {
    builder.json(body)
}

/// `POST /reissue-applications`.
pub async fn create_application(
    body: &CreateApplicationRequest,
) -> Result<CreatedApplication, ApiFailure> {
    send(json_body(
        Request::post(&format!("{BASE}/reissue-applications")),
        body,
    ))
    .await
}

/// `PUT /reissue-applications/{id}/prefecture`.
pub async fn choose_prefecture(
    auth: &ApplicationAuth,
    prefecture_code: &str,
) -> Result<CodeSent, ApiFailure> {
    let url = format!("{BASE}/reissue-applications/{}/prefecture", auth.id);
    let body = ChoosePrefectureRequest {
        prefecture_code: prefecture_code.to_owned(),
    };
    send(json_body(authorized(Request::put(&url), auth), &body)).await
}

/// `POST /reissue-applications/{id}/code`.
pub async fn resend_code(auth: &ApplicationAuth) -> Result<CodeSent, ApiFailure> {
    let url = format!("{BASE}/reissue-applications/{}/code", auth.id);
    send(authorized(Request::post(&url), auth).build()).await
}

/// `POST /reissue-applications/{id}/verification`.
pub async fn verify(auth: &ApplicationAuth, code: &str) -> Result<Verified, ApiFailure> {
    let url = format!("{BASE}/reissue-applications/{}/verification", auth.id);
    let body = VerifyCodeRequest {
        code: code.to_owned(),
    };
    send(json_body(authorized(Request::post(&url), auth), &body)).await
}

/// `POST /reissue-applications/{id}/submission`.
pub async fn submit(auth: &ApplicationAuth) -> Result<Submitted, ApiFailure> {
    let url = format!("{BASE}/reissue-applications/{}/submission", auth.id);
    send(authorized(Request::post(&url), auth).build()).await
}

/// `POST /auth/login`.
pub async fn office_login(body: &OfficeLoginRequest) -> Result<OfficeSession, ApiFailure> {
    send(json_body(
        Request::post(&format!("{BASE}/auth/login")),
        body,
    ))
    .await
}

/// `POST /auth/password` with the office's token.
pub async fn change_password(
    token: &str,
    body: &ChangePasswordRequest,
) -> Result<OfficeSession, ApiFailure> {
    let builder = Request::post(&format!("{BASE}/auth/password"))
        .header("Authorization", &format!("Bearer {token}"));
    send(json_body(builder, body)).await
}

/// `POST /admin/sessions`.
pub async fn admin_login(body: &LoginRequest) -> Result<AdminSession, ApiFailure> {
    send(json_body(
        Request::post(&format!("{BASE}/admin/sessions")),
        body,
    ))
    .await
}

fn admin(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

/// `GET /admin/applications?status=&q=&page=`.
pub async fn admin_list(
    token: &str,
    status: Option<&str>,
    q: &str,
    page: u32,
) -> Result<ApplicationList, ApiFailure> {
    let mut params = vec![("page", page.to_string())];
    if let Some(status) = status {
        params.push(("status", status.to_owned()));
    }
    if !q.trim().is_empty() {
        params.push(("q", q.trim().to_owned()));
    }
    let builder = admin(Request::get(&format!("{BASE}/admin/applications")), token)
        .query(params.iter().map(|(k, v)| (*k, v.as_str())));
    send(builder.build()).await
}

/// `GET /admin/applications/{id}`.
pub async fn admin_detail(token: &str, id: &str) -> Result<ApplicationDetail, ApiFailure> {
    send(
        admin(
            Request::get(&format!("{BASE}/admin/applications/{id}")),
            token,
        )
        .build(),
    )
    .await
}

/// `POST /admin/applications/{id}/{action}` with a JSON body.
pub async fn admin_action(
    token: &str,
    id: &str,
    action: &str,
    body: &serde_json::Value,
) -> Result<ApplicationDetail, ApiFailure> {
    let builder = admin(
        Request::post(&format!("{BASE}/admin/applications/{id}/{action}")),
        token,
    );
    send(json_body(builder, body)).await
}

/// `GET /admin/applications/{id}/notice`: the printable HTML.
pub async fn admin_notice(token: &str, id: &str) -> Result<String, ApiFailure> {
    admin_html(token, &format!("{BASE}/admin/applications/{id}/notice")).await
}

/// `GET /admin/notices`: every notice waiting to be posted, as printable HTML.
pub async fn admin_unposted_notices(token: &str) -> Result<String, ApiFailure> {
    admin_html(token, &format!("{BASE}/admin/notices")).await
}

async fn admin_html(token: &str, url: &str) -> Result<String, ApiFailure> {
    let request = admin(Request::get(url), token)
        .build()
        .map_err(|_| ApiFailure::Network)?;
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        response.text().await.map_err(|_| ApiFailure::Network)
    } else {
        match response.json::<Problem>().await {
            Ok(problem) => Err(ApiFailure::Problem(problem)),
            Err(_) => Err(ApiFailure::Network),
        }
    }
}

/// `PUT /account/security-email`.
pub async fn register_security_email(
    token: &str,
    body: &SecurityEmailRequest,
) -> Result<SecurityCodeSent, ApiFailure> {
    let builder = Request::put(&format!("{BASE}/account/security-email"))
        .header("Authorization", &format!("Bearer {token}"));
    send(json_body(builder, body)).await
}

/// `POST /account/security-email/verification`.
pub async fn confirm_security_email(
    token: &str,
    code: &str,
) -> Result<SecurityEmailRegistered, ApiFailure> {
    let builder = Request::post(&format!("{BASE}/account/security-email/verification"))
        .header("Authorization", &format!("Bearer {token}"));
    send(json_body(
        builder,
        &SecurityCodeRequest {
            code: code.to_owned(),
        },
    ))
    .await
}

/// `POST /password-resets`.
pub async fn start_reset(body: &PasswordResetRequest) -> Result<PasswordResetStarted, ApiFailure> {
    send(json_body(
        Request::post(&format!("{BASE}/password-resets")),
        body,
    ))
    .await
}

/// `POST /password-resets/{id}/verification` (204 on success).
pub async fn verify_reset(reset: &PasswordResetStarted, code: &str) -> Result<(), ApiFailure> {
    let request = Request::post(&format!("{BASE}/password-resets/{}/verification", reset.id))
        .header("Authorization", &format!("Bearer {}", reset.token))
        .json(&SecurityCodeRequest {
            code: code.to_owned(),
        })
        .map_err(|_| ApiFailure::Network)?;
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        Ok(())
    } else {
        match response.json::<Problem>().await {
            Ok(problem) => Err(ApiFailure::Problem(problem)),
            Err(_) => Err(ApiFailure::Network),
        }
    }
}

/// `POST /password-resets/{id}/password`.
pub async fn finish_reset(
    reset: &PasswordResetStarted,
    new_password: &str,
) -> Result<OfficeSession, ApiFailure> {
    let builder = Request::post(&format!("{BASE}/password-resets/{}/password", reset.id))
        .header("Authorization", &format!("Bearer {}", reset.token));
    send(json_body(
        builder,
        &NewPasswordRequest {
            new_password: new_password.to_owned(),
        },
    ))
    .await
}

/// `GET /reissue-applications/{id}`.
pub async fn get_application(auth: &ApplicationAuth) -> Result<ApplicationView, ApiFailure> {
    let url = format!("{BASE}/reissue-applications/{}", auth.id);
    send(authorized(Request::get(&url), auth).build()).await
}
