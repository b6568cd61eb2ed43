import MeshHTTP1
import Testing

/// A request every strict parser must refuse, and the reason.
struct BadRequest: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var error: HTTPParseError
    var testDescription: String { name }
}

private func req(_ headers: String, line: String = "POST / HTTP/1.1") -> String {
    "\(line)\r\n\(headers)\r\n"
}

/// SPEC §4 "Strict framing" and RFC 9112's MUST-rejects, one row per vector.
let badRequests: [BadRequest] = [
    BadRequest(
        name: "CL + TE", text: req("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        error: .contentLengthAndTransferEncoding),
    BadRequest(
        name: "TE + CL", text: req("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n"),
        error: .contentLengthAndTransferEncoding),
    BadRequest(
        name: "differing CL lines", text: req("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"),
        error: .conflictingContentLength),
    BadRequest(
        name: "differing CL list", text: req("Host: a\r\nContent-Length: 5, 6\r\n"),
        error: .conflictingContentLength),
    BadRequest(
        name: "TE chunked, identity", text: req("Host: a\r\nTransfer-Encoding: chunked, identity\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE gzip, chunked", text: req("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE gzip", text: req("Host: a\r\nTransfer-Encoding: gzip\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE chunked twice in a list", text: req("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE chunked on two lines",
        text: req("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE xchunked", text: req("Host: a\r\nTransfer-Encoding: xchunked\r\n"),
        error: .unsupportedTransferEncoding),
    BadRequest(name: "TE empty", text: req("Host: a\r\nTransfer-Encoding:\r\n"), error: .unsupportedTransferEncoding),
    BadRequest(
        name: "TE in HTTP/1.0", text: req("Transfer-Encoding: chunked\r\n", line: "POST / HTTP/1.0"),
        error: .unsupportedTransferEncoding),
    BadRequest(name: "obs-fold TE", text: req("Host: a\r\nTransfer-Encoding:\r\n chunked\r\n"), error: .obsFold),
    BadRequest(name: "obs-fold first line", text: req("\tHost: a\r\n"), error: .obsFold),
    BadRequest(
        name: "space before colon", text: req("Host: a\r\nContent-Length : 5\r\n"),
        error: .whitespaceBeforeColon),
    BadRequest(name: "tab before colon", text: req("Host\t: a\r\n"), error: .whitespaceBeforeColon),
    BadRequest(name: "bare CR in value", text: req("Host: a\rX: b\r\n"), error: .bareCR),
    BadRequest(name: "bare CR in request line", text: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", error: .bareCR),
    BadRequest(name: "bare CR after version", text: "GET / HTTP/1.1\r\rHost: a\r\n\r\n", error: .bareCR),
    BadRequest(name: "bare LF in headers", text: "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", error: .bareLF),
    BadRequest(name: "bare LF line ends", text: "GET / HTTP/1.1\nHost: a\n\n", error: .bareLF),
    BadRequest(name: "LF-only terminator", text: "GET / HTTP/1.1\r\nHost: a\r\n\n", error: .bareLF),
    BadRequest(name: "NUL in value", text: req("Host: a\r\nX: a\0b\r\n"), error: .nulInHead),
    BadRequest(name: "NUL in name", text: req("Host: a\r\nX\0: b\r\n"), error: .nulInHead),
    BadRequest(name: "NUL in target", text: "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", error: .nulInHead),
    BadRequest(name: "CL +5", text: req("Host: a\r\nContent-Length: +5\r\n"), error: .invalidContentLength),
    BadRequest(name: "CL -1", text: req("Host: a\r\nContent-Length: -1\r\n"), error: .invalidContentLength),
    BadRequest(name: "CL 0x5", text: req("Host: a\r\nContent-Length: 0x5\r\n"), error: .invalidContentLength),
    BadRequest(name: "CL empty", text: req("Host: a\r\nContent-Length: \r\n"), error: .invalidContentLength),
    BadRequest(name: "CL 5 5", text: req("Host: a\r\nContent-Length: 5 5\r\n"), error: .invalidContentLength),
    BadRequest(name: "CL trailing comma", text: req("Host: a\r\nContent-Length: 5,\r\n"), error: .invalidContentLength),
    BadRequest(
        name: "CL overflow", text: req("Host: a\r\nContent-Length: 99999999999999999999\r\n"),
        error: .invalidContentLength),
    BadRequest(
        name: "CL Int.max + 1", text: req("Host: a\r\nContent-Length: 9223372036854775808\r\n"),
        error: .invalidContentLength),
    BadRequest(name: "missing Host", text: req("Content-Length: 0\r\n"), error: .missingHost),
    BadRequest(name: "two Host", text: req("Host: a\r\nHost: b\r\n"), error: .multipleHost),
    BadRequest(name: "Host with space", text: req("Host: a b\r\n"), error: .invalidHeaderValue),
    BadRequest(name: "Host with userinfo", text: req("Host: u@a\r\n"), error: .invalidHeaderValue),
    BadRequest(name: "CTL in value", text: req("Host: a\r\nX: a\u{1}b\r\n"), error: .invalidHeaderValue),
    BadRequest(name: "DEL in value", text: req("Host: a\r\nX: a\u{7F}\r\n"), error: .invalidHeaderValue),
    BadRequest(
        name: "CTL after 16 plain bytes", text: req("Host: a\r\nX: abcdefghijklmnop\u{1}q\r\n"),
        error: .invalidHeaderValue),
    BadRequest(
        name: "DEL after 16 plain bytes", text: req("Host: a\r\nX: abcdefghijklmnopqr\u{7F}\r\n"),
        error: .invalidHeaderValue),
    BadRequest(
        name: "NUL after 16 plain bytes", text: req("Host: a\r\nX: abcdefghijklmnopqr\0\r\n"),
        error: .nulInHead),
    BadRequest(
        name: "bare CR after 16 plain bytes", text: req("Host: a\r\nX: abcdefghijklmnopqr\rs\r\n"),
        error: .bareCR),
    BadRequest(name: "empty header name", text: req("Host: a\r\n: b\r\n"), error: .invalidHeaderName),
    BadRequest(name: "no colon", text: req("Host: a\r\nNoColon\r\n"), error: .invalidHeaderName),
    BadRequest(name: "separator in name", text: req("Host: a\r\nX(y): b\r\n"), error: .invalidHeaderName),
    BadRequest(name: "Expect other", text: req("Host: a\r\nExpect: 200-ok\r\n"), error: .unsupportedExpectation),
    BadRequest(name: "lowercase version", text: "GET / http/1.1\r\nHost: a\r\n\r\n", error: .invalidVersion),
    BadRequest(name: "HTTP/2.0", text: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", error: .invalidVersion),
    BadRequest(name: "HTTP/1.10", text: "GET / HTTP/1.10\r\nHost: a\r\n\r\n", error: .invalidVersion),
    BadRequest(name: "HTTP/0.9", text: "GET /\r\n\r\n", error: .invalidVersion),
    BadRequest(name: "double space", text: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "method with separator", text: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidMethod),
    BadRequest(name: "leading empty line", text: "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidMethod),
    BadRequest(name: "TLS ClientHello", text: "\u{16}\u{3}\u{1}\u{2}\0", error: .invalidMethod),
    BadRequest(name: "relative target", text: "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "ftp scheme", text: "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "empty authority", text: "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(
        name: "userinfo in absolute-form", text: "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        error: .invalidTarget),
    BadRequest(name: "fragment", text: "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "* with GET", text: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "CONNECT origin-form", text: "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "CONNECT without port", text: "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
    BadRequest(name: "non-ASCII target", text: "GET /\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", error: .invalidTarget),
]

@Suite("RequestParser: smuggling vectors and malformed requests")
struct RequestSmugglingTests {
    @Test(arguments: badRequests)
    func rejects(_ bad: BadRequest) {
        let (result, _) = parseRequest(GuardedBuffer(bad.text))
        #expect(result.error == bad.error, "\(result)")
        #expect(result.error?.status == 400)
    }

    /// The same vectors must also be refused when they arrive one byte at a time: resumption must not
    /// hide an error that a one-shot parse finds.
    @Test(arguments: badRequests)
    func rejectsWhenFedByteByByte(_ bad: BadRequest) {
        let input = GuardedBuffer(bad.text)
        var parser = RequestParser()
        var headers = [HTTPHeaderField](repeating: .empty, count: 64)
        var outcome: HeadParseResult<RequestHead> = .incomplete
        for n in 1...input.bytes.count {
            outcome = headers.withUnsafeMutableBufferPointer { parser.parse(input.prefix(n), headers: $0) }
            if !outcome.isIncomplete { break }
        }
        #expect(outcome.error == bad.error, "\(outcome)")
    }
}
