// BoardProfile: the per-board facts (flash geometry, RAM budget, KDF cost,
// button map, capacities) read from Hardware/boards/<name>.json.

import Foundation
import HavenCore

/// One board, as described by a JSON file in `Hardware/boards/`.
///
/// ```json
/// {
///   "name": "sim",
///   "description": "…",
///   "flash": { "programUnit": 16, "eraseBlockSize": 65536, "blockCount": 256, "endurance": 100000 },
///   "ramBudgetBytes": 268435456,
///   "kdf": { "argon2Iterations": 3, "argon2MemoryKiB": 65536 },
///   "buttons": { "quickExit": "F12", "lock": "F11", "next": "Right", "previous": "Left", "select": "Enter" },
///   "repeatCapacity": 50,
///   "linux": { "flash": "/dev/disk/by-partlabel/haven", "secret": "/var/lib/haven/device.secret",
///              "input": ["/dev/input/by-path/platform-gpio-keys-event"] }
/// }
/// ```
///
/// `linux` is optional (Linux boards running haven-device only).
public struct BoardProfile: Codable, Equatable, Sendable {
    /// Raw flash part (see `FlashGeometry` for the constraints).
    public struct FlashSpec: Codable, Equatable, Sendable {
        /// Smallest programmable region and program alignment, in bytes.
        public var programUnit: Int
        /// Erase block size in bytes.
        public var eraseBlockSize: Int
        /// Number of erase blocks.
        public var blockCount: Int
        /// Rated erase cycles per block.
        public var endurance: Int

        public init(programUnit: Int, eraseBlockSize: Int, blockCount: Int, endurance: Int) {
            self.programUnit = programUnit
            self.eraseBlockSize = eraseBlockSize
            self.blockCount = blockCount
            self.endurance = endurance
        }
    }

    /// Argon2id cost for the PIN-derived key (chosen per board for ~1 s).
    public struct KDFSpec: Codable, Equatable, Sendable {
        public var argon2Iterations: Int
        public var argon2MemoryKiB: Int

        public init(argon2Iterations: Int, argon2MemoryKiB: Int) {
            self.argon2Iterations = argon2Iterations
            self.argon2MemoryKiB = argon2MemoryKiB
        }

        /// Memory cost in bytes, as `CryptoSuite.argon2id` takes it.
        public var argon2MemoryBytes: UInt32 { UInt32(clamping: argon2MemoryKiB * 1024) }
    }

    /// Names of the physical keys or buttons bound to actions. The names are
    /// whatever the board's input driver reports (Linux `KEY_*` codes on a
    /// tablet, key names in the simulator's terminal, switch names on an MCU).
    public struct Buttons: Codable, Equatable, Sendable {
        /// The one-gesture switch to the decoy questionnaire. Required.
        public var quickExit: String
        public var lock: String?
        public var next: String?
        public var previous: String?
        public var select: String?

        public init(quickExit: String, lock: String? = nil, next: String? = nil,
                    previous: String? = nil, select: String? = nil) {
            self.quickExit = quickExit
            self.lock = lock
            self.next = next
            self.previous = previous
            self.select = select
        }
    }

    /// Where a Linux board keeps Haven's parts (haven-device). Optional:
    /// absent on the simulator and MCU profiles.
    public struct LinuxDevices: Codable, Equatable, Sendable {
        /// The raw partition or MTD block device used as Haven's flash
        /// (`--image` overrides it), e.g. `/dev/disk/by-partlabel/haven`.
        public var flash: String?
        /// The device secret file (default: `<flash>.secret`); on a board
        /// with a secure element, where the unsealed secret is made available.
        public var secret: String?
        /// evdev devices to read buttons, keypad and touch from
        /// (`/dev/input/by-path/...-event` names survive reordering).
        public var input: [String]?

        public init(flash: String? = nil, secret: String? = nil, input: [String]? = nil) {
            self.flash = flash
            self.secret = secret
            self.input = input
        }
    }

    public var name: String
    public var description: String
    public var flash: FlashSpec
    /// RAM the Haven runtime may use on this board, in bytes (KDF included).
    public var ramBudgetBytes: Int
    public var kdf: KDFSpec
    public var buttons: Buttons
    /// Maximum number of repeat-group instances an interview may create.
    public var repeatCapacity: Int
    /// Linux device paths (haven-device); nil elsewhere.
    public var linux: LinuxDevices?

    public init(name: String, description: String, flash: FlashSpec, ramBudgetBytes: Int,
                kdf: KDFSpec, buttons: Buttons, repeatCapacity: Int, linux: LinuxDevices? = nil) {
        self.linux = linux
        self.name = name
        self.description = description
        self.flash = flash
        self.ramBudgetBytes = ramBudgetBytes
        self.kdf = kdf
        self.buttons = buttons
        self.repeatCapacity = repeatCapacity
    }

    /// The flash geometry, checked against `FlashGeometry`'s constraints.
    public func geometry() throws(BoardProfileError) -> FlashGeometry {
        do {
            return try FlashGeometry(programUnit: flash.programUnit,
                                     eraseBlockSize: flash.eraseBlockSize,
                                     blockCount: flash.blockCount)
        } catch {
            throw .invalid(path: name, reason:
                "flash geometry programUnit=\(flash.programUnit) eraseBlockSize=\(flash.eraseBlockSize) "
                + "blockCount=\(flash.blockCount) breaks the rules (programUnit a power of two <= 4096, "
                + "eraseBlockSize a multiple of it <= 16 MiB, 1 <= blockCount <= 1048576)")
        }
    }

    /// Checks every field, not only the geometry. `path` names the source in
    /// errors. `load` calls this; call it yourself for a profile built in code.
    public func validate(path: String? = nil) throws(BoardProfileError) {
        let source = path ?? name
        func fail(_ reason: String) -> BoardProfileError { .invalid(path: source, reason: reason) }
        do {
            _ = try geometry()
        } catch .invalid(_, let reason) {
            throw fail(reason)
        } catch {
            throw error
        }
        guard !name.isEmpty else { throw fail("name is empty") }
        guard flash.endurance >= 1 else { throw fail("flash.endurance must be at least 1") }
        guard ramBudgetBytes > 0 else { throw fail("ramBudgetBytes must be positive") }
        guard kdf.argon2Iterations >= 1, kdf.argon2Iterations <= 1 << 20 else {
            throw fail("kdf.argon2Iterations must be between 1 and 1048576")
        }
        // Argon2id needs at least 8 KiB; UInt32 bytes is the CryptoSuite limit.
        guard kdf.argon2MemoryKiB >= 8, kdf.argon2MemoryKiB <= 4 * 1024 * 1024 - 1 else {
            throw fail("kdf.argon2MemoryKiB must be between 8 and 4194303")
        }
        guard kdf.argon2MemoryKiB * 1024 <= ramBudgetBytes else {
            throw fail("kdf.argon2MemoryKiB (\(kdf.argon2MemoryKiB) KiB) does not fit in ramBudgetBytes (\(ramBudgetBytes))")
        }
        guard !buttons.quickExit.isEmpty else { throw fail("buttons.quickExit is empty") }
        guard repeatCapacity >= 1 else { throw fail("repeatCapacity must be at least 1") }
    }
}

/// Why a board profile could not be found or used. Every case names the file.
public enum BoardProfileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist.
    case missingFile(path: String)
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON, or misses a field, or has a wrong type.
    case malformed(path: String, reason: String)
    /// The JSON decoded but a value is out of range (geometry, KDF, budget…).
    case invalid(path: String, reason: String)
    /// No `Hardware/boards` folder was found; `searched` lists where we looked.
    case boardsDirectoryNotFound(searched: [String])
    /// No profile with that name; `available` lists the ones that exist.
    case unknownBoard(name: String, directory: String, available: [String])

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "board profile \(path) does not exist"
        case .unreadable(let path, let reason):
            return "cannot read board profile \(path): \(reason)"
        case .malformed(let path, let reason):
            return "board profile \(path) is malformed: \(reason)"
        case .invalid(let path, let reason):
            return "board profile \(path) is invalid: \(reason)"
        case .boardsDirectoryNotFound(let searched):
            return "cannot find the Hardware/boards folder (looked in: \(searched.joined(separator: ", "))); "
                + "pass its path explicitly or set HAVEN_HARDWARE to the Hardware folder"
        case .unknownBoard(let name, let directory, let available):
            return "no board profile named '\(name)' in \(directory) (available: \(available.joined(separator: ", ")))"
        }
    }
}

extension BoardProfile {
    /// Environment variable naming the `Hardware` folder.
    public static let hardwareEnvironmentVariable = "HAVEN_HARDWARE"

    /// Decodes and validates one profile file.
    public static func load(path: String) throws(BoardProfileError) -> BoardProfile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .missingFile(path: path)
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "it is a directory") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: String(describing: error))
        }
        return try decode(data, path: path)
    }

    /// Decodes and validates a profile from JSON bytes; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws(BoardProfileError) -> BoardProfile {
        let profile: BoardProfile
        do {
            profile = try JSONDecoder().decode(BoardProfile.self, from: data)
        } catch let error as DecodingError {
            var reason = describe(error)
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
               let syntax = syntaxError(in: data) {
                reason += " " + syntax
            }
            throw .malformed(path: path, reason: reason)
        } catch {
            throw .malformed(path: path, reason: String(describing: error))
        }
        try profile.validate(path: path)
        return profile
    }

    /// Loads `<boards>/<name>.json`, with the boards folder found by
    /// `boardsDirectory(explicit:)`.
    public static func load(
        named name: String,
        hardwareDirectory: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(BoardProfileError) -> BoardProfile {
        let directory = try boardsDirectory(explicit: hardwareDirectory, environment: environment,
                                            currentDirectory: currentDirectory)
        let file = directory + "/" + name + ".json"
        guard FileManager.default.fileExists(atPath: file) else {
            throw .unknownBoard(name: name, directory: directory, available: (try? profilePaths(in: directory))?
                .map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } ?? [])
        }
        return try load(path: file)
    }

    /// Paths of every `*.json` file in a boards folder, sorted.
    public static func profilePaths(in directory: String) throws(BoardProfileError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .unreadable(path: directory, reason: String(describing: error))
        }
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
    }

    /// Loads every profile in a boards folder (the first bad one throws).
    public static func loadAll(in directory: String) throws(BoardProfileError) -> [BoardProfile] {
        var profiles: [BoardProfile] = []
        for path in try profilePaths(in: directory) {
            profiles.append(try load(path: path))
        }
        return profiles
    }

    /// Finds the `Hardware/boards` folder, in this order:
    /// 1. `explicit`: a `Hardware` folder (its `boards` subfolder is used) or a
    ///    boards folder itself;
    /// 2. `$HAVEN_HARDWARE` (the `Hardware` folder; `boards` inside it);
    /// 3. `Hardware/boards` in `currentDirectory` or any of its parents;
    /// 4. `Hardware/boards` in the folder of the running executable or any
    ///    of its parents (a build in `.build/debug` of a checkout finds the
    ///    checkout's, whatever the current directory).
    public static func boardsDirectory(
        explicit: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
    ) throws(BoardProfileError) -> String {
        func isDirectory(_ path: String) -> Bool {
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
        }
        if let explicit {
            let nested = explicit + "/boards"
            if isDirectory(nested) { return nested }
            if isDirectory(explicit) { return explicit }
            throw .boardsDirectoryNotFound(searched: [nested, explicit])
        }
        var searched: [String] = []
        if let hardware = environment[hardwareEnvironmentVariable], !hardware.isEmpty {
            let nested = hardware + "/boards"
            if isDirectory(nested) { return nested }
            // An explicit setting that is wrong is an error, not a hint to search.
            throw .boardsDirectoryNotFound(searched: ["$\(hardwareEnvironmentVariable)=\(hardware) → \(nested)"])
        }
        var starts = [URL(fileURLWithPath: currentDirectory).standardizedFileURL]
        if let executablePath, executablePath.hasPrefix("/") {
            starts.append(URL(fileURLWithPath: executablePath).deletingLastPathComponent().standardizedFileURL)
        }
        for start in starts {
            var directory = start
            while true {
                let candidate = directory.appendingPathComponent("Hardware/boards").path
                searched.append(candidate)
                if isDirectory(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw .boardsDirectoryNotFound(searched: searched)
    }

    /// JSONSerialization's description of a syntax error ("Invalid value
    /// around character 16."), which JSONDecoder does not report.
    static func syntaxError(in data: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return nil
        } catch {
            return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        }
    }

    /// A one-line explanation of a decoding failure with the JSON key path.
    static func describe(_ error: DecodingError) -> String {
        func keyPath(_ path: [any CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return text.isEmpty ? "top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = keyPath(context.codingPath)
            return "missing field '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(keyPath(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(keyPath(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            var text = context.debugDescription
            if let underlying = context.underlyingError {
                let detail = (underlying as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                    ?? String(describing: underlying)
                text += " (\(detail))"
            }
            return context.codingPath.isEmpty ? text : "\(keyPath(context.codingPath)): \(text)"
        @unknown default:
            return String(describing: error)
        }
    }
}
