/// SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441 §3); unknown identifiers are ignored (§6.5.2).
public enum HTTP2Setting {
    public static let headerTableSize: UInt16 = 0x1
    public static let enablePush: UInt16 = 0x2
    public static let maxConcurrentStreams: UInt16 = 0x3
    public static let initialWindowSize: UInt16 = 0x4
    public static let maxFrameSize: UInt16 = 0x5
    public static let maxHeaderListSize: UInt16 = 0x6
    public static let enableConnectProtocol: UInt16 = 0x8
}
