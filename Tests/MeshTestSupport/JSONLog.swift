import Foundation

/// The gateway's stdout as JSON log lines (SPEC §5), for assertions on events such as reload rejections.
public enum JSONLog {
    /// Every line of `text` that parses as a JSON object; other lines are skipped.
    public static func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// The lines whose `msg` equals `message`.
    public static func lines(_ text: String, message: String) -> [[String: Any]] {
        lines(text).filter { $0["msg"] as? String == message }
    }
}
