// libFuzzer target for the configuration decoder (SPEC §3): arbitrary bytes → ConfigLoader.parse → either a
// config or a non-empty list of errors, each naming where it is; never a crash. A loaded config renders
// (`GET /config`) to JSON that loads again and renders to the same text.

import MeshConfig
import MeshJSON

let environment = ["FUZZ_SECRET": "fuzz-secret", "MESHGATE_JWT_SECRET": "fuzz-secret"]

/// `listeners[0].routes[2].retry` → [.key("listeners"), .index(0), …]; nil for quoted keys (`a["odd key"]`),
/// which are not resolved here.
enum PathStep: Equatable {
    case key(String)
    case index(Int)
}

func steps(_ path: String) -> [PathStep]? {
    // Bytes, not Characters: a key starting with a combining mark fuses with the quote into one Character.
    let bytes = Array(path.utf8)
    guard !zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: "[") && $1 == UInt8(ascii: "\"") })
    else { return nil }
    var result: [PathStep] = []
    for part in path.split(separator: ".", omittingEmptySubsequences: false) {
        var rest = Substring(part)
        let key = rest.prefix { $0 != "[" }
        check(!key.isEmpty || (result.isEmpty && part.isEmpty), "empty path component in \(path.debugDescription)")
        if !key.isEmpty { result.append(.key(String(key))) }
        rest = rest.dropFirst(key.count)
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                let n = Int(rest[rest.index(after: rest.startIndex)..<close])
            else {
                check(false, "malformed path \(path.debugDescription)")
                return nil
            }
            result.append(.index(n))
            rest = rest[rest.index(after: close)...]
        }
    }
    return result
}

/// The node a path names, or nil.
func resolve(_ root: JSONNode, _ path: ArraySlice<PathStep>) -> JSONNode? {
    var node = root
    for step in path {
        switch step {
        case .key(let k):
            guard let next = node.objectValue?.first(where: { $0.key == k })?.value else { return nil }
            node = next
        case .index(let i):
            guard let list = node.arrayValue, i >= 0, i < list.count else { return nil }
            node = list[i]
        }
    }
    return node
}

/// Each error is located: a syntax error by line and column inside the document, any other by a JSON path
/// whose parent exists in the document (the last step may name a missing key).
func checkErrors(_ errors: [ConfigError], bytes: [UInt8]) {
    check(!errors.isEmpty, "a failed load reports at least one error")
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
    let root = try? JSONReader.parse(bytes)
    for error in errors {
        check(!error.message.isEmpty, "error without a message at \(error.path)")
        if let line = error.line {
            check(line >= 1 && line <= lines, "line \(line) outside the document (\(lines) lines): \(error)")
            check((error.column ?? 1) >= 1, "column < 1: \(error)")
        }
        if root == nil {
            check(error.line != nil, "a syntax error has a line: \(error)")
            continue
        }
        guard let root, let path = steps(error.path), !path.isEmpty else { continue }
        check(resolve(root, path.dropLast()) != nil, "error path's parent is not in the document: \(error)")
    }
}

/// Positive control, run once: a minimal valid config loads, so the round-trip branch is reachable.
let positiveControl: Void = {
    let minimal =
        #"{"version":1,"listeners":[{"name":"main","address":"127.0.0.1:8080","routes":[{"match":"#
        + #"{"path_prefix":"/"},"upstream":"app"}]}],"upstreams":{"app":{"endpoints":["127.0.0.1:3000"]}}}"#
    guard case .success = ConfigLoader.parse(Array(minimal.utf8), environment: environment) else {
        fatalError("positive control: the minimal config does not load")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = positiveControl
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
    let first = ConfigLoader.parse(bytes, environment: environment)
    switch first {
    case .failure(let errors):
        checkErrors(errors.errors, bytes: bytes)
        if case .failure(let again) = ConfigLoader.parse(bytes, environment: environment) {
            check(again.errors == errors.errors, "the same document gives the same errors")
        } else {
            check(false, "the same document loads the second time")
        }
    case .success(let config):
        let rendered = ConfigLoader.render(config)
        // Redacted secrets do not load back by design (they are not the key any more).
        guard !rendered.contains("[redacted]") else { return 0 }
        switch ConfigLoader.parse(Array(rendered.utf8), environment: environment) {
        case .success(let again):
            let second = ConfigLoader.render(again)
            check(second == rendered, "render → load → render changed:\n\(rendered)\n\(second)")
        case .failure(let errors):
            check(false, "the rendered config does not load: \(errors)\n\(rendered)\ninput: \(show(bytes))")
        }
    }
    return 0
}
