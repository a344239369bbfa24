//! The one path from a JSON body to a parsed input: [`Input`] deserialises the body (the
//! JSON rules of `routes::json_config`: 64 KB, `application/json`, problem+json on failure),
//! runs the shared rules once (`reissue_shared::ParseInput`), and hands the handler the typed
//! input, or answers 422 with every field error in screen order.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use reissue_shared::ParseInput;

use crate::error::ApiError;

/// The parsed input of a request body of type `T`.
pub struct Input<T: ParseInput>(pub T::Input);

impl<T: ParseInput> Input<T> {
    /// The parsed input.
    pub fn into_inner(self) -> T::Input {
        self.0
    }
}

impl<T> FromRequest for Input<T>
where
    T: ParseInput + DeserializeOwned + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            body.parse()
                .map(Input)
                .map_err(|errors| ApiError::from(errors).into())
        })
    }
}

/// Like [`Input`], for a body that may be left out: a request without a body (no
/// `Content-Type`, no length) is read as `T::default()`, so `POST …/notice-mailed` with no body
/// keeps working as before the body existed.
pub struct OptionalInput<T: ParseInput>(pub T::Input);

impl<T> FromRequest for OptionalInput<T>
where
    T: ParseInput + DeserializeOwned + Default + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let no_body = headers.get(actix_web::http::header::CONTENT_TYPE).is_none()
            && headers
                .get(actix_web::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|length| length.trim() == "0");
        if no_body {
            let parsed = T::default()
                .parse()
                .map(OptionalInput)
                .map_err(|errors| ApiError::from(errors).into());
            return Box::pin(async move { parsed });
        }
        // `null` is no body too.
        let body = web::Json::<Option<T>>::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?.into_inner().unwrap_or_default();
            body.parse()
                .map(OptionalInput)
                .map_err(|errors| ApiError::from(errors).into())
        })
    }
}
