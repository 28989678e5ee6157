import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The advisory lock (`flock`) a server holds on a photo's staging file while the photo
/// arrives, until it is saved under its public name or thrown away.
///
/// It is how a starting server tells leftovers from uploads in progress: the kernel drops
/// the lock when its process ends, a crash or `kill -9` included, so an unlocked staging
/// file is one nobody will finish, while a locked one is still arriving at another server
/// sharing the folder. (Linux's NFS client forwards `flock` to the server as a byte-range
/// lock, so a shared folder on NFS keeps working.)
struct StagingLock: Sendable {
    /// Keeps the lock; writes go through a duplicate (see ``writingDescriptor()``).
    private let descriptor: Int32

    /// Creates `path` (it must not exist) and locks it. Nil when that fails, or when a
    /// starting server's sweep removed the new file before it was locked (the caller then
    /// tries another name); no file is left behind either way.
    static func create(at path: String) -> StagingLock? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        // Between `open` and `flock` a sweep may have taken the unlocked file for a leftover
        // and unlinked it (or be about to): then no name leads to what we would write.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fstat(descriptor, &status) == 0, status.st_nlink > 0 else {
            unlink(path)
            close(descriptor)
            return nil
        }
        return StagingLock(descriptor: descriptor)
    }

    /// A new descriptor for writing the file. Closing it keeps the lock, which belongs to
    /// the open file both descriptors share until ``release()`` closes the last one.
    func writingDescriptor() -> Int32 {
        dup(descriptor)
    }

    /// Gives the lock up. Call once, after the file was moved or removed.
    func release() {
        close(descriptor)
    }

    /// Removes every file in `directory` whose name starts with `prefix` and that no process
    /// holds locked.
    static func removeAbandoned(in directory: String, prefix: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            let path = (directory as NSString).appendingPathComponent(name)
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { continue }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(descriptor)
        }
    }
}
