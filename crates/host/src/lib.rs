//! sixstack-host: the stack on Linux. TAP devices ([`tap`]), the event loop and the
//! daemon ([`daemon`]) with its control socket ([`control`], speaking `sixstack-api`),
//! its configuration file ([`config`]) and what it keeps across restarts ([`state`]).
//!
//! `sixstack run` is [`daemon::run`]. Tests run [`daemon::serve`] with a shutdown
//! future of their own.

pub mod clock;
pub mod config;
mod conn;
pub mod control;
mod convert;
pub mod daemon;
pub mod dns;
pub mod log;
mod lookup;
pub mod resolve;
pub mod state;
pub mod tap;
mod tcp;

pub use daemon::{Options, run, serve};
pub use log::LogFormat;
