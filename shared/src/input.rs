//! The one way from a request body to a typed input: [`ParseInput`]. Every request type of the
//! API implements it with the rules of this crate, so the browser (before sending) and the
//! server (on receipt, once, in its body extractor) check alike and answer with the same
//! field errors, all at once and in screen order.
//!
//! With the `server` feature each request type is also a `validator::Validate` (the server's
//! validation interface) whose rules are exactly these parsers: one rule, not a second copy.

use crate::error_code::FieldError;

/// A request body that parses into a typed input, or says what is wrong with each field.
pub trait ParseInput {
    /// What a well-formed body holds (e.g. an `OfficeNumber`, not a `String`).
    type Input;

    /// Every field checked; all errors at once, in screen order.
    fn parse(&self) -> Result<Self::Input, Vec<FieldError>>;
}

/// Implements `validator::Validate` for request types by their [`ParseInput`] rules.
#[cfg(feature = "server")]
macro_rules! validate_by_parsing {
    ($($request:ty),* $(,)?) => {
        $(
            impl validator::Validate for $request {
                fn validate(&self) -> Result<(), validator::ValidationErrors> {
                    $crate::input::validation_errors($crate::input::ParseInput::parse(self))
                }
            }
        )*
    };
}

#[cfg(feature = "server")]
pub(crate) use validate_by_parsing;

/// The outcome of a parse as `validator`'s errors: the field, the stable field code and the
/// Japanese message of each.
#[cfg(feature = "server")]
pub fn validation_errors<T>(
    parsed: Result<T, Vec<FieldError>>,
) -> Result<(), validator::ValidationErrors> {
    use std::borrow::Cow;
    let Err(field_errors) = parsed else {
        return Ok(());
    };
    let mut errors = validator::ValidationErrors::new();
    for error in field_errors {
        let entry = errors
            .0
            .entry(Cow::Owned(error.field.clone()))
            .or_insert_with(|| validator::ValidationErrorsKind::Field(Vec::new()));
        if let validator::ValidationErrorsKind::Field(list) = entry {
            list.push(
                validator::ValidationError::new(error.code.as_str())
                    .with_message(Cow::Owned(error.message)),
            );
        }
    }
    Err(errors)
}
