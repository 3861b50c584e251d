//! FTP over IPv6: the server behind `sixstack ftpd` and the client behind `sixstack ftp`,
//! written against [`crate::net::Net`] so that both run over the host's stack and over
//! sixstack's.
//!
//! RFC 959 (FTP), RFC 2428 (EPRT and EPSV, the data ports IPv6 needs), RFC 3659 (SIZE,
//! MDTM, MLSD/MLST, REST STREAM), RFC 2389 (FEAT, OPTS), RFC 2577 (security
//! considerations: no bounce, login delays, limits).
//!
//! - [`proto`]: lines, replies, the data-port formats, the ASCII type's conversion.
//! - [`command`]: the server's parser of command lines.
//! - [`jail`]: the served root that nothing escapes.
//! - [`listing`]: `ls -l` lines, MLSD facts, MDTM times.
//! - [`users`]: the users file of hashed passwords.
//! - [`server`]: the server.
//! - [`client`]: the client: a session API and the interpreter of its commands.

pub mod client;
pub mod command;
pub mod jail;
pub mod listing;
pub mod proto;
pub mod server;
pub mod users;
