/// A `google.api.http` path template (googleapis `google/api/http.proto`):
///
///     Template = "/" Segments [ Verb ] ;
///     Segments = Segment { "/" Segment } ;
///     Segment  = "*" | "**" | LITERAL | Variable ;
///     Variable = "{" FieldPath [ "=" Segments ] "}" ;
///     FieldPath = IDENT { "." IDENT } ;
///     Verb     = ":" LITERAL ;
///
/// `{x}` means `{x=*}`. `**` matches zero or more segments and must be the last segment (gRPC-Gateway's rule;
/// it keeps matching a single left-to-right pass). Variables do not nest.
public struct PathTemplate: Sendable, Equatable, CustomStringConvertible {
    /// One template segment.
    public enum Segment: Sendable, Equatable {
        case literal(String)
        /// `*`: exactly one non-empty segment.
        case single
        /// `**`: zero or more segments, the rest of the path.
        case multi
    }

    /// A variable: the field path it fills and the segments (`segments[range]`) it captures.
    public struct Variable: Sendable, Equatable {
        /// `a.b.c` → `["a", "b", "c"]`.
        public var fieldPath: [String]
        public var range: Range<Int>
    }

    public let segments: [Segment]
    public let variables: [Variable]
    /// The `:verb` suffix without the colon, or nil.
    public let verb: String?
    /// The text the template was parsed from.
    public let description: String

    /// Literal segments (verb included): more literals is a more specific template, the tie-breaker when
    /// several bindings match one path.
    public var literalCount: Int {
        segments.count { if case .literal = $0 { true } else { false } } + (verb == nil ? 0 : 1)
    }

    /// Parses `text`.
    /// - Throws: `PathTemplateError` naming the byte offset of the problem.
    public init(_ text: String) throws(PathTemplateError) {
        var parser = PathTemplateParser(Array(text.utf8))
        try parser.parse()
        segments = parser.segments
        variables = parser.variables
        verb = parser.verb
        description = text
    }

    /// Matches a request path (without the query string) and returns the variables' values, in template
    /// order; nil when the path does not match.
    ///
    /// Values are percent-decoded per segment. A variable over one segment decodes everything (`%2F` becomes
    /// `/`); a variable over several segments (`{name=shelves/*/books/*}`, `**`) keeps its `/` separators and
    /// leaves `%2F`/`%2f` encoded, as http.proto specifies, so the value still splits into its segments.
    public func match(_ path: String) -> [PathBinding]? {
        var raw = Substring(path)
        guard raw.first == "/" else { return nil }
        if let verb {
            guard raw.hasSuffix(":" + verb) else { return nil }
            raw = raw.dropLast(verb.utf8.count + 1)
        }
        let parts = raw.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard let spans = matchSegments(parts) else { return nil }
        var out: [PathBinding] = []
        for v in variables {
            let lower = spans[v.range.lowerBound].lowerBound
            let upper = v.range.isEmpty ? lower : spans[v.range.upperBound - 1].upperBound
            let captured = parts[lower..<upper]
            let multi = v.range.count > 1 || segments[v.range].contains(.multi)
            guard let value = PercentDecoding.segments(captured, keepSlashes: multi) else { return nil }
            out.append(PathBinding(fieldPath: v.fieldPath, value: value))
        }
        return out
    }

    /// For each template segment, the range of path parts it consumed; nil on mismatch.
    private func matchSegments(_ parts: [Substring]) -> [Range<Int>]? {
        var spans: [Range<Int>] = []
        var i = 0
        for segment in segments {
            switch segment {
            case .multi:
                spans.append(i..<parts.count)
                i = parts.count
            case .single:
                guard i < parts.count, !parts[i].isEmpty else { return nil }
                spans.append(i..<(i + 1))
                i += 1
            case .literal(let text):
                guard i < parts.count, PercentDecoding.decode(parts[i]) == text else { return nil }
                spans.append(i..<(i + 1))
                i += 1
            }
        }
        return i == parts.count ? spans : nil
    }
}

/// One variable's value from a matched path.
public struct PathBinding: Sendable, Equatable {
    /// `["shelf", "id"]` for `{shelf.id}`.
    public var fieldPath: [String]
    public var value: String

    public init(fieldPath: [String], value: String) {
        self.fieldPath = fieldPath
        self.value = value
    }
}

/// A template that breaks the grammar.
public struct PathTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "path template, byte \(offset): \(message)" }
}
