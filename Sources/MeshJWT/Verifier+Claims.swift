import MeshJSON

extension Verifier {
    /// How claims are parsed. SPEC §3: claims are limited only by `max_token_bytes`, so the size cap is the
    /// token limit itself (a payload is always shorter than its token, base64url makes 4 bytes of 3); only the
    /// reader's usual nesting bound (128 levels, as for config files) stays, against a parser attack.
    func claimsOptions() -> JSONReader.Options {
        var options = JSONReader.Options()
        options.maxBytes = max(policy.maxTokenBytes, 1)
        return options
    }

    /// Parses the payload and checks the registered claims (RFC 7519 §4.1) with the policy's leeway.
    func checkClaims(_ payload: [UInt8], header: JOSEHeader, now: Int64) -> Result<VerifiedToken, JWTError> {
        let claims: JSONNode
        do { claims = try JSONReader.parse(payload, options: claimsOptions()) } catch { return .failure(.badJSON) }
        guard claims.objectValue != nil else { return .failure(.malformed) }
        let leeway = policy.leewaySeconds
        var expiresAt: Int64? = nil
        do {
            expiresAt = try numericDate(claims["exp"])
            // RFC 7519 §4.1.4: the current time MUST be before exp; leeway extends it.
            if let exp = expiresAt, !(now - leeway < exp) { return .failure(.expired) }
            if expiresAt == nil && policy.requireExpiration { return .failure(.expirationMissing) }
            // RFC 7519 §4.1.5: the current time MUST be after or equal to nbf.
            if let nbf = try numericDate(claims["nbf"]), nbf > now + leeway { return .failure(.notYetValid) }
            if let iat = try numericDate(claims["iat"]), iat > now + leeway { return .failure(.issuedInFuture) }
        } catch {
            return .failure(error)
        }
        if let issuer = policy.issuer, claims["iss"]?.stringValue != issuer { return .failure(.issuerMismatch) }
        if !policy.audiences.isEmpty && !audienceMatches(claims["aud"]) { return .failure(.audienceMismatch) }
        var subject: String? = nil
        if let sub = claims["sub"] {
            guard let text = sub.stringValue else { return .failure(.malformed) }
            subject = text
        }
        return .success(
            VerifiedToken(
                claims: claims, subject: subject, expiresAt: expiresAt, algorithm: header.algorithm, kid: header.kid))
    }

    /// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional (truncated toward the past).
    /// Absent → nil; any other JSON type → `.malformed`.
    func numericDate(_ node: JSONNode?) throws(JWTError) -> Int64? {
        guard let node else { return nil }
        if let integer = node.int64Value { return integer }
        guard let value = node.doubleValue, value.isFinite else { throw .malformed }
        guard value > -9.0e18 && value < 9.0e18 else { throw .malformed }
        return Int64(value.rounded(.down))
    }

    /// RFC 7519 §4.1.3: `aud` is a string or an array of strings; one of them must be an accepted audience.
    func audienceMatches(_ node: JSONNode?) -> Bool {
        guard let node else { return false }
        if let single = node.stringValue { return policy.audiences.contains(single) }
        guard let list = node.arrayValue else { return false }
        return list.contains { element in element.stringValue.map { policy.audiences.contains($0) } ?? false }
    }
}
