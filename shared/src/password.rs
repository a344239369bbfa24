//! The password rules: the manual's rule for a new office password (set after the first login
//! with the temporary password from the notice, or by a reset), and the reviewer accounts'
//! minimum length.

use crate::error_code::{FieldError, FieldErrorCode};

/// Shortest new password.
pub const MIN_LENGTH: usize = 10;
/// Longest new password (argon2 input stays small).
pub const MAX_LENGTH: usize = 128;

/// Passwords people choose most often (lower case); refused whatever their length.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "123456789",
    "1234567890",
    "12345678910",
    "0123456789",
    "1111111111",
    "0000000000",
    "qwertyuiop",
    "qwerty1234",
    "qwerty123456",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "abcdefghij",
    "abc1234567",
    "iloveyou12",
    "administrator",
    "admin12345",
    "welcome123",
    "letmein123",
    "changeme123",
    "sunshine12",
    "princess12",
    "football12",
    "baseball12",
    "dragon1234",
    "monkey1234",
    "superman12",
    "trustno123",
    "kaigo12345",
    "kaigohoken",
    "seikyu1234",
    "denshiseikyu",
    "kokuhoren1",
    "tokyo12345",
    "japan12345",
    "nippon1234",
    "sakura1234",
    "pokemon123",
    "doraemon12",
    "asdfghjkl1",
    "zxcvbnm123",
    "aaaaaaaaaa",
    "abcabcabc1",
];

/// Checks a new password; `user_id` and `temporary` (the password being replaced) may not be
/// reused. The error names the field `new_password` and says what to do.
pub fn check_new_password(
    new: &str,
    user_id: &str,
    temporary: Option<&str>,
) -> Result<(), FieldError> {
    let error = |code, message: &str| Err(FieldError::new("new_password", code, message));
    let length = new.chars().count();
    if length == 0 {
        return error(
            FieldErrorCode::Required,
            "新しいパスワードを入力してください。",
        );
    }
    if length < MIN_LENGTH {
        return error(
            FieldErrorCode::InvalidLength,
            "新しいパスワードは10文字以上で入力してください。",
        );
    }
    if length > MAX_LENGTH {
        return error(
            FieldErrorCode::TooLong,
            "新しいパスワードは128文字以内で入力してください。",
        );
    }
    let lower = new.to_lowercase();
    if !user_id.is_empty() && lower.contains(&user_id.to_lowercase()) {
        return error(
            FieldErrorCode::InvalidFormat,
            "新しいパスワードにユーザIDを含めることはできません。",
        );
    }
    if temporary.is_some_and(|temporary| temporary == new) {
        return error(
            FieldErrorCode::InvalidFormat,
            "仮パスワードと同じパスワードは使えません。新しいパスワードを設定してください。",
        );
    }
    if COMMON.contains(&lower.as_str()) {
        return error(
            FieldErrorCode::InvalidFormat,
            "推測されやすいパスワードのため使えません。別のパスワードを設定してください。",
        );
    }
    Ok(())
}

/// Shortest reviewer password (the operator sets it with `reissue reviewer add`).
pub const REVIEWER_MIN_LENGTH: usize = 12;

/// Checks a reviewer's password; the error names the field `password`.
pub fn check_reviewer_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < REVIEWER_MIN_LENGTH {
        return Err(FieldError::new(
            "password",
            FieldErrorCode::InvalidLength,
            format!("パスワードは{REVIEWER_MIN_LENGTH}文字以上にしてください。"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(new: &str) -> Option<FieldErrorCode> {
        check_new_password(new, "KJ12345678", Some("Tmp7kQ9xWp3A"))
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn the_rules() {
        assert_eq!(code(""), Some(FieldErrorCode::Required));
        assert_eq!(code("short1234"), Some(FieldErrorCode::InvalidLength));
        assert_eq!(code("xxKJ12345678xx"), Some(FieldErrorCode::InvalidFormat));
        assert_eq!(code("kj12345678abc"), Some(FieldErrorCode::InvalidFormat));
        assert_eq!(code("Tmp7kQ9xWp3A"), Some(FieldErrorCode::InvalidFormat));
        assert_eq!(code("Password123"), Some(FieldErrorCode::InvalidFormat));
        assert_eq!(code(&"a".repeat(129)), Some(FieldErrorCode::TooLong));
        assert_eq!(code("shinjuku-kaigo-2026"), None);
    }

    #[test]
    fn reviewer_passwords_have_twelve_characters_or_more() {
        assert!(check_reviewer_password("12345678901").is_err());
        assert!(check_reviewer_password("１２３４５６７８９０１２").is_ok());
    }

    proptest! {
        #[test]
        fn any_input_is_accepted_or_names_the_field(input in "\\PC{0,140}") {
            if let Err(e) = check_new_password(&input, "KJ12345678", None) {
                prop_assert_eq!(e.field.as_str(), "new_password");
            }
        }
    }
}
