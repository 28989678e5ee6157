import Foundation
import Testing

@testable import Server
import TestSupport

/// Stream tokens hold nothing per process: whichever instance sharing `API_KEY` issued a
/// token, every other accepts it until it expires, and nothing else passes.
@Suite("Stream tokens", .machineShare)
struct StreamTokensTests {
    @Test func aTokenFromOneInstanceOpensTheStreamOnAnother() {
        let clock = TestClock()
        let issuing = StreamTokens(apiKey: "shared-key", clock: clock.function)
        let other = StreamTokens(apiKey: "shared-key", clock: clock.function)
        let (token, expires) = issuing.issue()
        #expect(other.isValid(token))
        #expect(issuing.isValid(token))
        #expect(expires.timeIntervalSince(clock.now) >= 600 && expires.timeIntervalSince(clock.now) < 601)
        #expect(issuing.issue().token != token, "each token is new")
    }

    @Test func anExpiredTokenIsRefusedEverywhere() {
        let clock = TestClock()
        let tokens = StreamTokens(apiKey: "shared-key", lifetime: 60, clock: clock.function)
        let (token, _) = tokens.issue()
        clock.advance(59)
        #expect(tokens.isValid(token))
        clock.advance(2)
        #expect(!tokens.isValid(token))
    }

    @Test func anotherKeyAnAlteredTokenAndGarbageAreRefused() {
        let clock = TestClock()
        let tokens = StreamTokens(apiKey: "shared-key", clock: clock.function)
        let (token, _) = tokens.issue()
        #expect(!StreamTokens(apiKey: "other-key", clock: clock.function).isValid(token))
        #expect(!StreamTokens(apiKey: nil, clock: clock.function).isValid(token))
        // A later expiry written into a real token: its MAC no longer matches.
        let parts = token.split(separator: ".")
        let extended = "\(Int(parts[0])! + 86_400).\(parts[1]).\(parts[2])"
        #expect(!tokens.isValid(extended))
        for garbage in ["", "made-up", "1.2.3", "..", "\(parts[0]).\(parts[1])", token + "0", "9999999999.00.zz"] {
            #expect(!tokens.isValid(garbage), "\(garbage)")
        }
    }
}
