//! The served root that nothing escapes. A client names files by virtual paths (`/`, the
//! root; a current directory under it); each is resolved lexically against the root
//! (`..` beyond the root is refused, an absolute path starts at the root), and then on the
//! file system: every symbolic link on the way is followed and the result must still lie
//! under the root's canonical path (RFC 2577 §6 asks for no access outside the tree).
//!
//! A race with a local user who swaps a directory for a link between the check and the
//! use is not closed here (that needs `openat2(RESOLVE_BENEATH)`); the client alone cannot
//! make links.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a path was refused.
#[derive(Debug)]
pub enum JailError {
    /// `..` beyond the root, or a link that leads out of it.
    Escape,
    /// A NUL byte or an empty name where one is needed.
    Invalid,
    /// The file system said no (not found, permission).
    Io(io::Error),
}

impl fmt::Display for JailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JailError::Escape => write!(f, "Permission denied: outside the served tree"),
            JailError::Invalid => write!(f, "Invalid file name"),
            JailError::Io(e) => match e.kind() {
                io::ErrorKind::NotFound => write!(f, "No such file or directory"),
                io::ErrorKind::PermissionDenied => write!(f, "Permission denied"),
                io::ErrorKind::AlreadyExists => write!(f, "File exists"),
                io::ErrorKind::DirectoryNotEmpty => write!(f, "Directory not empty"),
                io::ErrorKind::NotADirectory => write!(f, "Not a directory"),
                io::ErrorKind::IsADirectory => write!(f, "Is a directory"),
                _ => write!(f, "{e}"),
            },
        }
    }
}

impl From<io::Error> for JailError {
    fn from(e: io::Error) -> Self {
        JailError::Io(e)
    }
}

/// The root of the served tree, canonical.
#[derive(Debug, Clone)]
pub struct Jail {
    root: PathBuf,
}

impl Jail {
    /// `root` must be a directory; links in its own path are resolved once here.
    pub fn new(root: &Path) -> io::Result<Self> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Jail { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The virtual path `arg` names from the virtual directory `cwd`: absolute, without
    /// `.`, `..` or repeated slashes. `..` above `/` is refused, not clamped.
    pub fn resolve(cwd: &str, arg: &str) -> Result<String, JailError> {
        if arg.contains('\0') {
            return Err(JailError::Invalid);
        }
        let mut parts: Vec<&str> = Vec::new();
        let from_cwd = if arg.starts_with('/') { "" } else { cwd };
        for p in from_cwd.split('/').chain(arg.split('/')) {
            match p {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(JailError::Escape);
                    }
                }
                p => parts.push(p),
            }
        }
        Ok(format!("/{}", parts.join("/")))
    }

    /// The real path of a virtual one, without touching the file system.
    fn real(&self, vpath: &str) -> PathBuf {
        let rel = vpath.trim_start_matches('/');
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    fn inside(&self, p: &Path) -> Result<(), JailError> {
        if p.starts_with(&self.root) {
            Ok(())
        } else {
            Err(JailError::Escape)
        }
    }

    /// An existing file or directory, to be read or entered: the real path, once the
    /// parent directory and the object itself (links followed) are known to be inside.
    pub fn existing(&self, vpath: &str) -> Result<PathBuf, JailError> {
        let real = self.real(vpath);
        self.parent_inside(&real)?;
        self.inside(&fs::canonicalize(&real)?)?;
        Ok(real)
    }

    /// An entry to be acted on itself (deleted, renamed): the parent must be inside; the
    /// entry is not followed, so a link is removed, not its target. It must exist.
    pub fn entry(&self, vpath: &str) -> Result<PathBuf, JailError> {
        if vpath == "/" {
            return Err(JailError::Escape);
        }
        let real = self.real(vpath);
        self.parent_inside(&real)?;
        fs::symlink_metadata(&real)?;
        Ok(real)
    }

    /// A file to be created or overwritten: the parent must be inside, and if the name is
    /// a link, where it leads must be inside and exist (a dangling link could point
    /// anywhere).
    pub fn creatable(&self, vpath: &str) -> Result<PathBuf, JailError> {
        if vpath == "/" {
            return Err(JailError::Invalid);
        }
        let real = self.real(vpath);
        self.parent_inside(&real)?;
        match fs::symlink_metadata(&real) {
            Ok(m) if m.file_type().is_symlink() => match fs::canonicalize(&real) {
                Ok(c) => self.inside(&c)?,
                Err(_) => return Err(JailError::Escape),
            },
            _ => {}
        }
        Ok(real)
    }

    fn parent_inside(&self, real: &Path) -> Result<(), JailError> {
        match real.parent() {
            Some(parent) if real != self.root => self.inside(&fs::canonicalize(parent)?),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sixstack-jail-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lexical_resolution() {
        assert_eq!(Jail::resolve("/", "a/b").unwrap(), "/a/b");
        assert_eq!(Jail::resolve("/a", "../b").unwrap(), "/b");
        assert_eq!(Jail::resolve("/a", "/x//y/./z/").unwrap(), "/x/y/z");
        assert_eq!(Jail::resolve("/a/b", "..").unwrap(), "/a");
        assert_eq!(Jail::resolve("/a/b", "").unwrap(), "/a/b");
        assert_eq!(Jail::resolve("/", "/").unwrap(), "/");
        assert!(matches!(Jail::resolve("/", ".."), Err(JailError::Escape)));
        assert!(matches!(
            Jail::resolve("/a", "/../../etc/passwd"),
            Err(JailError::Escape)
        ));
        assert!(matches!(
            Jail::resolve("/a", "../../etc"),
            Err(JailError::Escape)
        ));
        assert!(matches!(
            Jail::resolve("/", "a\0b"),
            Err(JailError::Invalid)
        ));
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let base = tmp("links");
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), b"no").unwrap();
        fs::write(root.join("sub/ok"), b"yes").unwrap();
        symlink(&outside, root.join("out")).unwrap();
        symlink(outside.join("secret"), root.join("secret")).unwrap();
        symlink("sub/ok", root.join("inner")).unwrap();
        symlink("/nonexistent/place", root.join("dangling")).unwrap();
        let jail = Jail::new(&root).unwrap();

        assert!(jail.existing("/sub/ok").is_ok());
        assert!(jail.existing("/inner").is_ok());
        assert!(jail.existing("/").is_ok());
        assert!(matches!(jail.existing("/out"), Err(JailError::Escape)));
        assert!(matches!(
            jail.existing("/out/secret"),
            Err(JailError::Escape)
        ));
        assert!(matches!(jail.existing("/secret"), Err(JailError::Escape)));
        // Writing through a link that leads out, or through a dangling one.
        assert!(matches!(jail.creatable("/secret"), Err(JailError::Escape)));
        assert!(matches!(jail.creatable("/out/new"), Err(JailError::Escape)));
        assert!(matches!(
            jail.creatable("/dangling"),
            Err(JailError::Escape)
        ));
        assert!(jail.creatable("/sub/new").is_ok());
        // Deleting a link removes the link: allowed, its target is not touched.
        assert!(jail.entry("/secret").is_ok());
        assert!(matches!(jail.entry("/out/secret"), Err(JailError::Escape)));
        assert!(matches!(jail.entry("/"), Err(JailError::Escape)));
        assert!(matches!(jail.existing("/nope"), Err(JailError::Io(_))));
        fs::remove_dir_all(&base).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn resolved_paths_stay_under_the_root(cwd in "(/[a-z.]{0,3}){0,4}", arg in "[a-z./]{0,24}") {
            if let Ok(v) = Jail::resolve(&cwd, &arg) {
                proptest::prop_assert!(v.starts_with('/'));
                proptest::prop_assert!(!v.split('/').any(|p| p == ".." || p == "."));
                proptest::prop_assert!(!v.contains("//"));
            }
        }
    }
}
