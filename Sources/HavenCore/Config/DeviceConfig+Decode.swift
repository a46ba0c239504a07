/// Reading a CONFIG blob (Docs/config-format.md §2). Every byte is hostile:
/// each field is bounds-checked, every count limited, reserved bytes must be
/// zero, and the sections must tile the blob exactly up to the signature.
/// The signature is not checked here (`ConfigSignature.verify`).
extension DeviceConfig {
    public static func decode(_ blob: UnsafeRawBufferPointer) throws(ConfigFormatError) -> DeviceConfig {
        var r = ConfigReader(blob)
        try r.magic(ConfigLayout.configMagic, .configHeader)
        try r.version(.configHeader)
        let headerAt = r.absolute
        guard try r.u16(.configHeader) == UInt16(ConfigLayout.configHeaderSize) else {
            throw .invalidValue(field: .configHeader, offset: headerAt)
        }
        let lengthAt = r.absolute
        let total = try r.length(.configLength)
        guard total == blob.count, total >= ConfigLayout.configHeaderSize + ConfigLayout.signatureSize else {
            if total > blob.count { throw .truncated(field: .configLength, offset: blob.count) }
            throw .invalidValue(field: .configLength, offset: lengthAt)
        }
        let versionAt = r.absolute
        let version = try r.u64(.configVersion)
        guard version >= 1 else { throw .invalidValue(field: .configVersion, offset: versionAt) }
        let key = try r.array(CryptoSizes.ed25519PublicKey, .configHeader)
        let hash = try r.array(CryptoSizes.hash, .configHeader)

        // The sections end where the signature starts.
        let signed = blob.slice(0, total - ConfigLayout.signatureSize)
        var s = ConfigReader(signed)
        _ = try s.take(ConfigLayout.configHeaderSize, .configHeader)
        let policyBytes = try section(&s, ConfigLayout.sectionPolicy)
        let namesBytes = try section(&s, ConfigLayout.sectionDeviceNames)
        let recipientBytes = try section(&s, ConfigLayout.sectionRecipients)
        let instrumentBytes = try section(&s, ConfigLayout.sectionInstrument)
        let decoyBytes = try section(&s, ConfigLayout.sectionDecoy)
        if s.remaining != 0 { throw .invalidValue(field: .trailingBytes, offset: s.absolute) }

        var policy = try decodePolicy(policyBytes)
        policy.recipients = try decodeRecipients(recipientBytes)
        let names = try decodeNames(namesBytes)
        guard instrumentBytes.reader.remaining > 0 else {
            throw .invalidValue(field: .instrument, offset: instrumentBytes.reader.absolute)
        }
        guard decoyBytes.reader.remaining > 0 else {
            throw .invalidValue(field: .decoyInstrument, offset: decoyBytes.reader.absolute)
        }
        return DeviceConfig(version: version, provisioningKey: key, pinMaterialHash: hash, deviceNames: names,
                            instrument: [UInt8](instrumentBytes.reader.bytes), decoy: [UInt8](decoyBytes.reader.bytes),
                            policy: policy)
    }

    /// A section's value, checked to be the one expected at this point.
    private struct Section { var reader: ConfigReader }

    private static func section(_ s: inout ConfigReader, _ type: UInt16) throws(ConfigFormatError) -> Section {
        let at = s.absolute
        let found = try s.u16(.section)
        guard found == type else { throw .invalidValue(field: .sectionOrder, offset: at) }
        try s.reserved(2, .section)
        let length = try s.length(.section)
        let valueAt = s.absolute
        let value = try s.take(length, .section)
        return Section(reader: ConfigReader(value, base: valueAt))
    }

    private static func decodePolicy(_ section: Section) throws(ConfigFormatError) -> SafetyPolicy {
        var r = section.reader
        let maxFailures = try r.u32(.policy)
        let showLeft = try r.flag(.policy)
        let control = try r.flag(.policy)
        let actionAt = r.absolute
        guard let action = QuickExitAction(rawValue: try r.u8(.policyAction)) else {
            throw .invalidValue(field: .policyAction, offset: actionAt)
        }
        let hasButton = try r.flag(.policyButton)
        let button = try r.u16(.policyButton)
        let pressesAt = r.absolute
        let presses = Int(try r.u16(.policyButton))
        try r.reserved(4, .policy)
        let window = try r.u64(.policyButton)
        if hasButton {
            guard presses >= 2, presses <= ButtonPressWindow.capacity else {
                throw .invalidValue(field: .policyButton, offset: pressesAt)
            }
        } else if button != 0 || presses != 0 || window != 0 {
            throw .invalidValue(field: .policyButton, offset: pressesAt - 2)
        }
        let autoLock = try r.u64(.policy)
        let everyAt = r.absolute
        let every = try r.u32(.policy)
        guard every >= 1, every <= UInt32(Int32.max) else { throw .invalidValue(field: .policy, offset: everyAt) }
        let screensAt = r.absolute
        let screens = try r.u32(.policy)
        guard screens <= 1_000 else { throw .invalidValue(field: .policy, offset: screensAt) }
        let backoffAt = r.absolute
        let backoffCount = Int(try r.u16(.policyBackoff))
        guard backoffCount <= ConfigLayout.maxBackoffSteps else {
            throw .invalidValue(field: .policyBackoff, offset: backoffAt)
        }
        let chordAt = r.absolute
        let chordCount = Int(try r.u16(.policyChord))
        guard chordCount <= KeyChordDetector.capacity else { throw .invalidValue(field: .policyChord, offset: chordAt) }
        try r.reserved(4, .policy)
        guard r.remaining == backoffCount * 8 + chordCount * 2 else {
            if r.remaining < backoffCount * 8 + chordCount * 2 { throw .truncated(field: .policy, offset: r.absolute + r.remaining) }
            throw .invalidValue(field: .trailingBytes, offset: r.absolute + backoffCount * 8 + chordCount * 2)
        }
        var backoff: [UInt64] = []
        backoff.reserveCapacity(backoffCount)
        var i = 0
        while i < backoffCount {
            backoff.append(try r.u64(.policyBackoff))
            i += 1
        }
        var chord: [UInt16] = []
        i = 0
        while i < chordCount {
            chord.append(try r.u16(.policyChord))
            i += 1
        }
        return SafetyPolicy(maxFailures: maxFailures, backoffMilliseconds: backoff, showAttemptsLeft: showLeft,
                            duress: nil, quickExitControl: control,
                            quickExitButton: hasButton ? ButtonTrigger(button: button, presses: presses,
                                                                       windowMilliseconds: window) : nil,
                            quickExitChord: chord, quickExitAction: action, autoLockMilliseconds: autoLock,
                            checkpointEveryAnswers: Int(every), decoyScreensIn: Int(screens), recipients: [])
    }

    private static func decodeRecipients(_ section: Section) throws(ConfigFormatError) -> [UInt8] {
        var r = section.reader
        let countAt = r.absolute
        let n = Int(try r.u16(.recipients))
        guard n >= 1, n <= ConfigLayout.maxRecipients else { throw .invalidValue(field: .recipients, offset: countAt) }
        try r.reserved(2, .recipients)
        let keys = try r.array(n * CryptoSizes.x25519, .recipients)
        if r.remaining != 0 { throw .invalidValue(field: .trailingBytes, offset: r.absolute) }
        return keys
    }

    private static func decodeNames(_ section: Section) throws(ConfigFormatError) -> [DeviceName] {
        var r = section.reader
        let countAt = r.absolute
        let n = Int(try r.u16(.deviceNames))
        guard n <= ConfigLayout.maxDeviceNames else { throw .invalidValue(field: .deviceNames, offset: countAt) }
        try r.reserved(2, .deviceNames)
        var names: [DeviceName] = []
        var i = 0
        while i < n {
            let hasID = try r.flag(.deviceName)
            let idAt = r.absolute
            let id = try r.array(16, .deviceName)
            if !hasID {
                var j = 0
                while j < 16 {
                    if id[j] != 0 { throw .invalidValue(field: .deviceName, offset: idAt + j) }
                    j += 1
                }
            }
            let lengthAt = r.absolute
            let length = Int(try r.u8(.deviceName))
            guard length >= 1, length <= ConfigLayout.maxNameBytes else {
                throw .invalidValue(field: .deviceName, offset: lengthAt)
            }
            let textAt = r.absolute
            let text = try r.take(length, .deviceName)
            if let bad = UTF8Validation.firstInvalid(text) { throw .invalidValue(field: .deviceName, offset: textAt + bad) }
            names.append(DeviceName(deviceID: hasID ? id : nil, name: [UInt8](text)))
            i += 1
        }
        if r.remaining != 0 { throw .invalidValue(field: .trailingBytes, offset: r.absolute) }
        return names
    }
}

/// The provisioning signature over a CONFIG blob (Docs/config-format.md §2.7).
public enum ConfigSignature<C: CryptoSuite> {
    /// Ed25519 over `"haven config signature v1\0" ‖ CONFIG[0 ..< L − 64]`
    /// with `publicKey` (the pinned key, or the carried one on first install).
    public static func verify(config blob: UnsafeRawBufferPointer, publicKey: UnsafeRawBufferPointer) -> Bool {
        guard blob.count > ConfigLayout.signatureSize, publicKey.count == CryptoSizes.ed25519PublicKey else {
            return false
        }
        let bodyCount = blob.count - ConfigLayout.signatureSize
        return label(ConfigLayout.signatureLabel) { prefix -> Bool in
            let message = UnsafeMutableRawBufferPointer.allocate(byteCount: prefix.count + bodyCount, alignment: 8)
            defer { message.deallocate() }
            message.copy(prefix, to: 0)
            message.copy(blob.slice(0, bodyCount), to: prefix.count)
            return C.ed25519Verify(signature: blob.slice(bodyCount, ConfigLayout.signatureSize),
                                   message: UnsafeRawBufferPointer(message), publicKey: publicKey)
        }
    }

    /// The message a signer signs for `unsigned` (CONFIG without signature).
    public static func message(unsigned: [UInt8]) -> [UInt8] {
        ConfigLayout.signatureDomain + unsigned
    }
}
