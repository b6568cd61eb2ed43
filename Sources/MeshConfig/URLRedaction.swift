/// Credentials in configured URLs (`jwks.url`, `tracing.otlp_endpoint`, `app.health_url`) never reach a log
/// line, an event or `GET /config` (SPEC §5, §6).
///
/// Two places carry them: the userinfo (`user:pass@`) and the query (`?access_token=…`, `?key=…`; any
/// parameter may be a secret, so the whole query goes), plus a fragment for good measure. The scheme, host,
/// port and path stay, so an operator still sees which endpoint is meant.
public enum URLRedaction {
    /// What replaces a secret part.
    public static let marker = "[redacted]"

    /// `http://user:pw@host:9101/jwks?token=x` → `http://[redacted]@host:9101/jwks?[redacted]`. Text that is not
    /// a `scheme://` URL is returned with the same rules applied to what looks like a query.
    public static func redact(_ url: String) -> String {
        var text = Substring(url)
        var out = ""
        if let schemeEnd = text.firstRange(of: "://") {
            out += text[..<schemeEnd.upperBound]
            text = text[schemeEnd.upperBound...]
            let authorityEnd = text.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
            if let at = text[..<authorityEnd].lastIndex(of: "@") {
                out += marker
                text = text[at...]
            }
        }
        guard let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return out + text }
        out += text[..<cut]
        if text[cut] == "?" {
            out += "?" + marker
            if text[cut...].contains("#") { out += "#" + marker }
        } else {
            out += "#" + marker
        }
        return out
    }

    /// `text` with every occurrence of `url` replaced by its redacted form (for messages that quote it).
    public static func redact(_ url: String, in text: String) -> String {
        guard !url.isEmpty, text.contains(url) else { return text }
        let safe = redact(url)
        guard safe != url else { return text }
        return text.split(separator: url, omittingEmptySubsequences: false).joined(separator: safe)
    }
}
