import CSQLite
import Glibc

/// One SQLite connection, set up for durable acknowledged writes (SPEC §8: "a write that returned 2xx
/// survives a kill -9"): WAL journal, `synchronous=FULL` (each commit fsyncs the WAL before returning),
/// a busy timeout, prepared statements cached by SQL text, and schema migrations by `PRAGMA user_version`.
///
/// Not thread-safe: one connection per service, used only on the loop thread (SQLite calls are short).
public final class Database {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The database file path.
    public let path: String

    /// Opens (creating if needed) the database at `path` and applies the durability pragmas.
    public init(path: String, busyTimeoutMs: Int32 = 5000) throws(SQLiteError) {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteError(code: rc, message: message, operation: "open \(path)")
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        let mode = try query("PRAGMA journal_mode=WAL").first?[0].text
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR, message: "journal_mode is \(mode ?? "?")", operation: "WAL")
        }
        try execute("PRAGMA synchronous=FULL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// The schema version stored in `PRAGMA user_version` (0 for a new file).
    public func schemaVersion() throws(SQLiteError) -> Int {
        Int(try query("PRAGMA user_version").first?[0].integer ?? 0)
    }

    /// Brings the schema up to `migrations.count`: migration `i` (0-based) moves version `i` to `i + 1`, each in
    /// its own transaction with the version bump, so a crash never leaves a half-applied step.
    /// - Throws: when a step fails, or the file is newer than this binary (a downgrade).
    public func migrate(_ migrations: [String]) throws(SQLiteError) {
        let current = try schemaVersion()
        guard current <= migrations.count else {
            throw SQLiteError(
                code: SQLITE_ERROR,
                message: "schema version \(current) is newer than this binary "
                    + "(\(migrations.count))",
                operation: "migrate"
            )
        }
        for version in current..<migrations.count {
            try transaction { () throws(SQLiteError) in
                try exec(migrations[version])
                try exec("PRAGMA user_version = \(version + 1)")
            }
        }
    }

    /// Runs `body` in `BEGIN IMMEDIATE … COMMIT`; any error rolls back and is rethrown.
    public func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    /// Runs one statement with parameters; returns the number of rows changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLiteError) -> Int {
        _ = try run(sql, parameters, collect: false)
        return Int(sqlite3_changes(handle))
    }

    /// Runs one query with parameters; returns every row as its column values.
    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
        try run(sql, parameters, collect: true)
    }

    // MARK: - Internals

    /// Runs SQL text that may hold several statements (migrations); not cached.
    private func exec(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, operation: String(sql.prefix(40)))
        }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, "prepare \(sql.prefix(40))") }
        statements[sql] = statement
        return statement
    }

    private func run(_ sql: String, _ parameters: [SQLValue], collect: Bool) throws(SQLiteError) -> [[SQLValue]] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in parameters.enumerated() { try bind(statement, Int32(index + 1), value) }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw error(rc, String(sql.prefix(40))) }
            if collect { rows.append(Self.row(statement)) }
        }
    }

    private func bind(_ statement: OpaquePointer, _ index: Int32, _ value: SQLValue) throws(SQLiteError) {
        // SQLITE_TRANSIENT: SQLite copies the bytes, so the Swift buffers may go away after the call.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(statement, index)
        case .integer(let i): rc = sqlite3_bind_int64(statement, index, i)
        case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, transient)
        case .blob(let b):
            rc = b.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        }
        guard rc == SQLITE_OK else { throw error(rc, "bind") }
    }

    private static func row(_ statement: OpaquePointer) -> [SQLValue] {
        (0..<sqlite3_column_count(statement)).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
            case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard count > 0, let base = sqlite3_column_blob(statement, column) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
            default: return .null
            }
        }
    }

    private func error(_ rc: Int32, _ operation: String) -> SQLiteError {
        SQLiteError(
            code: sqlite3_extended_errcode(handle),
            message: String(cString: sqlite3_errmsg(handle)),
            operation: operation
        )
    }
}
