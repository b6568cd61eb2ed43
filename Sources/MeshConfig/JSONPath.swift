import MeshJSON

/// How config errors spell a location: `a.b`, or `a["odd key"]` when a key is not a plain identifier.
public enum JSONPath {
    /// The path of member `key` of the object at `path`.
    public static func join(_ path: String, _ key: String) -> String {
        let plain =
            !key.isEmpty
            && key.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
        if !plain { return "\(path)[\(JSONWriter.escaped(key))]" }
        return path.isEmpty ? key : "\(path).\(key)"
    }
}
