import ServiceKit

/// The follow graph in the service's own SQLite file: one row per (follower, followee) edge.
final class FollowStore {
    static let migrations = [
        """
        CREATE TABLE follows (
            follower TEXT NOT NULL,
            followee TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (follower, followee)
        ) WITHOUT ROWID;
        CREATE INDEX follows_by_followee ON follows (followee, follower);
        """
    ]

    /// Which list a page is taken from.
    enum List {
        case followers
        case following
        case friends
    }

    private let database: Database

    init(path: String) throws(SQLiteError) {
        database = try Database(path: path)
        try database.migrate(Self.migrations)
    }

    /// Adds the edge; true when it was new. Idempotent (a repeat changes nothing).
    func follow(_ follower: String, _ followee: String, now: Int64) throws(SQLiteError) -> Bool {
        try database.execute(
            "INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)",
            [.text(follower), .text(followee), .integer(now)]
        ) > 0
    }

    /// Removes the edge; true when it existed. Idempotent.
    func unfollow(_ follower: String, _ followee: String) throws(SQLiteError) -> Bool {
        try database.execute(
            "DELETE FROM follows WHERE follower = ? AND followee = ?",
            [.text(follower), .text(followee)]
        ) > 0
    }

    /// Up to `limit` names after `after` in name order, and whether more follow (keyset paging: stable under
    /// concurrent inserts, no OFFSET scans).
    func page(_ list: List, of user: String, after: String, limit: Int) throws(SQLiteError) -> ([String], Bool) {
        let sql: String
        switch list {
        case .followers:
            sql = "SELECT follower FROM follows WHERE followee = ?1 AND follower > ?2 ORDER BY follower LIMIT ?3"
        case .following:
            sql = "SELECT followee FROM follows WHERE follower = ?1 AND followee > ?2 ORDER BY followee LIMIT ?3"
        case .friends:
            sql = """
                SELECT a.followee FROM follows a
                JOIN follows b ON b.follower = a.followee AND b.followee = a.follower
                WHERE a.follower = ?1 AND a.followee > ?2 ORDER BY a.followee LIMIT ?3
                """
        }
        let rows = try database.query(sql, [.text(user), .text(after), .integer(Int64(limit + 1))])
        let names = rows.compactMap { $0.first?.text }
        return (Array(names.prefix(limit)), names.count > limit)
    }
}
