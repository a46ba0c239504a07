import Foundation
import HavenDevice
import Testing

@Suite("FunctionFS descriptors")
struct FunctionFSDescriptorsTests {
    /// Written by hand from linux/usb/functionfs.h (usb_functionfs_descs_head_v2
    /// + fs_count + hs_count) and ch9.h (interface 9 bytes, endpoint 7 bytes),
    /// with the numbers of Hardware/usb/README.md.
    static let expectedDescriptors: [UInt8] = [
        0x03, 0x00, 0x00, 0x00,  // FUNCTIONFS_DESCRIPTORS_MAGIC_V2
        0x42, 0x00, 0x00, 0x00,  // length 66
        0x03, 0x00, 0x00, 0x00,  // HAS_FS_DESC | HAS_HS_DESC
        0x03, 0x00, 0x00, 0x00,  // fs_count
        0x03, 0x00, 0x00, 0x00,  // hs_count
        // full speed
        0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0x48, 0x01, 0x01,
        0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,
        0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,
        // high speed
        0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0x48, 0x01, 0x01,
        0x07, 0x05, 0x01, 0x02, 0x00, 0x02, 0x00,
        0x07, 0x05, 0x81, 0x02, 0x00, 0x02, 0x00,
    ]

    static let expectedStrings: [UInt8] = [
        0x02, 0x00, 0x00, 0x00,  // FUNCTIONFS_STRINGS_MAGIC
        0x20, 0x00, 0x00, 0x00,  // length 32
        0x01, 0x00, 0x00, 0x00,  // str_count
        0x01, 0x00, 0x00, 0x00,  // lang_count
        0x09, 0x04,  // en-US
        0x48, 0x61, 0x76, 0x65, 0x6E, 0x20, 0x6C, 0x69, 0x6E, 0x6B, 0x20, 0x76, 0x31, 0x00,  // "Haven link v1\0"
    ]

    @Test func descriptorsBlobMatchesTheHandWrittenBlob() {
        #expect(FunctionFSDescriptors.haven.descriptorsBlob == Self.expectedDescriptors)
    }

    @Test func stringsBlobMatchesTheHandWrittenBlob() {
        #expect(FunctionFSDescriptors.haven.stringsBlob == Self.expectedStrings)
    }

    @Test func descriptorsMatchHavenUSBJSON() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Hardware/usb/haven-usb.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let interface = try #require(json["interface"] as? [String: Any])
        func hex(_ value: Any?) -> Int? { (value as? String).flatMap { Int($0.dropFirst(2), radix: 16) } }
        let haven = FunctionFSDescriptors.haven
        #expect(hex(interface["class"]) == Int(haven.interfaceClass))
        #expect(hex(interface["subclass"]) == Int(haven.interfaceSubclass))
        #expect(hex(interface["protocol"]) == Int(haven.interfaceProtocol))
        let endpoints = try #require(interface["endpoints"] as? [[String: Any]])
        #expect(endpoints.count == 2)
        let out = try #require(endpoints.first { $0["direction"] as? String == "out" })
        let into = try #require(endpoints.first { $0["direction"] as? String == "in" })
        #expect(hex(out["address"]) == Int(haven.bulkOutAddress))
        #expect(hex(into["address"]) == Int(haven.bulkInAddress))
        for endpoint in endpoints {
            #expect(endpoint["type"] as? String == "bulk")
            #expect(endpoint["maxPacketSizeHighSpeed"] as? Int == Int(haven.highSpeedMaxPacket))
            #expect(endpoint["maxPacketSizeFullSpeed"] as? Int == Int(haven.fullSpeedMaxPacket))
        }
        let strings = try #require(json["strings"] as? [String: Any])
        #expect(hex(strings["languageId"]) == Int(haven.languageID))
        let interfaceString = try #require(strings["interface"] as? [String: Any])
        #expect(interfaceString["value"] as? String == haven.interfaceString)
    }

    @Test func gadgetScriptUsesTheJSONIdentity() throws {
        let script = try String(contentsOfFile: packageRoot + "/Hardware/gadget/haven-gadget.sh", encoding: .utf8)
        #expect(script.contains("vendor=0x1209"))
        #expect(script.contains("product=0x4856"))
        #expect(script.contains("manufacturer=\"Haven Project\""))
        #expect(script.contains("product_name=\"Haven Survey Tablet\""))
    }
}

@Suite("FunctionFS events")
struct FunctionFSEventTests {
    static func event(_ type: UInt8, setup: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]) -> [UInt8] {
        setup + [type, 0, 0, 0]
    }

    @Test func decodesEveryType() throws {
        let bytes = (0...6).flatMap { Self.event(UInt8($0)) }
        let events = try FunctionFSEvent.decodeAll(bytes)
        #expect(events.count == 7)
        #expect(events[0] == .bind)
        #expect(events[1] == .unbind)
        #expect(events[2] == .enable)
        #expect(events[3] == .disable)
        #expect(events[4] == .setup(FunctionFSSetupRequest(requestType: 0, request: 0, value: 0, index: 0, length: 0)))
        #expect(events[5] == .suspend)
        #expect(events[6] == .resume)
    }

    @Test func decodesSetupLittleEndian() throws {
        let bytes = Self.event(4, setup: [0xC1, 0x33, 0x34, 0x12, 0x02, 0x01, 0x40, 0x00])
        let events = try FunctionFSEvent.decodeAll(bytes)
        let expected = FunctionFSSetupRequest(requestType: 0xC1, request: 0x33, value: 0x1234, index: 0x0102, length: 64)
        #expect(events == [.setup(expected)])
        #expect(expected.isDeviceToHost)
        #expect(!FunctionFSSetupRequest(requestType: 0x41, request: 1, value: 0, index: 0, length: 0).isDeviceToHost)
    }

    @Test func refusesTruncatedInput() {
        #expect(throws: FunctionFSEventError.truncated(length: 11)) {
            try FunctionFSEvent.decodeAll(Array(Self.event(2).prefix(11)))
        }
        #expect(throws: FunctionFSEventError.truncated(length: 13)) {
            try FunctionFSEvent.decodeAll(Self.event(2) + [0])
        }
        #expect(throws: FunctionFSEventError.truncated(length: 5)) {
            try FunctionFSEvent.decode([1, 2, 3, 4, 5][...])
        }
    }

    @Test func refusesUnknownTypeWithItsOffset() {
        #expect(throws: FunctionFSEventError.unknownType(7, offset: 20)) {
            try FunctionFSEvent.decodeAll(Self.event(2) + Self.event(7))
        }
        #expect(throws: FunctionFSEventError.unknownType(0xFF, offset: 8)) {
            try FunctionFSEvent.decodeAll(Self.event(0xFF))
        }
        #expect(FunctionFSEventError.unknownType(7, offset: 20).description.contains("type 7"))
    }

    @Test func emptyReadIsNoEvents() throws {
        #expect(try FunctionFSEvent.decodeAll([UInt8]()) == [])
    }
}
