//! The one error type of the HTTP layer, mapped once to RFC 9457 problem+json with a stable
//! `code`, a Japanese `detail`, the field list for validation, and the request id.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use reissue_shared::dto::Problem;
use reissue_shared::{ErrorCode, FieldError};

use crate::domain::error::{InvalidStateReason, ReprintRefusal};
use crate::domain::DomainError;
use crate::telemetry::current_request_id;

/// Every error an HTTP handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A domain outcome.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The body is not JSON of the expected shape.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// Not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Over 64 KB.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A query string that does not parse.
    #[error("malformed query: {0}")]
    MalformedQuery(String),
    /// No such route.
    #[error("route not found")]
    RouteNotFound,
    /// The route exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods it has, for the `Allow` header.
        allow: String,
    },
    /// The resource exists only in development mode.
    #[error("not available")]
    NotAvailable,
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Domain(DomainError::Validation(errors))
    }
}

/// The `Retry-After` of a 503: about the time a restarted database needs.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Everything the problem document needs.
struct ProblemParts {
    status: StatusCode,
    code: ErrorCode,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    attempts_left: Option<u32>,
    retry_after: Option<u64>,
}

impl ProblemParts {
    fn new(
        status: StatusCode,
        code: ErrorCode,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            attempts_left: None,
            retry_after: None,
        }
    }
}

impl ApiError {
    fn parts(&self) -> ProblemParts {
        use ErrorCode as C;
        use StatusCode as S;
        match self {
            Self::MalformedBody(reason) => ProblemParts::new(
                S::BAD_REQUEST,
                C::MalformedBody,
                "Malformed request body",
                format!("リクエストの内容を読み取れませんでした。JSON の形式をご確認ください。（{reason}）"),
            ),
            Self::UnsupportedMediaType => ProblemParts::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                C::UnsupportedMediaType,
                "Unsupported media type",
                "Content-Type: application/json で送信してください。",
            ),
            Self::PayloadTooLarge => ProblemParts::new(
                S::PAYLOAD_TOO_LARGE,
                C::PayloadTooLarge,
                "Payload too large",
                "リクエストが大きすぎます（上限 64KB）。",
            ),
            Self::MalformedQuery(reason) => ProblemParts::new(
                S::BAD_REQUEST,
                C::MalformedBody,
                "Malformed query",
                format!("検索条件を読み取れませんでした。（{reason}）"),
            ),
            Self::MethodNotAllowed { .. } => ProblemParts::new(
                S::METHOD_NOT_ALLOWED,
                C::MethodNotAllowed,
                "Method not allowed",
                "この API はこの HTTP メソッドでは利用できません。API 仕様（/api/openapi.json）をご確認ください。",
            ),
            Self::RouteNotFound | Self::NotAvailable => ProblemParts::new(
                S::NOT_FOUND,
                C::RouteNotFound,
                "Not found",
                "お探しのページまたは API は見つかりませんでした。アドレスをご確認ください。",
            ),
            Self::Domain(error) => domain_parts(error),
        }
    }
}

fn domain_parts(error: &DomainError) -> ProblemParts {
    use ErrorCode as C;
    use StatusCode as S;
    match error {
        DomainError::Validation(errors) => {
            let mut parts = ProblemParts::new(
                S::UNPROCESSABLE_ENTITY,
                C::ValidationFailed,
                "Validation failed",
                "入力内容に誤りがあります。各項目のメッセージをご確認ください。",
            );
            parts.errors = errors.clone();
            parts
        }
        DomainError::NotFound => ProblemParts::new(
            S::NOT_FOUND,
            C::ApplicationNotFound,
            "Application not found",
            "申請が見つかりません。お手数ですが、最初から申請をやり直してください。",
        ),
        DomainError::InquiryNotFound => ProblemParts::new(
            S::NOT_FOUND,
            C::NotFound,
            "Not found",
            "受付番号と通知先メールアドレスの組み合わせに一致する申請が見つかりません。申請完了時に表示された受付番号と、申請時に入力した通知先メールアドレスをご確認ください。",
        ),
        DomainError::Unauthorized => ProblemParts::new(
            S::UNAUTHORIZED,
            C::Unauthorized,
            "Unauthorized",
            "申請のトークンがありません。Authorization: Bearer ヘッダーで、申請作成時に返されたトークンを送ってください。",
        ),
        DomainError::SessionInvalid => ProblemParts::new(
            S::UNAUTHORIZED,
            C::Unauthorized,
            "Unauthorized",
            "ログインしていないか、ログインの有効期限が切れました。お手数ですが、もう一度ログインしてください。",
        ),
        DomainError::OfficeNotInLedger { office_number, prefecture } => {
            let detail = format!(
                "事業所番号 {office_number} の事業所は、{}の事業所台帳に登録されていません。事業所番号と請求先都道府県をご確認ください。",
                prefecture.name()
            );
            let mut parts =
                ProblemParts::new(S::UNPROCESSABLE_ENTITY, C::OfficeNotInLedger, "Office not in ledger", detail.clone());
            parts.errors = vec![FieldError::new(
                "prefecture_code",
                reissue_shared::FieldErrorCode::UnknownValue,
                detail,
            )];
            parts
        }
        DomainError::OfficeNotCare { office_number, prefecture } => ProblemParts::new(
            S::UNPROCESSABLE_ENTITY,
            C::OfficeNotCare,
            "Not a care office",
            format!(
                "事業所番号 {office_number} の事業所は介護事業所ではないため、この申請はできません。介護事業所のログイン情報のみ再発行を申請できます。{}の国保連合会へお問い合わせください。",
                prefecture.name()
            ),
        ),
        DomainError::AgentNotAllowed { office_number } => ProblemParts::new(
            S::UNPROCESSABLE_ENTITY,
            C::AgentNotAllowed,
            "Agents cannot apply",
            format!(
                "事業所番号 {office_number} は代理人の番号です。介護事業所のログイン情報のみ再発行を申請できます。代理人のログイン情報を紛失した場合、国保連合会へお問い合わせください。"
            ),
        ),
        DomainError::InvalidState(reason) => ProblemParts::new(
            S::CONFLICT,
            C::InvalidState,
            "Not allowed in the current status",
            match reason {
                InvalidStateReason::PrefectureNotChosen => "先に請求先都道府県を選択してください。",
                InvalidStateReason::NotVerified => "確認コードの入力が済んでいません。メールに記載された確認コードを入力してください。",
                InvalidStateReason::AlreadyVerified => "確認コードは入力済みです。送信確認画面で内容を確認し、【送信】ボタンを押してください。",
                InvalidStateReason::Withdrawn => "この申請は取り下げられています。必要な場合は、最初から申請してください。",
                InvalidStateReason::MfaEnrolled => "認証アプリは登録済みです。変更する場合は、運用担当者に二段階認証の再設定を依頼してください。",
                InvalidStateReason::MfaNotStarted => "認証アプリの登録が始まっていません。もう一度ログインして、登録をやり直してください。",
                InvalidStateReason::NotEnded => "この申請はまだ終了していないため、個人情報を消去できません。",
            },
        ),
        DomainError::TransitionRefused { from } => ProblemParts::new(
            S::CONFLICT,
            C::TransitionRefused,
            "Not allowed in the current status",
            format!("この申請は「{}」のため、この操作はできません。画面を更新して最新の状態をご確認ください。", from.label()),
        ),
        DomainError::Forbidden => ProblemParts::new(
            S::FORBIDDEN,
            C::Forbidden,
            "Forbidden",
            "この操作は審査責任者（supervisor）のみ行えます。",
        ),
        DomainError::MfaRequired => ProblemParts::new(
            S::UNAUTHORIZED,
            C::MfaRequired,
            "Second factor required",
            "認証アプリに表示されている6桁の確認コードを入力してください。",
        ),
        DomainError::MfaInvalid => ProblemParts::new(
            S::UNAUTHORIZED,
            C::MfaInvalid,
            "Second factor invalid",
            "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください（リカバリーコードは一度しか使えません）。",
        ),
        DomainError::SameReviewer => ProblemParts::new(
            S::FORBIDDEN,
            C::SameReviewer,
            "Needs another reviewer",
            "ご自身が承認・申請したものは確定できません。同じ都道府県の別の審査担当者が確認してください。",
        ),
        DomainError::ReprintConfirmationRequired => ProblemParts::new(
            S::CONFLICT,
            C::ReprintConfirmationRequired,
            "Reprint needs a second reviewer",
            "郵送済の通知書を再び印刷すると、新しい仮パスワードが発行されます。再印刷を申請し、別の審査担当者の確認を受けてから印刷してください。",
        ),
        DomainError::EnvelopeMissing => ProblemParts::new(
            S::CONFLICT,
            C::EnvelopeMissing,
            "Return envelope missing",
            "この都道府県では、返信用封筒が届いてから通知書を発行します。返信用封筒を受け取ったら「返信用封筒を受領」を押してから承認を確定してください。",
        ),
        DomainError::CallbackMissing => ProblemParts::new(
            S::CONFLICT,
            C::CallbackMissing,
            "Call-back missing",
            "この都道府県では、承認の前に事業所台帳の電話番号へ電話して、事業所と話せたことを記録する必要があります。電話の結果を「通話を記録」で登録してください。",
        ),
        DomainError::LedgerChanged => ProblemParts::new(
            S::CONFLICT,
            C::LedgerChanged,
            "Ledger entry changed",
            "申請の後に事業所台帳のこの事業所の登録内容（住所など）が変わりました。申請の画面で変更前と変更後を確認し、「台帳の変更を確認しました」を押してから承認してください。",
        ),
        DomainError::IdempotencyKeyInvalid => ProblemParts::new(
            S::BAD_REQUEST,
            C::IdempotencyKeyInvalid,
            "Invalid Idempotency-Key",
            "Idempotency-Key ヘッダーは、1〜255文字の半角英数字と記号（空白を除く）で指定してください。UUID をお勧めします。",
        ),
        DomainError::IdempotencyKeyInUse => {
            let mut parts = ProblemParts::new(
                S::CONFLICT,
                C::IdempotencyKeyInUse,
                "Idempotency-Key in use",
                "同じ Idempotency-Key の最初の要求をまだ処理しています。少し待ってから、同じ要求をもう一度送ってください。",
            );
            parts.retry_after = Some(1);
            parts
        }
        DomainError::IdempotencyKeyReused => ProblemParts::new(
            S::UNPROCESSABLE_ENTITY,
            C::IdempotencyKeyReused,
            "Idempotency-Key reused",
            "この Idempotency-Key は、内容の違う別の要求に使われています。新しい要求には新しいキーを使ってください。",
        ),
        DomainError::PersonalDataErased => ProblemParts::new(
            S::CONFLICT,
            C::PersonalDataErased,
            "Personal data erased",
            "保存期間が過ぎたため、この申請の通知先メールアドレスは消去されています。メールは送れません。",
        ),
        DomainError::OfficeRemovedFromLedger => ProblemParts::new(
            S::CONFLICT,
            C::OfficeNotInLedger,
            "Office removed from the ledger",
            "この事業所は申請の後に事業所台帳から削除されたため、承認できません。台帳を確認し、必要なら事業所に連絡のうえ却下または取下げにしてください。",
        ),
        DomainError::ReprintRefused(reason) => ProblemParts::new(
            S::CONFLICT,
            C::TransitionRefused,
            "Not allowed in the current status",
            match reason {
                ReprintRefusal::NoticeStillPrintable => "通知書はまだ郵送済になっていないため、そのまま印刷できます。",
                ReprintRefusal::AlreadyRequested => "再印刷の申請が、別の審査担当者の確認を待っています。",
                ReprintRefusal::NoneRequested => "確認を待っている再印刷の申請はありません。画面を更新して最新の状態をご確認ください。",
            },
        ),
        DomainError::InvalidCredentials { id_label } => ProblemParts::new(
            S::UNAUTHORIZED,
            C::InvalidCredentials,
            "Invalid credentials",
            format!("{id_label}またはパスワードが正しくありません。"),
        ),
        DomainError::AccountLocked {
            until,
            retry_after_secs,
        } => {
            let local = reissue_shared::japan_time::in_japan(*until);
            // A lock that ends on a later day in Japan (a repeated one lasts longer) names it.
            let seen_at = reissue_shared::japan_time::in_japan(
                *until - std::time::Duration::from_secs(*retry_after_secs),
            );
            let day = if local.date() == seen_at.date() {
                String::new()
            } else {
                format!("{}月{}日", u8::from(local.month()), local.day())
            };
            let mut parts = ProblemParts::new(
                S::LOCKED,
                C::AccountLocked,
                "Account locked",
                format!(
                    "ログインに続けて失敗したため、{day}{:02}時{:02}分までログインできません。",
                    local.hour(),
                    local.minute()
                ),
            );
            parts.retry_after = Some(*retry_after_secs);
            parts
        }
        DomainError::LoginSuspended { remedy } => ProblemParts::new(
            S::LOCKED,
            C::AccountLocked,
            "Account locked",
            format!("ログインに続けて失敗したため、このIDではログインできなくなりました。{remedy}"),
        ),
        DomainError::AlreadySubmitted => ProblemParts::new(
            S::CONFLICT,
            C::AlreadySubmitted,
            "Already submitted",
            "この申請は送信済みです。国保連合会での審査結果をお待ちください。",
        ),
        DomainError::ApplicationExpired => ProblemParts::new(
            S::GONE,
            C::ApplicationExpired,
            "Application expired",
            "申請の有効期限が切れました。お手数ですが、最初から申請をやり直してください。",
        ),
        DomainError::ApplicationSuperseded => ProblemParts::new(
            S::CONFLICT,
            C::ApplicationSuperseded,
            "Application superseded",
            "同じ事業所番号で新しい申請が行われたため、この申請は無効になりました。新しい申請の画面で手続きを続けてください。",
        ),
        DomainError::WrongCode { attempts_left } => {
            let detail = format!(
                "確認コードが正しくありません。メールに記載された4桁の数字を入力してください（あと{attempts_left}回入力できます）。"
            );
            let mut parts = ProblemParts::new(S::UNPROCESSABLE_ENTITY, C::WrongCode, "Wrong code", detail.clone());
            parts.attempts_left = Some(*attempts_left);
            parts.errors = vec![FieldError::new("code", reissue_shared::FieldErrorCode::UnknownValue, detail)];
            parts
        }
        DomainError::CodeExpired { lifetime_minutes } => ProblemParts::new(
            S::GONE,
            C::CodeExpired,
            "Code expired",
            format!("確認コードの有効期間（{lifetime_minutes}分）が過ぎました。【確認コードを再送信】で新しい確認コードを受け取ってください。"),
        ),
        DomainError::CodeLocked { max_attempts } => {
            let mut parts = ProblemParts::new(
                S::TOO_MANY_REQUESTS,
                C::CodeLocked,
                "Code locked",
                format!("確認コードを{max_attempts}回誤って入力したため、この確認コードは使えなくなりました。【確認コードを再送信】で新しい確認コードを受け取ってください。"),
            );
            parts.attempts_left = Some(0);
            parts
        }
        DomainError::NoActiveCode => ProblemParts::new(
            S::CONFLICT,
            C::NoActiveCode,
            "No active code",
            "有効な確認コードがありません。【確認コードを再送信】で新しい確認コードを受け取ってください。",
        ),
        DomainError::CodeLimitReached { limit } => ProblemParts::new(
            S::TOO_MANY_REQUESTS,
            C::CodeLimitReached,
            "Code limit reached",
            format!("この申請で送信できる確認コードは{limit}回までです。メールアドレスに誤りがないかご確認のうえ、最初から申請をやり直してください。"),
        ),
        DomainError::RateLimited { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60);
            let mut parts = ProblemParts::new(
                S::TOO_MANY_REQUESTS,
                C::RateLimited,
                "Too many requests",
                format!("短時間に操作が繰り返されたため、受付を一時停止しています。約{minutes}分後にもう一度お試しください。"),
            );
            parts.retry_after = Some(*retry_after_secs);
            parts
        }
        DomainError::Busy { retry_after_secs } => {
            let mut parts = ProblemParts::new(
                S::SERVICE_UNAVAILABLE,
                C::ServiceUnavailable,
                "Service busy",
                "ただいまログインが混み合っています。少し時間をおいてからもう一度お試しください。",
            );
            parts.retry_after = Some(*retry_after_secs);
            parts
        }
        DomainError::Storage(error) if error.is_unavailable() => {
            let mut parts = ProblemParts::new(
                S::SERVICE_UNAVAILABLE,
                C::ServiceUnavailable,
                "Service unavailable",
                "ただいまシステムが混み合っているか、一時的に利用できません。しばらくしてからもう一度お試しください。",
            );
            // Billing software that retries on its own gets a pace to keep.
            parts.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
            parts
        }
        DomainError::Storage(_) | DomainError::Internal(_) => ProblemParts::new(
            S::INTERNAL_SERVER_ERROR,
            C::InternalError,
            "Internal error",
            "システムエラーが発生しました。お手数ですが、しばらくしてからもう一度お試しください。解決しない場合は、ヘルプデスク（0570-059-402）へ受付IDをお伝えください。",
        ),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().status
    }

    fn error_response(&self) -> HttpResponse {
        let parts = self.parts();
        let request_id = current_request_id();
        // A full argon2 queue is load shed as designed, counted in the metrics: no error line
        // per refused login in a flood.
        let shed = matches!(self, Self::Domain(DomainError::Busy { .. }));
        if parts.status.is_server_error() && !shed {
            // The cause goes to the log with the request id; the user sees only the id. A
            // driver's text may quote a value of the row (an address): those are redacted.
            let cause = crate::domain::outbox::redact_addresses(&format!("{self:?}"));
            tracing::error!(request_id = %request_id.as_deref().unwrap_or("-"), error = %cause, "request failed");
        }
        let problem = Problem {
            problem_type: format!("https://e-seikyuu.example/problems/{}", parts.code.as_str()),
            title: parts.title.to_owned(),
            status: parts.status.as_u16(),
            code: parts.code,
            detail: parts.detail,
            errors: parts.errors,
            attempts_left: parts.attempts_left,
            retry_after: parts.retry_after,
            request_id,
        };
        let mut response = HttpResponse::build(parts.status);
        response.content_type("application/problem+json");
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if let Some(seconds) = parts.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if parts.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(problem)
    }
}
