/// Streams whose output an HTTP/2 codec's output budget (`maxOutboundBytes`) refused while their window still had
/// room: the peer's socket was full. A WINDOW_UPDATE wakes a stream that waits for window; nothing would wake
/// these, so the session's flush that empties the codec's output pumps them again.
struct RoomWaiters<Member: AnyObject> {
    private var members: [Member] = []

    var isEmpty: Bool { members.isEmpty }

    mutating func add(_ member: Member) {
        if !members.contains(where: { $0 === member }) { members.append(member) }
    }

    /// The waiting members, now no longer waiting.
    mutating func takeAll() -> [Member] {
        let all = members
        members = []
        return all
    }
}
