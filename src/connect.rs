//! Opening a connection from a [`DatabaseUrl`]: SQLite files in the mode the
//! command needs, servers with every wait bounded.

use std::time::Duration;

use diesel::Connection;

use crate::connection::{Access, AnyConnection};
use crate::database_url::{DatabaseUrl, SqliteMode};
use crate::dialect::Dialect;
use crate::error::Error;

/// How long to wait for a server to accept and answer a connection; the
/// drivers' own defaults can hang for minutes, or forever on a server that
/// accepts and never answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl AnyConnection {
    /// Connects to the database `url` names. Errors carry the URL with its
    /// password masked, and the driver's message with the password removed.
    /// A read-only SQLite connection to a file that does not exist is
    /// [`Error::NoSuchDatabaseFile`]: reading never creates it.
    pub fn connect(url: &DatabaseUrl, access: Access) -> Result<Self, Error> {
        let fail = |message: String| Error::Connect {
            url: url.to_string(),
            message: url.redact(message.trim()),
        };
        match url.dialect() {
            Dialect::Sqlite => connect_sqlite(url, access, &fail),
            Dialect::Postgres => connect_postgres(url, &fail),
            Dialect::Mysql => connect_mysql(url, &fail),
        }
    }
}

type Fail<'a> = &'a dyn Fn(String) -> Error;

fn connect_sqlite(url: &DatabaseUrl, access: Access, fail: Fail) -> Result<AnyConnection, Error> {
    let Some(path) = url.sqlite_path() else {
        return establish_sqlite(":memory:", fail);
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(fail(format!(
                "directory {} does not exist",
                parent.display()
            )));
        }
    }
    if path.is_dir() {
        return Err(fail(format!(
            "{} is a directory, not a database file",
            path.display()
        )));
    }
    let exists = path.exists();
    let mode = url.sqlite_mode().unwrap_or_default();
    let access = match access {
        Access::WriteExisting if !exists => {
            return Err(Error::NoSuchDatabaseFile {
                path: path.display().to_string(),
            })
        }
        Access::WriteExisting => Access::ReadWrite,
        other => other,
    };
    let uri_mode = match (access, mode) {
        (Access::ReadOnly, _) if !exists => {
            return Err(Error::NoSuchDatabaseFile {
                path: path.display().to_string(),
            })
        }
        (Access::ReadOnly, _) => "ro",
        (Access::ReadWrite, SqliteMode::ReadOnly) => {
            return Err(fail(format!(
                "{} is opened with mode=ro: this command writes (read commands such as status still work)",
                path.display()
            )))
        }
        (Access::ReadWrite, SqliteMode::ReadWrite) if !exists => {
            return Err(fail(format!(
                "{} does not exist, and mode=rw does not create it",
                path.display()
            )))
        }
        (Access::ReadWrite, _) if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) => {
            return Err(fail(format!(
                "{} is read-only: this command writes to it (read commands such as status still work)",
                path.display()
            )))
        }
        (Access::ReadWrite, SqliteMode::ReadWrite) => "rw",
        (_, _) => "rwc",
    };
    let uri = format!("file:{}?mode={uri_mode}", uri_path(&path.to_string_lossy()));
    establish_sqlite(&uri, fail)
}

fn establish_sqlite(target: &str, fail: Fail) -> Result<AnyConnection, Error> {
    diesel::SqliteConnection::establish(target)
        .map(AnyConnection::Sqlite)
        .map_err(|e| fail(e.to_string()))
}

/// A path as the path part of an SQLite `file:` URI: every character that
/// would end it or read as an escape is percent-encoded.
fn uri_path(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const URI_PATH: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#');
    utf8_percent_encode(path, URI_PATH).to_string()
}

#[cfg(feature = "postgres")]
fn connect_postgres(url: &DatabaseUrl, fail: Fail) -> Result<AnyConnection, Error> {
    probe::reachable(url).map_err(fail)?;
    let mut driver_url = url.as_driver_str().to_string();
    if !driver_url.contains("connect_timeout=") {
        let separator = if driver_url.contains('?') { '&' } else { '?' };
        driver_url = format!(
            "{driver_url}{separator}connect_timeout={}",
            CONNECT_TIMEOUT.as_secs()
        );
    }
    diesel::PgConnection::establish(&driver_url)
        .map(AnyConnection::Postgres)
        .map_err(|e| fail(e.to_string()))
}

#[cfg(not(feature = "postgres"))]
fn connect_postgres(_: &DatabaseUrl, _: Fail) -> Result<AnyConnection, Error> {
    Err(Error::BackendNotBuilt {
        backend: "PostgreSQL",
        feature: "postgres",
    })
}

#[cfg(feature = "mysql")]
fn connect_mysql(url: &DatabaseUrl, fail: Fail) -> Result<AnyConnection, Error> {
    // The MySQL client has no connect timeout diesel can set, and waits
    // forever for a server that accepts and never speaks. The server speaks
    // first, so wait (bounded) for its greeting before handing over.
    probe::greets(url).map_err(fail)?;
    // A server can greet and then stall in the handshake or the login, so
    // the connect itself runs on a thread of its own and is waited for a
    // bounded time. On a timeout that thread is left to the driver (it ends
    // when the server does); the caller gets its error.
    let driver = url.as_driver_str().to_string();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(String::from("mysql-connect"))
        .spawn(move || {
            let _ = sender.send(diesel::MysqlConnection::establish(&driver));
        })
        .map_err(|e| fail(format!("cannot start the connect: {e}")))?;
    match receiver.recv_timeout(CONNECT_TIMEOUT) {
        Ok(connected) => connected
            .map(AnyConnection::Mysql)
            .map_err(|e| fail(e.to_string())),
        Err(_) => Err(fail(format!(
            "the server greeted but did not complete the connection within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(not(feature = "mysql"))]
fn connect_mysql(_: &DatabaseUrl, _: Fail) -> Result<AnyConnection, Error> {
    Err(Error::BackendNotBuilt {
        backend: "MySQL",
        feature: "mysql",
    })
}

/// Bounded checks of a server before its driver connects.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod probe {
    use std::io::Read;
    use std::net::{TcpStream, ToSocketAddrs};

    use super::CONNECT_TIMEOUT;
    use crate::database_url::DatabaseUrl;

    /// Opens a TCP connection within [`CONNECT_TIMEOUT`], so an unreachable
    /// host fails with a plain message.
    fn open(url: &DatabaseUrl) -> Result<Option<TcpStream>, String> {
        let Some((host, port)) = url.tcp_endpoint() else {
            return Ok(None);
        };
        let addresses = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve host {host}: {e}"))?;
        let mut last_error = format!("host {host} has no address");
        for address in addresses {
            match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
                Ok(stream) => return Ok(Some(stream)),
                Err(e) => last_error = format!("cannot reach {host}:{port}: {e}"),
            }
        }
        Err(last_error)
    }

    #[cfg(feature = "postgres")]
    pub(super) fn reachable(url: &DatabaseUrl) -> Result<(), String> {
        open(url).map(drop)
    }

    /// Reads the first bytes of the server's greeting within the timeout.
    #[cfg(feature = "mysql")]
    pub(super) fn greets(url: &DatabaseUrl) -> Result<(), String> {
        let Some(mut stream) = open(url)? else {
            return Ok(());
        };
        let (host, port) = url.tcp_endpoint().unwrap_or_default();
        stream
            .set_read_timeout(Some(CONNECT_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut header = [0u8; 4];
        match stream.read(&mut header) {
            Ok(0) => Err(format!("the server at {host}:{port} closed the connection without a greeting")),
            Ok(_) => Ok(()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Err(format!(
                "the server at {host}:{port} accepted the connection but did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            )),
            Err(e) => Err(format!("cannot talk to {host}:{port}: {e}")),
        }
    }
}
