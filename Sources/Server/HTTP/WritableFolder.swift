import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A folder the server writes files into (the uploads), made ready at start-up: created if
/// missing, and shown to be writable by creating and removing a file in it. Permissions
/// alone do not tell (root ignores them; a read-only mount or a full disk do not show in
/// them), and a folder found unwritable only at the first photo costs every photo a 500.
enum WritableFolder {
    /// Why a folder cannot be used, as the end of a sentence naming it.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates `path` if needed and checks that a file can be created in it.
    static func prepare(_ path: String) throws(Problem) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw Problem(description: "is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Problem(description: "cannot be created (\(reason(error)))")
        }
        try probe(path)
    }

    /// Creates and removes a hidden file: the one check that holds for every user and mount.
    static func probe(_ path: String) throws(Problem) {
        let probePath = (path as NSString).appendingPathComponent(".write-probe-" + UUID().uuidString.lowercased())
        let descriptor = open(probePath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw Problem(description: "cannot be written (\(String(cString: strerror(errno))))")
        }
        close(descriptor)
        unlink(probePath)
    }

    /// The system's reason behind a Foundation file error ("Permission denied"), not its code.
    static func reason(_ error: Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
        return error.localizedDescription
    }
}
