import ServiceKit

/// The users table in auth-service's own SQLite file: user name and scrypt hash string, nothing else.
final class UserStore {
    static let migrations = [
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY NOT NULL,
            password_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """
    ]

    private let database: Database

    init(path: String) throws(SQLiteError) {
        database = try Database(path: path)
        try database.migrate(Self.migrations)
    }

    /// Inserts a user; false when the name is taken (the primary key decides, so two racing registrations
    /// cannot both win).
    func insert(_ username: String, passwordHash: String, now: Int64) throws(SQLiteError) -> Bool {
        do {
            try database.execute(
                "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
                [.text(username), .text(passwordHash), .integer(now)]
            )
            return true
        } catch  where error.isConstraint {
            return false
        }
    }

    /// The stored hash of `username`, or nil.
    func passwordHash(_ username: String) throws(SQLiteError) -> String? {
        try database.query("SELECT password_hash FROM users WHERE username = ?", [.text(username)]).first?[0].text
    }
}
