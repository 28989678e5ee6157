import Foundation
import Testing

@testable import SocketIO
import TestSupport

/// Engine.IO over real loopback HTTP long-polling.
@Suite("HTTP long-polling", .machineShare)
struct PollingTests {
    @Test func handshakeAnnouncesSessionAndTimings() async throws {
        try await withSocketIOServer(configuration: SocketIOConformanceHandlers.configuration) { port, _ in
            let response = try await http(.get, port: port, "/socket.io/?EIO=4&transport=polling")
            #expect(response.status == 200)
            #expect(response.body.first == "0")
            let open = try JSONValue(parsing: String(response.body.dropFirst()))
            #expect(open.object?.keys.sorted() == ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"])
            #expect(open["upgrades"] == ["websocket"])
            #expect(open["pingInterval"] == 300)
            #expect(open["pingTimeout"] == 200)
            #expect(open["maxPayload"] == 1_000_000)
            let sid = try #require(open["sid"]?.string)
            #expect(sid.count >= 20)
            // Without the trailing slash too.
            let other = try await http(.get, port: port, "/socket.io?EIO=4&transport=polling")
            #expect(other.status == 200)
            #expect(try JSONValue(parsing: String(other.body.dropFirst()))["sid"]?.string != sid)
        }
    }

    @Test func rejectsBadRequestsWithProtocolErrors() async throws {
        try await withSocketIOServer { port, _ in
            let unknown = try await http(.get, port: port, pollingURI("not-a-session"))
            #expect(unknown.status == 400)
            #expect(unknown.body == #"{"code":1,"message":"Session ID unknown"}"#)
            let badVersion = try await http(.get, port: port, "/socket.io/?EIO=3&transport=polling")
            #expect(badVersion.status == 400)
            #expect(badVersion.body == #"{"code":5,"message":"Unsupported protocol version"}"#)
            let badTransport = try await http(.get, port: port, "/socket.io/?EIO=4&transport=carrier-pigeon")
            #expect(badTransport.status == 400)
            #expect(badTransport.body == #"{"code":0,"message":"Transport unknown"}"#)
            let missingTransport = try await http(.get, port: port, "/socket.io/?EIO=4")
            #expect(missingTransport.status == 400)
            let postHandshake = try await http(.post, port: port, "/socket.io/?EIO=4&transport=polling", body: "40")
            #expect(postHandshake.status == 400)
            #expect(postHandshake.body == #"{"code":2,"message":"Bad handshake method"}"#)
            let put = try await http(.put, port: port, "/socket.io/?EIO=4&transport=polling", body: "")
            #expect(put.status == 400)
            // A plain GET asking for the websocket transport without an upgrade.
            let noUpgrade = try await http(.get, port: port, "/socket.io/?EIO=4&transport=websocket")
            #expect(noUpgrade.status == 400)
        }
    }

    @Test func roundTripWithConnectEventsAndAcks() async throws {
        try await withSocketIOServer { port, _ in
            let sid = try await openPollingSession(port: port)
            let connect = try await http(.post, port: port, pollingURI(sid), body: #"40{"token":"t"}"#)
            #expect(connect.status == 200)
            #expect(connect.body == "ok")

            let packets = try await pollPackets(port: port, sid: sid, count: 2)
            #expect(packets.count == 2)
            #expect(packets.first?.hasPrefix(#"40{"sid":""#) == true)
            #expect(try JSONValue(parsing: String(packets[0].dropFirst(2))).object?.keys.sorted() == ["sid"])
            #expect(packets.last == #"42["auth",{"token":"t"}]"#)

            // Two packets in one POST: an event and an event with an ack id.
            let sent = try await http(
                .post, port: port, pollingURI(sid),
                body: "42[\"message\",\"hi\",{\"n\":1}]\u{1e}427[\"message-with-ack\",[1,2]]"
            )
            #expect(sent.status == 200)
            let echoes = try await pollPackets(port: port, sid: sid, count: 2)
            #expect(echoes == [#"42["message-back","hi",{"n":1}]"#, "437[[1,2]]"])
        }
    }

    @Test func binaryTravelsAsBase64() async throws {
        try await withSocketIOServer { port, _ in
            let sid = try await openPollingSession(port: port)
            try await connectPolling(port: port, sid: sid)
            let sent = try await http(
                .post, port: port, pollingURI(sid),
                body: "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID"
            )
            #expect(sent.status == 200)
            let echo = try await http(.get, port: port, pollingURI(sid))
            #expect(echo.body == "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID")
        }
    }

    @Test func serverPingsAndClosesSessionWhosePongIsLate() async throws {
        // Short interval, roomy timeout: the healthy client must keep up even on a loaded
        // machine (the browser story starting Chromium beside it took over 2 s once, and
        // the full suite on two cores stalled a 4 s deadline).
        let configuration = quietConfiguration(pingInterval: .milliseconds(300), pingTimeout: .milliseconds(8_000))
        try await withSocketIOServer(configuration: configuration) { port, server in
            // A client that answers stays connected across several intervals.
            let healthy = try await openPollingSession(port: port)
            for _ in 0..<3 {
                let ping = try await http(.get, port: port, pollingURI(healthy))
                #expect(ping.body == "2")
                let pong = try await http(.post, port: port, pollingURI(healthy), body: "3")
                #expect(pong.status == 200)
            }
            #expect(server.connectionCount == 1)

            // A client that never answers is gone after pingInterval + pingTimeout.
            let silent = try await openPollingSession(port: port)
            try await Task.sleep(for: .milliseconds(9_500))
            let late = try await http(.get, port: port, pollingURI(silent))
            #expect(late.status == 400)
            #expect(late.body == #"{"code":1,"message":"Session ID unknown"}"#)
            // The healthy client stopped answering too, so it is gone as well.
            #expect(await eventually { server.connectionCount == 0 })
        }
    }

    @Test func clientCloseReleasesPendingPollWithNoop() async throws {
        try await withSocketIOServer { port, _ in
            let sid = try await openPollingSession(port: port)
            async let pending = http(.get, port: port, pollingURI(sid))
            try await Task.sleep(for: .milliseconds(600))
            let close = try await http(.post, port: port, pollingURI(sid), body: "1")
            #expect(close.status == 200)
            #expect(try await pending.body == "6")
            #expect(try await http(.get, port: port, pollingURI(sid)).status == 400)
        }
    }

    @Test func shutdownAnswersAPendingPollAsAnUnknownSession() async throws {
        // Not a close packet: python-socketio stays disconnected after one, and reconnects
        // after an HTTP error (ServerTests' KillRestartTests restart a server under it).
        try await withSocketIOServer { port, server in
            let sid = try await openPollingSession(port: port)
            try await connectPolling(port: port, sid: sid)
            async let pending = http(.get, port: port, pollingURI(sid))
            try await Task.sleep(for: .milliseconds(600))
            await server.closeAll()
            let answer = try await pending
            #expect(answer.status == 400)
            #expect(answer.body == #"{"code":1,"message":"Session ID unknown"}"#)
            #expect(server.connectionCount == 0)
        }
    }

    @Test func concurrentPollsAreRejectedAndCloseTheSession() async throws {
        try await withSocketIOServer { port, server in
            let sid = try await openPollingSession(port: port)
            async let first = http(.get, port: port, pollingURI(sid))
            // Long enough for the first poll to be waiting, even on a loaded machine.
            try await Task.sleep(for: .milliseconds(600))
            let second = try await http(.get, port: port, pollingURI(sid))
            #expect(second.status == 400)
            #expect(second.body == #"{"code":3,"message":"Bad request"}"#)
            // The pending poll is answered with a close packet and the session is gone.
            #expect(try await first.body == "1")
            #expect(try await http(.get, port: port, pollingURI(sid)).status == 400)
            #expect(server.connectionCount == 0)
        }
    }

    @Test func oversizedPostIsRefusedAndClosesTheSession() async throws {
        try await withSocketIOServer(configuration: quietConfiguration(maxPayload: 100)) { port, _ in
            let sid = try await openPollingSession(port: port)
            let big = try await http(.post, port: port, pollingURI(sid), body: "4" + String(repeating: "x", count: 200))
            #expect(big.status == 413)
            #expect(try await http(.get, port: port, pollingURI(sid)).status == 400)
        }
    }

    @Test(arguments: ["x", "4abc", "42{}", "40\u{1e}", "451-[\"m\",{\"_placeholder\":true,\"num\":0}]\u{1e}42[\"m\"]"])
    func malformedInputClosesOnlyThatSession(_ body: String) async throws {
        try await withSocketIOServer { port, server in
            let bystander = try await openPollingSession(port: port)
            let sid = try await openPollingSession(port: port)
            _ = try await http(.post, port: port, pollingURI(sid), body: body)
            #expect(try await http(.get, port: port, pollingURI(sid)).status == 400)
            #expect(server.connectionCount == 1)
            // The other session still works.
            _ = try await http(.post, port: port, pollingURI(bystander), body: "40")
            #expect(try await http(.get, port: port, pollingURI(bystander)).body.hasPrefix("40{"))
        }
    }

    @Test func connectTimeoutClosesIdleSessions() async throws {
        // Six seconds to join: the session that does join does it at once, even on a
        // machine busy with the rest of the suite (one second, then three, were missed there).
        try await withSocketIOServer(configuration: quietConfiguration(connectTimeout: .seconds(6))) { port, server in
            let joined = try await openPollingSession(port: port)
            _ = try await http(.post, port: port, pollingURI(joined), body: "40")
            let idle = try await openPollingSession(port: port)
            let deadline = ContinuousClock.now + .seconds(15)
            while server.connectionCount > 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await http(.get, port: port, pollingURI(idle)).status == 400)
            #expect(try await http(.get, port: port, pollingURI(joined)).status == 200)
            #expect(server.connectionCount == 1)
        }
    }

    @Test func slowClientOverflowingItsQueueIsDropped() async throws {
        try await withSocketIOServer(configuration: quietConfiguration(maxQueuedFrames: 8)) { port, server in
            let slow = try await openPollingSession(port: port)
            _ = try await http(.post, port: port, pollingURI(slow), body: "40")
            let fast = try await openPollingSession(port: port)
            try await connectPolling(port: port, sid: fast)
            #expect(await eventually { server.namespace("/").socketCount == 2 })

            // `slow` never polls: its queue (connect reply + auth + 7 events = 9 frames) overflows.
            for index in 0..<7 {
                await server.namespace("/").emit("tick", [.number(Double(index))])
            }
            #expect(await eventually { server.connectionCount == 1 })
            #expect(try await http(.get, port: port, pollingURI(slow)).status == 400)
            // `fast` is still there; it gets everything queued so far in one poll.
            let ticks = try await http(.get, port: port, pollingURI(fast))
            #expect(ticks.body.split(separator: "\u{1e}").count == 7)
        }
    }
}
