//! What the daemon tells its operator, on standard error: one line per happening, as
//! text (`2.345678 tap0: address fe80::1 TENTATIVE -> PREFERRED`) or as JSON
//! (`{"time_us":2345678,"level":"info","dev":"tap0","message":"...",...}`).

use std::io::Write;

use serde_json::{Map, Value};
use sixstack_api::EventInfo;
use sixstack_core::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format {s:?}: use text or json")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Logger {
    format: LogFormat,
}

impl Logger {
    pub fn new(format: LogFormat) -> Self {
        Self { format }
    }

    pub fn log(&self, now: Instant, level: Level, dev: Option<&str>, message: &str) {
        let line = match self.format {
            LogFormat::Text => text_line(now, level, dev, message),
            LogFormat::Json => {
                let mut m = Map::new();
                m.insert("time_us".into(), now.total_micros().into());
                m.insert("level".into(), level.as_str().into());
                if let Some(d) = dev {
                    m.insert("dev".into(), d.into());
                }
                m.insert("message".into(), message.into());
                Value::Object(m).to_string()
            }
        };
        emit(&line);
    }

    pub fn info(&self, now: Instant, dev: Option<&str>, message: &str) {
        self.log(now, Level::Info, dev, message);
    }

    pub fn warn(&self, now: Instant, dev: Option<&str>, message: &str) {
        self.log(now, Level::Warn, dev, message);
    }

    pub fn error(&self, now: Instant, dev: Option<&str>, message: &str) {
        self.log(now, Level::Error, dev, message);
    }

    /// An event of the stack: in JSON with every field the control protocol gives it.
    pub fn event(&self, e: &EventInfo) {
        let now = Instant::from_micros(e.time_us);
        let line = match self.format {
            LogFormat::Text => text_line(now, Level::Info, e.dev.as_deref(), &e.message),
            LogFormat::Json => {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("level".into(), "info".into());
                    m.insert("type".into(), "event".into());
                }
                v.to_string()
            }
        };
        emit(&line);
    }
}

fn text_line(now: Instant, level: Level, dev: Option<&str>, message: &str) -> String {
    let us = now.total_micros();
    let lvl = match level {
        Level::Info => "",
        Level::Warn => "warning: ",
        Level::Error => "error: ",
    };
    match dev {
        Some(d) => format!(
            "{}.{:06} {d}: {lvl}{message}",
            us / 1_000_000,
            us % 1_000_000
        ),
        None => format!("{}.{:06} {lvl}{message}", us / 1_000_000, us % 1_000_000),
    }
}

fn emit(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}
