//! ftpd's users file: one `name:PHC-string` a line (Argon2id, as `sixstack ftpd
//! --hash-password` prints), `#` comments and blank lines allowed.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

/// The logins a server accepts.
#[derive(Clone)]
pub struct Users {
    by_name: HashMap<String, String>,
    /// Checked against for unknown names, so a wrong name costs as long as a wrong password.
    decoy: String,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("Users").field("names", &names).finish()
    }
}

/// A line of the users file that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersError {
    pub line: usize,
    pub why: String,
}

impl fmt::Display for UsersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

impl Users {
    pub fn load(path: &Path) -> Result<Users, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Users::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Users, UsersError> {
        let mut by_name = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let err = |why: &str| UsersError {
                line: i + 1,
                why: why.to_owned(),
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, hash) = line.split_once(':').ok_or_else(|| {
                err("want name:$argon2id$... (sixstack ftpd --hash-password makes the hash)")
            })?;
            if name.is_empty()
                || name.len() > 64
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(err("a name is 1 to 64 characters without spaces"));
            }
            PasswordHash::new(hash).map_err(|e| err(&format!("not a PHC string ({e})")))?;
            if by_name.insert(name.to_owned(), hash.to_owned()).is_some() {
                return Err(err(&format!("{name} appears twice")));
            }
        }
        if by_name.is_empty() {
            return Err(UsersError {
                line: 0,
                why: "no users".into(),
            });
        }
        let decoy = hash_password("decoy").map_err(|why| UsersError { line: 0, why })?;
        Ok(Users { by_name, decoy })
    }

    /// Whether `name` logs in with `password`.
    pub fn check(&self, name: &str, password: &str) -> bool {
        let (hash, known) = match self.by_name.get(name) {
            Some(h) => (h.as_str(), true),
            None => (self.decoy.as_str(), false),
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        ok && known
    }
}

/// A PHC string of `password` with a fresh salt (Argon2id, the crate's default cost).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_log_in_with_their_password_only() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        let u = Users::parse(&format!("# comment\n\nalice:{h}\n")).unwrap();
        assert!(u.check("alice", "s3cret"));
        assert!(!u.check("alice", "wrong"));
        assert!(!u.check("bob", "s3cret"));
        assert!(!u.check("", ""));
    }

    #[test]
    fn bad_files_say_which_line() {
        assert_eq!(Users::parse("alice\n").unwrap_err().line, 1);
        assert_eq!(Users::parse("\nalice:plain\n").unwrap_err().line, 2);
        assert_eq!(Users::parse("# only\n").unwrap_err().line, 0);
        assert!(Users::parse(" a b:$argon2id$x\n").is_err());
    }
}
