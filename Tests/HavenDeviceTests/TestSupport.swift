import Foundation

/// A fresh temporary directory, removed when the body returns or throws.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("haven-device-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The package root, found from this source file's path.
let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // HavenDeviceTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // package root
    .path
