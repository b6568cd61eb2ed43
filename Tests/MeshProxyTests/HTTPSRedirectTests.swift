import MeshProxy
import Testing

/// The `location` of SPEC §9's redirect: the request's host and target over HTTPS, and nothing the host field
/// could smuggle into the answer (the integration suite checks the 308 itself).
@Suite struct HTTPSRedirectTests {
    func location(_ host: String, _ target: String = "/a/b?x=1", port: Int = 443) throws -> String? {
        try withRequest("GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n") { HTTPSRedirect.location($0, port: port) }
    }

    @Test func theHostAndTargetGoOverHTTPS() throws {
        #expect(try location("example.com") == "https://example.com/a/b?x=1")
        #expect(try location("Example.COM:8080") == "https://Example.COM/a/b?x=1")
        #expect(try location("example.com", "/") == "https://example.com/")
        #expect(try location("10.0.0.1:80", "/p") == "https://10.0.0.1/p")
    }

    @Test func aPortOtherThan443IsNamed() throws {
        #expect(try location("example.com", port: 8443) == "https://example.com:8443/a/b?x=1")
        #expect(try location("[::1]:80", "/p", port: 8443) == "https://[::1]:8443/p")
    }

    @Test func anIPv6LiteralKeepsItsBrackets() throws {
        #expect(try location("[2001:db8::1]") == "https://[2001:db8::1]/a/b?x=1")
    }

    @Test("a host the parser accepts that is not a plain name or literal gets no location", arguments: [
        "exa_mple.com", "exa~mple.com", "a!b.com", "a$b", "a'b", "a(b)", "a*b", "a+b", "a,b", "a;b", "a=b", "a%41b",
    ])
    func hostsThatAreNotPlain(host: String) throws {
        #expect(try location(host) == .some(nil), "\(host)")
    }
}
