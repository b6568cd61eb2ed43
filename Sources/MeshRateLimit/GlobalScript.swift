/// The Redis side of the global limit: GCRA with a batch, as one Lua script (atomic: Redis runs a script
/// without interleaving other commands).
///
/// KEYS[1] the key; ARGV: emission interval (µs), tolerance (µs), wanted count. Time is Redis's own `TIME`
/// (allowed in scripts since Redis 5's effect replication), so replicas' clocks never enter the decision.
/// Reply: `{granted, µs, remaining}` — when granted > 0, µs until the key is full again and how many more could
/// have been granted; when 0, µs until one request would be. The key expires when the bucket is full again
/// (plus a second), so idle keys leave Redis by themselves.
public enum GlobalScript {
    public static let source = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        local want = tonumber(ARGV[3])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tat < now then tat = now end
        local fit = math.floor((tolerance - (tat - now)) / interval)
        if fit < 1 then
          return {0, tat + interval - tolerance - now, 0}
        end
        local granted = math.min(fit, want)
        tat = tat + granted * interval
        redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
        return {granted, tat - now, fit - granted}
        """

    private static let sourceBytes = Array(source.utf8)

    /// `EVAL <script> 1 <key> <T µs> <τ µs> <batch>`. EVAL rather than EVALSHA: the script is ~600 bytes once per
    /// batch, and there is no NOSCRIPT case to handle after Redis restarts.
    public static func command(key: [UInt8], settings: GlobalLimitSettings) -> [UInt8] {
        let intervalUs = max(1, settings.policy.emissionIntervalNs / 1000)
        let toleranceUs = intervalUs * Int64(settings.policy.burst)
        var out: [UInt8] = []
        out.reserveCapacity(sourceBytes.count + key.count + 96)
        RESPEncoder.appendCommand(
            [
                Array("EVAL".utf8), sourceBytes, [0x31], key, Array(String(intervalUs).utf8),
                Array(String(toleranceUs).utf8), Array(String(settings.batch).utf8),
            ], to: &out)
        return out
    }
}
