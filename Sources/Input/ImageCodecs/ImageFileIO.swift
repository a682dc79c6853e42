import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading image files whole and writing them so that a reader (or a crash) never sees
/// half a file: bytes go to a temporary name in the target folder, then `rename(2)`
/// replaces the target in one step.
enum ImageFileIO {
    static func read(_ url: URL, format: ImageFileFormat) throws -> Data {
        do {
            // Read, not mapped: a file truncated while mapped would fault (SIGBUS) instead of throwing.
            return try Data(contentsOf: url)
        } catch {
            throw ImageCodecError(format: format, kind: .io, reason: "cannot read file (\(Self.describe(error)))",
                                  path: url.path)
        }
    }

    static func writeAtomically(_ data: Data, to url: URL, format: ImageFileFormat) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ what: String) -> ImageCodecError {
            ImageCodecError(format: format, kind: .io, reason: "\(what): \(String(cString: strerror(errno)))",
                            path: url.path)
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create temporary file") }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                offset += n
            }
        }
        if !ok {
            let error = fail("cannot write")
            close(fd)
            unlink(temporary)
            throw error
        }
        if close(fd) != 0 {
            let error = fail("cannot close")
            unlink(temporary)
            throw error
        }
        if rename(temporary, url.path) != 0 {
            let error = fail("cannot rename into place")
            unlink(temporary)
            throw error
        }
    }

    private static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }
}
