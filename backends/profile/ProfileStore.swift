import ServiceKit

/// A stored profile.
public struct Profile: Sendable, Equatable {
    /// The owner's user name.
    public var user: String
    /// Display name, at most 64 characters.
    public var nickname: String
    /// An http(s) URL, or nil.
    public var avatarURL: String?
    /// The preferences object, serialized JSON (at most 16 KiB).
    public var preferencesJSON: String
}

/// The profile table in the service's own SQLite file (SPEC §8: no shared tables).
final class ProfileStore {
    static let migrations = [
        """
        CREATE TABLE profiles (
            user TEXT PRIMARY KEY NOT NULL,
            nickname TEXT NOT NULL,
            avatar_url TEXT,
            preferences TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """
    ]

    private let database: Database

    init(path: String) throws(SQLiteError) {
        database = try Database(path: path)
        try database.migrate(Self.migrations)
    }

    func profile(_ user: String) throws(SQLiteError) -> Profile? {
        let rows = try database.query(
            "SELECT nickname, avatar_url, preferences FROM profiles WHERE user = ?",
            [.text(user)]
        )
        guard let row = rows.first else { return nil }
        return Profile(
            user: user,
            nickname: row[0].text ?? "",
            avatarURL: row[1].text,
            preferencesJSON: row[2].text ?? "{}"
        )
    }

    /// Inserts or replaces; committed (and fsynced, synchronous=FULL) before it returns.
    func save(_ profile: Profile, now: Int64) throws(SQLiteError) {
        try database.execute(
            """
            INSERT INTO profiles (user, nickname, avatar_url, preferences, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(user) DO UPDATE SET nickname = excluded.nickname, avatar_url = excluded.avatar_url,
                preferences = excluded.preferences, updated_at = excluded.updated_at
            """,
            [
                .text(profile.user), .text(profile.nickname), profile.avatarURL.map { .text($0) } ?? .null,
                .text(profile.preferencesJSON), .integer(now),
            ]
        )
    }
}
