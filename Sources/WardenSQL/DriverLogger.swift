import Logging

/// The logger handed to the database drivers (SQLiteNIO and SQLKit's SQLite binding, PostgresNIO).
///
/// - Important: The drivers' `debug` and `trace` lines are protocol dumps: the SQL with its bound values
///   (a username lookup binds whatever was typed as the username — sometimes a password), and at `trace`
///   PostgreSQL's rows as they arrive. So their logger never goes below `info` whatever
///   `WARDEN_LOG_LEVEL` says, and SQLKit's per-query line is turned off (`queryLogLevel: nil`). Their
///   warnings and errors still get through.
enum DriverLogger {
    static func make(label: String) -> Logger {
        var logger = Logger(label: label)
        if logger.logLevel < .info { logger.logLevel = .info }
        return logger
    }
}
