import Foundation
import Testing

@testable import MeshDemo

/// The documents a newcomer reads first stay true (issue 15): their links resolve inside the repository (a
/// clone has nothing beside it), and the README shows the walkthrough `meshgate demo` prints, as printed.
@Suite struct DocsTests {
    /// The repository: three levels above this file (Tests/IntegrationTests/DocsTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func read(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }

    /// Markdown files a user meets: the README, docs/, and the READMEs of the folders it links.
    static let documents = [
        "README.md", "docs/decisions.md", "docs/security.md", "docs/walkthrough.md", "backends/README.md",
        "bench/README.md", "deploy/kubernetes/README.md",
    ]

    /// Every `](target)` that is not a URL or an anchor names a file or folder relative to its document.
    @Test(arguments: documents)
    func relativeLinksResolveInsideTheRepository(_ document: String) throws {
        let text = try Self.read(document)
        let base = (document as NSString).deletingLastPathComponent
        let links = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        let nsText = text as NSString
        for match in links.matches(in: text, range: NSRange(location: 0, length: nsText.length)) {
            let target = nsText.substring(with: match.range(at: 1))
            if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("#") { continue }
            let path = String(target.split(separator: "#", maxSplits: 1)[0])
            let resolved = ((Self.root + "/" + base + "/" + path) as NSString).standardizingPath
            #expect(resolved.hasPrefix(Self.root + "/"), "\(document): \(target) leaves the repository")
            #expect(FileManager.default.fileExists(atPath: resolved), "\(document): \(target) does not exist")
        }
    }

    /// The README's walkthrough block is the text `meshgate demo` prints with the shipped routes.json.
    @Test func theReadmeShowsThePrintedWalkthrough() throws {
        let printed = DemoWalkthrough.text(
            edge: "http://127.0.0.1:8080", admin: "http://127.0.0.1:9901", profile: "http://127.0.0.1:9102",
            https: "https://localhost:8443", certificate: ".meshgate-data/tls/localhost.crt", logs: ".meshgate-data/logs")
        let readme = try Self.read("README.md")
        let opening = "```text\n"
        let found = try #require(readme.range(of: opening + "meshgate demo is running"), "no walkthrough block")
        let start = readme.index(found.lowerBound, offsetBy: opening.count)
        let end = try #require(readme.range(of: "\n```", range: start..<readme.endIndex))
        let block = String(readme[start..<end.lowerBound])
        let expected = printed.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(block == expected, "README block:\n\(block)\n\nprinted:\n\(expected)")
    }
}
