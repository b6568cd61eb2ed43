import MeshHTTP1
import MeshProxy
import Testing

/// SPEC §4's forwarding decisions for a response head, over every combination of the facts they depend on.
@Suite struct ResponsePlanTests {
    struct Facts {
        var status = 200
        var framing = BodyFraming.contentLength(5)
        var upstreamKeepAlive = true
        var upgradeAsked = false
        var clientVersion = HTTPVersion.http11
        var clientKeepAlive = true
        var clientLeaving = false
        var requestDone = true
        var requestAbandoned = false

        var plan: ResponsePlan? {
            ResponsePlan(
                status: status, framing: framing, upstreamKeepAlive: upstreamKeepAlive, upgradeAsked: upgradeAsked,
                clientVersion: clientVersion, clientKeepAlive: clientKeepAlive, clientLeaving: clientLeaving,
                requestDone: requestDone, requestAbandoned: requestAbandoned)
        }
    }

    @Test func anOrdinaryResponseKeepsBothConnections() throws {
        let plan = try #require(Facts().plan)
        #expect(plan == ResponsePlan(
            status: 200, framing: .contentLength(5), upstreamKeepAlive: true, upgradeAsked: false,
            clientVersion: .http11, clientKeepAlive: true, clientLeaving: false, requestDone: true,
            requestAbandoned: false))
        #expect(plan.persistence == .keepAlive && plan.upstreamKeepAlive && !plan.switching && !plan.dechunk)
    }

    @Test func aSwitchTheClientDidNotAskForIsNeverForwarded() throws {
        #expect(Facts(status: 101).plan == nil)
        let tunnel = try #require(Facts(status: 101, framing: .none, upgradeAsked: true).plan)
        #expect(tunnel.switching && !tunnel.upstreamKeepAlive)
    }

    /// Every combination: the client connection is kept only when nothing about the exchange forbids it, and
    /// the answer to an HTTP/1.0 client says so itself.
    @Test func theClientIsKeptOnlyWhenNothingForbidsIt() {
        let framings: [BodyFraming] = [.none, .contentLength(3), .chunked, .untilClose]
        for framing in framings {
            for version in [HTTPVersion.http10, .http11] {
                for bits in 0..<16 {
                    var facts = Facts(framing: framing, clientVersion: version)
                    facts.clientKeepAlive = bits & 1 == 0
                    facts.clientLeaving = bits & 2 != 0
                    facts.requestDone = bits & 4 == 0
                    facts.requestAbandoned = bits & 8 != 0
                    guard let plan = facts.plan else {
                        Issue.record("a 200 is always forwarded")
                        continue
                    }
                    let dechunk = framing == .chunked && version == .http10
                    let kept = bits == 0 && framing != .untilClose && !dechunk
                    #expect(plan.dechunk == dechunk)
                    #expect(plan.keepsClient == kept, "\(framing) \(version) \(bits)")
                    #expect(plan.persistence == (!kept ? .close : version == .http10 ? .keepAliveHTTP10 : .keepAlive))
                    #expect(plan.upstreamKeepAlive == (framing != .untilClose))
                }
            }
        }
    }

    @Test func anUpstreamThatClosesIsNotKept() throws {
        #expect(try #require(Facts(upstreamKeepAlive: false).plan).upstreamKeepAlive == false)
    }
}
