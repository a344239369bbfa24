//! The generated secret key of a fresh installation: created once in the data folder with
//! owner-only permissions, reused on every later start so codes and tokens stay valid.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::config::Secret;

/// Reads the key file, or creates it with 32 random bytes (hex) when it does not exist.
pub fn load_or_create(path: &Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= crate::config::MIN_SECRET_KEY_LENGTH => {
            Ok(Secret::new(text.trim().as_bytes().to_vec()))
        }
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is too short; delete it to generate a new key",
                path.display()
            ),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = hex::encode(bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            Ok(Secret::new(key.into_bytes()))
        }
        Err(error) => Err(error),
    }
}
